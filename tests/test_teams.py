"""`valueclock teams`: who holds the clock, passes it, gets it back, delivers value."""

from __future__ import annotations

import csv
import io
import json

import pytest

import valueclock
from tests.conftest import SEED_EXAMPLE, by, write_log
from valueclock.engine.teams import TEAM_COLUMNS


def teams(m) -> dict[str, dict]:
    return by(m.team_stats, "team")


def test_article_example_per_team():
    t = teams(valueclock.measure(SEED_EXAMPLE))
    assert list(t) == ["Engineering", "Support", "Professional Services", "Marketing"]
    sup, eng = t["Support"], t["Engineering"]
    assert (sup["cases"], sup["hours"], sup["smile_hours"]) == (1, 5.0, 5.0)
    assert sup["smile_share"] == pytest.approx(5 / 29) and sup["hours_share"] == \
        pytest.approx(5 / 29)
    assert eng["smile_share"] == pytest.approx(24 / 29)
    # Support -> Engineering -> Support: one pass each way, and the clock came back to
    # Support. The handoff from Support to Support ("Reproducing") is not a pass.
    assert (sup["passes_in"], sup["passes_out"], sup["ping_pong_cases"]) == (1, 1, 1)
    assert (eng["passes_in"], eng["passes_out"], eng["ping_pong_cases"]) == (1, 1, 0)
    assert sup["median_hours_per_case"] == 5.0 and sup["open_cases"] == 0
    mkt, ps = t["Marketing"], t["Professional Services"]
    assert (mkt["value_events_before"], mkt["first_value_before_accounts"],
            mkt["median_ttv_before_days"]) == (1, 1, -10.0)
    assert (ps["value_events_after"], ps["first_value_after_accounts"],
            ps["median_ttv_after_days"]) == (1, 1, 20.0)
    assert mkt["cases"] == 0 and mkt["hours"] == 0.0 and mkt["median_hours_per_case"] is None
    assert eng["value_events_after"] == 0 and eng["median_ttv_after_days"] is None


def test_passes_ping_pong_open_cases_and_medians(journey):
    m = journey("""
        a,2026-01-01T00:00:00Z,interruption,C1,Support,
        a,2026-01-01T02:00:00Z,handoff,C1,Engineering,
        a,2026-01-01T06:00:00Z,handoff,C1,Support,
        a,2026-01-01T07:00:00Z,handoff,C1,Engineering,
        a,2026-01-01T08:00:00Z,smile,C1,,
        a,2026-01-02T00:00:00Z,interruption,C2,Support,
        a,2026-01-02T01:00:00Z,smile,C2,,
        a,2026-01-02T05:00:00Z,handoff,C2,Billing,
        a,2026-01-02T06:00:00Z,reopen,C2,,
        a,2026-01-02T09:00:00Z,smile,C2,,
        a,2026-01-02T10:00:00Z,handoff,C2,Engineering,
        a,2026-01-03T00:00:00Z,interruption,C3,Billing,
    """, as_of="2026-01-03T12:00:00Z")
    t = teams(m)
    sup, eng, bil = t["Support"], t["Engineering"], t["Billing"]
    # C1: S 2h, E 4h, S 1h, E 1h. C2: S 1h, (smile, handoff to Billing while stopped),
    # reopen: Billing 3h; the handoff after the final smile moves no clock. C3 open: 12 h.
    assert (sup["cases"], sup["hours"], sup["median_hours_per_case"]) == (2, 4.0, 2.0)
    assert (eng["cases"], eng["hours"]) == (1, 5.0)
    assert (bil["cases"], bil["open_cases"], bil["hours"]) == (2, 1, 15.0)
    assert bil["smile_hours"] == 3.0 and bil["median_hours_per_case"] == 7.5
    assert (sup["passes_in"], sup["passes_out"]) == (1, 3)
    assert (eng["passes_in"], eng["passes_out"]) == (2, 1)
    assert (bil["passes_in"], bil["passes_out"]) == (1, 0)
    assert (sup["ping_pong_cases"], eng["ping_pong_cases"], bil["ping_pong_cases"]) == (1, 1, 0)
    # Shares: smile share over resolved cases (C1 8 h + C2 4 h), hours share over all.
    assert sup["smile_share"] == pytest.approx(4 / 12)
    assert bil["hours_share"] == pytest.approx(15 / 24)
    assert sum(r["passes_in"] for r in t.values()) == sum(r["passes_out"] for r in t.values())


def test_a_pass_in_and_straight_out_touches_the_case(journey):
    m = journey("""
        a,2026-01-01T00:00:00Z,interruption,C1,,
        a,2026-01-01T00:00:00Z,handoff,C1,Support,
        a,2026-01-01T01:00:00Z,handoff,C1,Engineering,
        a,2026-01-01T01:00:00Z,handoff,C1,Support,
        a,2026-01-01T03:00:00Z,smile,C1,,
    """)
    t = teams(m)
    assert (t["Unassigned"]["cases"], t["Unassigned"]["hours"],
            t["Unassigned"]["passes_out"]) == (1, 0.0, 1)
    assert (t["Engineering"]["cases"], t["Engineering"]["hours"]) == (1, 0.0)
    assert t["Support"]["ping_pong_cases"] == 1 and t["Support"]["hours"] == 3.0


def test_value_teams_first_value_lookback_prospects_and_ties(journey):
    m = journey("""
        a,2026-01-01T00:00:00Z,value,,Marketing,
        a,2026-01-09T00:00:00Z,value,,Sales,
        a,2026-01-11T00:00:00Z,sale,,Sales,
        a,2026-01-15T00:00:00Z,value,,Onboarding,
        a,2026-01-15T00:00:00Z,value,,Success,
        b,2026-01-05T00:00:00Z,sale,,Sales,
        b,2026-01-05T00:00:00Z,value,,,
        c,2026-01-07T00:00:00Z,value,,Marketing,
    """, lookback_days=5)
    t = teams(m)
    # a: Marketing's value is 10 days before the sale, outside the 5-day lookback, so the
    # first value before the sale is Sales' (-2 days); it still counts as an event before.
    assert (t["Marketing"]["value_events_before"], t["Marketing"]["prospect_value_events"],
            t["Marketing"]["first_value_before_accounts"]) == (1, 1, 0)
    assert (t["Sales"]["first_value_before_accounts"], t["Sales"]["median_ttv_before_days"]) \
        == (1, -2.0)
    # Two values at the same moment: the one read first is the first value.
    assert (t["Onboarding"]["first_value_after_accounts"],
            t["Onboarding"]["median_ttv_after_days"]) == (1, 4.0)
    assert t["Success"]["first_value_after_accounts"] == 0
    assert t["Success"]["value_events_after"] == 1
    # A value at the moment of the sale is after it; no team: Unassigned.
    assert t["Unassigned"]["first_value_after_accounts"] == 1
    assert t["Unassigned"]["median_ttv_after_days"] == 0.0
    accounts = by(m.accounts, "account_id")
    assert accounts["a"]["ttv_before_days"] == -2.0 and accounts["a"]["ttv_after_days"] == 4.0


def test_team_stats_agree_with_holds_and_cases_on_the_demo_company():
    from valueclock import demo

    company = demo.generate(seed=5, accounts=200)
    m = valueclock.measure(company.events)
    t = m.team_stats.to_pandas().set_index("team")
    holds = m.holds.to_pandas()
    cases = m.cases.to_pandas()
    per_team = holds.groupby("team")["hours"].sum()
    assert (t.loc[per_team.index, "hours"] - per_team).abs().max() < 1e-6
    assert (t.loc[per_team.index, "cases"] >= holds.groupby("team").size()).all()
    assert t["smile_hours"].sum() == pytest.approx(cases["smile_hours"].sum())
    assert t["smile_share"].sum() == pytest.approx(1.0)
    assert t["passes_in"].sum() == t["passes_out"].sum()
    values = company.events.to_pandas()
    assert t["value_events_before"].sum() + t["value_events_after"].sum() + \
        t["prospect_value_events"].sum() == (values["kind"] == "value").sum()
    acc = m.accounts.to_pandas()
    assert t["first_value_after_accounts"].sum() == acc["value_reached"].sum()
    assert t["first_value_before_accounts"].sum() == acc["first_value_before_at"].notna().sum()


def test_teams_command_csv_json_and_text(tmp_path):
    from tests.test_cli import run

    rows = list(csv.reader(io.StringIO(run("teams", SEED_EXAMPLE, "--format", "csv").stdout)))
    assert rows[0] == list(TEAM_COLUMNS)
    assert rows[1][:4] == ["Engineering", "1", "0", "24.0"]
    data = json.loads(run("teams", SEED_EXAMPLE, "--format", "json").stdout)
    assert set(data) == {"as_of", "lookback_days", "calendar", "scale", "teams"}
    assert data["as_of"] == "2026-02-11T13:00:00Z" and data["calendar"] is None
    assert [r["team"] for r in data["teams"]][:2] == ["Engineering", "Support"]
    assert set(data["teams"][0]) == set(TEAM_COLUMNS)
    assert data["teams"][3]["median_hours_per_case"] is None
    text = run("teams", SEED_EXAMPLE).stdout
    for words in ("Who holds the clock", "Who delivers value", "Engineering",
                  "Professional Services", "ping-"):
        assert words in text, words
    assert "…" not in text
    path = write_log(tmp_path / "e.csv", "a,2026-01-01T00:00:00Z,sale,,,")
    empty = run("teams", path).stdout
    assert "No case has been held" in empty


def test_every_column_key_and_option_is_documented():
    from tests.conftest import REPO
    from tests.test_cli import run

    doc = (REPO / "docs" / "teams-calendar-whatif.md").read_text()
    for name in (*TEAM_COLUMNS, "as_of", "lookback_days", "calendar", "scale", "today",
                 "whatif"):
        assert f"`{name}`" in doc, name
    for option in ("--team", "--scale", "--calendar", "--format", "--accounts", "--as-of",
                   "--timezone", "--lookback-days", "--stat"):
        assert option in doc, option
    calendar_doc = (REPO / "docs" / "calendar.md").read_text()
    for key in ("timezone", "holidays", "[hours]", "[teams.NAME]", "source", "24:00"):
        assert key in calendar_doc, key
    assert "--calendar" in " ".join(run("teams", "--help").stdout.split())
