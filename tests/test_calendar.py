"""Business hours (--calendar): reading the file, and journeys computed by hand across a
weekend, a holiday, lunch breaks and both daylight-saving changes of Europe/Amsterdam."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta

import pytest

import valueclock
from tests.conftest import REPO, SEED_EXAMPLE, by, one, write_log
from valueclock.calendar import Calendar
from valueclock.errors import InputError

EXAMPLE = REPO / "docs" / "examples" / "calendar.toml"

OFFICE = """
timezone = "Europe/Amsterdam"
holidays = ["2026-12-25", "2026-12-26"]
[hours]
mon = ["09:00-17:00"]
tue = ["09:00-12:00", "13:00-17:00"]
wed = ["09:00-17:00"]
thu = ["09:00-17:00"]
fri = ["09:00-17:00"]
"""

ALL_DAY = "\n".join(f'{d} = ["00:00-24:00"]' for d in
                    ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))

WITH_TEAMS = OFFICE + f"""
[teams.Engineering]
timezone = "UTC"
holidays = []
[teams.Engineering.hours]
{ALL_DAY}

[teams.Amsterdam24]
[teams.Amsterdam24.hours]
{ALL_DAY}
"""


def cal(text: str = OFFICE) -> Calendar:
    return Calendar.loads(text, source="test.toml")


def case_of(journey, rows: str, calendar: str = OFFICE, **options) -> dict:
    return one(journey(rows, calendar=cal(calendar), **options).cases)


# --- hand-computed journeys -------------------------------------------------------------

def test_weekend_is_closed(journey):
    # Fri 2026-03-06 15:00 CET -> Mon 2026-03-09 11:00 CET: Fri 2 h + Mon 2 h.
    c = case_of(journey, """
        a,2026-03-06T14:00:00Z,interruption,C1,Support,
        a,2026-03-09T10:00:00Z,smile,C1,,
    """)
    assert c["smile_hours"] == 4.0
    assert c["elapsed_hours"] == 4.0


def test_calendar_hours_stay_the_default(journey):
    c = one(journey("""
        a,2026-03-06T14:00:00Z,interruption,C1,Support,
        a,2026-03-09T10:00:00Z,smile,C1,,
    """).cases)
    assert c["smile_hours"] == 68.0


def test_holiday_is_closed_all_day(journey):
    # Thu 2026-12-24 16:00 CET -> Mon 2026-12-28 10:00 CET: Thu 1 h, Fri 25th holiday,
    # weekend, Mon 1 h.
    c = case_of(journey, """
        a,2026-12-24T15:00:00Z,interruption,C1,Support,
        a,2026-12-28T09:00:00Z,smile,C1,,
    """)
    assert c["smile_hours"] == 2.0


def test_lunch_break_and_outside_hours(journey):
    # Tue 2026-03-03 11:00-14:00 CET: 11-12 and 13-14 are open, 12-13 is lunch.
    m = journey("""
        a,2026-03-03T10:00:00Z,interruption,C1,Support,
        a,2026-03-03T13:00:00Z,smile,C1,,
        a,2026-03-03T20:00:00Z,interruption,C2,Support,
        a,2026-03-04T06:00:00Z,smile,C2,,
    """, calendar=cal())
    cases = by(m.cases, "case_id")
    assert cases["C1"]["smile_hours"] == 2.0
    assert cases["C2"]["smile_hours"] == 0.0      # all night: no business hours
    assert cases["C2"]["resolved"] is True


def test_spring_forward_2026_03_29(journey):
    # Fri 2026-03-27 16:00 CET (15:00Z) -> Mon 2026-03-30 10:00 CEST (08:00Z):
    # Fri 16-17 and Mon 09-10 local = 2 h. (A fixed UTC+1 would see Mon 09:00 and get 1 h.)
    c = case_of(journey, """
        a,2026-03-27T15:00:00Z,interruption,C1,Support,
        a,2026-03-30T08:00:00Z,smile,C1,,
    """)
    assert c["smile_hours"] == 2.0
    assert c["elapsed_hours"] == 2.0


def test_fall_back_2026_10_25(journey):
    # Fri 2026-10-23 16:00 CEST (14:00Z) -> Mon 2026-10-26 10:00 CET (09:00Z): 2 h.
    c = case_of(journey, """
        a,2026-10-23T14:00:00Z,interruption,C1,Support,
        a,2026-10-26T09:00:00Z,smile,C1,,
    """)
    assert c["smile_hours"] == 2.0


@pytest.mark.parametrize("start, end, hours", [
    # All of Sunday 2026-03-29 in Amsterdam is 23 real hours, of 2026-10-25 25 hours.
    ("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z", 23.0),
    ("2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z", 25.0),
    # Across the jump: 01:30 CET to 03:30 CEST is one real hour.
    ("2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z", 1.0),
])
def test_a_day_open_around_the_clock_across_dst(journey, start, end, hours):
    c = case_of(journey, f"""
        a,{start},interruption,C1,Amsterdam24,
        a,{end},smile,C1,,
    """, calendar=WITH_TEAMS)
    assert c["smile_hours"] == hours
    # Elapsed hours use the top-level calendar: closed on Sundays.
    assert c["elapsed_hours"] == 0.0


def test_each_hold_in_its_team_calendar(journey):
    # Fri 2026-03-06: Support from 15:00 CET (14:00Z) to 16:00 CET, then Engineering
    # (UTC, around the clock) until Sat 02:00Z, then back to Support until Mon 10:00 CET.
    m = journey("""
        a,2026-03-06T14:00:00Z,interruption,C1,Support,
        a,2026-03-06T15:00:00Z,handoff,C1,Engineering,
        a,2026-03-07T02:00:00Z,handoff,C1,Support,
        a,2026-03-09T09:00:00Z,smile,C1,,
    """, calendar=cal(WITH_TEAMS))
    holds = {h["team"]: h["hours"] for h in m.holds.to_pyarrow().to_pylist()}
    assert holds == {"Support": 2.0, "Engineering": 11.0}   # Support 1 h Fri + 1 h Mon
    c = one(m.cases)
    assert c["smile_hours"] == 13.0
    assert c["elapsed_hours"] == 3.0   # top level: Fri 15-17 CET, Mon 09-10 CET


def test_open_case_counts_business_hours_to_as_of(journey):
    m = journey("""
        a,2026-03-05T16:00:00Z,interruption,C1,Support,
    """, calendar=cal(), as_of="2026-03-09T12:00:00Z")
    c = one(m.cases)
    # Thu 17:00 CET is closing time; Fri 8 h; Mon 09:00-13:00 CET 4 h.
    assert c["resolved"] is False and c["open_hours"] == 12.0
    assert [h["hours"] for h in m.holds.to_pyarrow().to_pylist()] == [12.0]


def test_reopen_counts_only_unhappy_business_time(journey):
    c = case_of(journey, """
        a,2026-03-02T08:00:00Z,interruption,C1,Support,
        a,2026-03-02T10:00:00Z,smile,C1,,
        a,2026-03-03T08:00:00Z,reopen,C1,,
        a,2026-03-03T14:00:00Z,smile,C1,,
    """)
    # Mon 09-11 CET = 2 h; Tue 09-15 CET minus lunch = 5 h. Elapsed: Mon 09-17 (8 h) +
    # Tue 09-15 minus lunch (5 h).
    assert c["smile_hours"] == 7.0
    assert c["elapsed_hours"] == 13.0
    assert c["reopens"] == 1


def test_a_hold_with_no_business_hours_is_kept(journey):
    m = journey("""
        a,2026-03-06T14:00:00Z,interruption,C1,Support,
        a,2026-03-06T20:00:00Z,handoff,C1,Billing,
        a,2026-03-07T10:00:00Z,handoff,C1,Support,
        a,2026-03-09T09:00:00Z,smile,C1,,
    """, calendar=cal())
    holds = {h["team"]: h["hours"] for h in m.holds.to_pyarrow().to_pylist()}
    assert holds == {"Support": 3.0, "Billing": 0.0}


def test_article_example_in_business_hours_and_the_law(journey):
    m = valueclock.measure(SEED_EXAMPLE, calendar=EXAMPLE)
    s = m.summary()
    # Support (Mon-Fri 08-20 Amsterdam) held 09:00-09:30, 09:30-13:30 CET and 13:30-14:00
    # CET on Wednesday: 5 h; Engineering (around the clock) 24 h.
    assert {t["team"]: t["hours"] for t in s["teams"]} == {"Support": 5.0, "Engineering": 24.0}
    assert s["calendar"]["source"] == str(EXAMPLE) and s["calendar"]["timezone"] == \
        "Europe/Amsterdam"
    assert s["scale"] == {}
    # Elapsed: top level Tue 09:00-17:00 CET minus lunch (7 h) + Wed 09:00-14:00 (5 h).
    assert one(m.cases)["elapsed_hours"] == 12.0
    assert s["ttcv_text"] == "11 days, 5 hours"
    assert valueclock.measure(SEED_EXAMPLE).hours_keys() == {"calendar": None, "scale": {}}


# --- the engine against a plain walk through the events ------------------------------

def _walk(rows: list[dict], calendar: Calendar, as_of: datetime) -> dict:
    """Business hours per case and team by walking each case's events in order."""
    rank = {"interruption": 0, "handoff": 1, "smile": 2, "reopen": 3}
    us = lambda t: int((t - datetime(1970, 1, 1)).total_seconds()) * 1_000_000  # noqa: E731
    per_case = defaultdict(list)
    for i, r in enumerate(rows):
        per_case[r["case_id"]].append((r["timestamp"], rank[r["kind"]], i, r))
    out = {}
    for case, evs in per_case.items():
        evs.sort(key=lambda e: e[:3])
        running, holder, holds = False, "Unassigned", defaultdict(int)
        for k, (t, _, _, r) in enumerate(evs):
            if r["kind"] != "smile" and r["team"]:
                holder = r["team"]
            if r["kind"] != "handoff":
                running = r["kind"] != "smile"
            end = evs[k + 1][0] if k + 1 < len(evs) else as_of
            if running:
                holds[holder] += calendar.business_us(holder, us(t), us(end))
        out[case] = {team: v / 3.6e9 for team, v in holds.items()}
    return out


def test_engine_agrees_with_a_plain_walk_across_months_and_dst():
    rng = random.Random(3)
    calendar = cal(WITH_TEAMS)
    teams = ["Support", "Engineering", "Amsterdam24", "Billing", ""]
    rows = []
    for n in range(40):
        t = datetime(2026, 3, 20) + timedelta(minutes=rng.randrange(0, 60 * 24 * 230))
        case = f"C{n}"
        rows.append({"case_id": case, "timestamp": t, "kind": "interruption",
                     "team": rng.choice(teams[:-1])})
        for _ in range(rng.randrange(0, 5)):
            t += timedelta(minutes=rng.randrange(1, 60 * 80))
            kind = rng.choice(["handoff", "handoff", "smile", "reopen"])
            rows.append({"case_id": case, "timestamp": t, "kind": kind,
                         "team": rng.choice(teams) if kind != "smile" else ""})
    # Only well-formed cases: a reopen after a smile, not twice in a row.
    clean, state = [], {}
    for r in rows:
        running = state.get(r["case_id"], False)
        if r["kind"] == "reopen" and running or r["kind"] == "smile" and not running:
            continue
        if r["kind"] != "handoff":
            state[r["case_id"]] = r["kind"] != "smile"
        clean.append(r)
    as_of = max(r["timestamp"] for r in clean)
    import pyarrow as pa

    table = pa.table({
        "account_id": ["a"] * len(clean),
        "timestamp": pa.array([r["timestamp"] for r in clean], pa.timestamp("us")),
        "kind": [r["kind"] for r in clean],
        "case_id": [r["case_id"] for r in clean],
        "team": [r["team"] or None for r in clean],
        "_seq": pa.array(range(len(clean)), pa.int64()),
    })
    m = valueclock.measure(table, calendar=calendar)
    expected = _walk(clean, calendar, as_of)
    got = defaultdict(dict)
    for h in m.holds.to_pyarrow().to_pylist():
        got[h["case_id"]][h["team"]] = h["hours"]
    for case, teams_hours in expected.items():
        for team, hours in teams_hours.items():
            assert got[case].get(team, 0.0) == pytest.approx(hours, abs=1e-9), (case, team)
    # Holds add up to each case's smile or open hours, in business hours too.
    for c in m.cases.to_pyarrow().to_pylist():
        total = c["smile_hours"] if c["resolved"] else c["open_hours"]
        assert sum(got[c["case_id"]].values()) == pytest.approx(total, abs=1e-9)


def test_holds_add_up_on_the_demo_company():
    from valueclock import demo

    company = demo.generate(seed=11, accounts=150)
    m = valueclock.measure(company.events, calendar=EXAMPLE)
    cases = m.cases.to_pandas().set_index("case_id")
    held = m.holds.to_pandas().groupby("case_id")["hours"].sum()
    total = cases["smile_hours"].fillna(cases["open_hours"])
    assert len(cases) > 50
    assert (held.reindex(total.index).fillna(0.0) - total).abs().max() < 1e-9
    plain = valueclock.measure(company.events).cases.to_pandas().set_index("case_id")
    # Business hours are never more than calendar hours... except for Engineering's
    # around-the-clock UTC calendar, which is the same as calendar hours.
    assert (total <= plain["smile_hours"].fillna(plain["open_hours"]) + 1e-9).all()


# --- reading the file -----------------------------------------------------------------

def test_example_file_reads_and_teams_inherit_left_out_keys():
    c = Calendar.load(EXAMPLE)
    assert c.default.timezone == "Europe/Amsterdam"
    support = c.schedule("Support")
    assert support.timezone == "Europe/Amsterdam" and support.holidays == c.default.holidays
    assert support.hours[5] == ((600, 960),)          # Saturday 10:00-16:00
    assert c.schedule("Engineering").timezone == "UTC"
    assert c.schedule("Nobody") is c.default
    t = cal(OFFICE + '[teams.X.hours]\nsat = ["10:00-12:00"]\n').schedule("X")
    assert t.hours[0] == () and t.hours[5] == ((600, 720),)   # hours replaced as a whole


@pytest.mark.parametrize("text, words", [
    ('[hours]\nmon = ["17:00-09:00"]', "ends before it starts"),
    ('[hours]\nmon = ["9-17"]', "is not a range"),
    ('[hours]\nfunday = ["09:00-17:00"]', "unknown weekday 'funday'"),
    ('[hours]\nmon = ["09:00-25:00"]', "not a time of day"),
    ('timezone = "Mars/Olympus"\n[hours]\nmon = ["09:00-17:00"]', "not a known time zone"),
    ('holidays = ["25 Dec"]\n[hours]\nmon = ["09:00-17:00"]', "is not a date"),
    ('timezone = "UTC"', "no [hours] table"),
    ('color = "red"\n[hours]\nmon = ["09:00-17:00"]', "unknown calendar key 'color'"),
    ('[hours]\nmon = ["09:00-17:00"]\n[teams.X]\nhour = {}', "unknown key teams.X.'hour'"),
    ("[hours\n", "not a valid TOML calendar"),
])
def test_bad_calendars_say_what_is_wrong(text, words):
    with pytest.raises(InputError) as info:
        cal(text)
    assert words in str(info.value) and "test.toml" in str(info.value)


def test_toml_dates_and_24_00():
    c = cal('holidays = [2026-12-25]\n[hours]\nfri = ["16:00-24:00"]\nsat = ["00:00-02:00"]')
    fri = datetime(2026, 12, 18, 16)
    us = int((fri - datetime(1970, 1, 1)).total_seconds()) * 1_000_000
    # Fri 16:00 UTC to Sat 02:00 UTC, windows merged across midnight: 10 h.
    assert c.business_us(None, us, us + 20 * 3_600_000_000) == 10 * 3_600_000_000
    assert c.default.holidays == frozenset({datetime(2026, 12, 25).date()})


def test_cli_calendar_option_and_errors(tmp_path):
    from tests.test_cli import run

    path = write_log(tmp_path / "e.csv", """
        a,2026-03-06T14:00:00Z,interruption,C1,Support,
        a,2026-03-09T10:00:00Z,smile,C1,,
    """)
    calendar = tmp_path / "office.toml"
    calendar.write_text(OFFICE)
    out = run("cases", path, "--calendar", calendar).stdout
    assert out.splitlines()[1].split(",")[5:7] == ["4.0", "4.0"]
    assert "business hours of" in run("report", path, "--calendar", calendar).stdout
    calendar.write_text('[hours]\nmon = ["17:00-09:00"]\n')
    bad = run("holds", path, "--calendar", calendar, check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("valueclock: error: ")
    assert str(calendar) in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
