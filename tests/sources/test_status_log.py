"""The status log converter, journey by journey (see valueclock.sources.status_log)."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest
from helpers_sources import journey, log
from hypothesis import given, settings
from hypothesis import strategies as st

from valueclock.errors import InputError, UsageError
from valueclock.sources.status_log import EVENTS_SCHEMA, NO_ACCOUNT, status_log_to_events


def convert(table: pa.Table, **options):
    options.setdefault("smile", ["Resolved", "Closed"])
    names = table.column_names
    for role in ("team", "account", "start"):
        if role in names:
            options.setdefault(role, role)
    return status_log_to_events(table, case="case", time="time", status="status", **options)


def test_first_row_gives_the_interruption_with_its_team_and_status():
    r = convert(log("""
        | case | time             | status | team    | account |
        | C1   | 2024-03-01 09:00 | New    | Support | acme    |
    """))
    assert journey(r) == [("C1", "interruption", "2024-03-01 09:00", "Support", "New", "acme")]
    assert r.cases == 1 and r.rows == 1 and r.problems == []
    assert r.events.schema == EVENTS_SCHEMA


def test_team_change_gives_a_handoff_and_the_same_team_does_not():
    r = convert(log("""
        | case | time             | status  | team        | account |
        | C1   | 2024-03-01 09:00 | New     | Support     | acme    |
        | C1   | 2024-03-01 09:30 | Active  | Support     | acme    |
        | C1   | 2024-03-01 10:00 | Active  | Engineering | acme    |
        | C1   | 2024-03-02 10:00 | Active  | Engineering | acme    |
        | C1   | 2024-03-02 11:00 | Active  | Support     | acme    |
    """))
    assert [(k, t, team) for _, k, t, team, _, _ in journey(r)] == [
        ("interruption", "2024-03-01 09:00", "Support"),
        ("handoff", "2024-03-01 10:00", "Engineering"),
        ("handoff", "2024-03-02 11:00", "Support"),
    ]


def test_an_empty_team_hands_nothing_over_and_keeps_the_holder():
    r = convert(log("""
        | case | time             | status | team        |
        | C1   | 2024-03-01 09:00 | New    |             |
        | C1   | 2024-03-01 10:00 | Active | Engineering |
        | C1   | 2024-03-01 11:00 | Active |             |
        | C1   | 2024-03-01 12:00 | Active | Engineering |
        | C1   | 2024-03-01 13:00 | Active | Support     |
    """))
    assert [(k, t, team) for _, k, t, team, _, _ in journey(r)] == [
        ("interruption", "2024-03-01 09:00", None),  # nobody named yet: Unassigned
        ("handoff", "2024-03-01 10:00", "Engineering"),
        ("handoff", "2024-03-01 13:00", "Support"),
    ]


def test_entering_a_smile_status_gives_a_smile_and_leaving_it_a_reopen():
    r = convert(log("""
        | case | time             | status   |
        | C1   | 2024-03-01 09:00 | New      |
        | C1   | 2024-03-01 12:00 | Resolved |
        | C1   | 2024-03-02 09:00 | Closed   |
        | C1   | 2024-03-03 09:00 | Active   |
        | C1   | 2024-03-03 10:00 | Active   |
        | C1   | 2024-03-04 09:00 | resolved |
    """))
    assert [(k, t, label) for _, k, t, _, label, _ in journey(r)] == [
        ("interruption", "2024-03-01 09:00", "New"),
        ("smile", "2024-03-01 12:00", "Resolved"),  # Resolved -> Closed: still smiling
        ("reopen", "2024-03-03 09:00", "Active"),
        ("smile", "2024-03-04 09:00", "resolved"),  # statuses match whatever the case
    ]


def test_a_case_whose_first_row_is_already_a_smile_starts_and_smiles_at_once():
    r = convert(log("""
        | case | time             | status   |
        | C1   | 2024-03-01 09:00 | Resolved |
    """))
    assert [k for _, k, *_ in journey(r)] == ["interruption", "smile"]


def test_an_empty_status_changes_nothing():
    r = convert(log("""
        | case | time             | status   | team  |
        | C1   | 2024-03-01 09:00 | New      | A     |
        | C1   | 2024-03-01 10:00 | Resolved | A     |
        | C1   | 2024-03-01 11:00 |          | B     |
    """))
    assert [(k, team, label) for _, k, _, team, label, _ in journey(r)] == [
        ("interruption", "A", "New"), ("smile", "A", "Resolved"),
        ("handoff", "B", "Resolved"),  # the label is the status the case is in
    ]


def test_rows_are_taken_in_time_order_whatever_the_file_order():
    r = convert(log("""
        | case | time             | status   | team |
        | C1   | 2024-03-01 12:00 | Resolved | B    |
        | C1   | 2024-03-01 09:00 | New      | A    |
        | C1   | 2024-03-01 10:00 | Active   | B    |
    """))
    assert [(k, t) for _, k, t, *_ in journey(r)] == [
        ("interruption", "2024-03-01 09:00"), ("handoff", "2024-03-01 10:00"),
        ("smile", "2024-03-01 12:00")]


def test_ties_are_taken_in_file_order():
    # Same minute: the row written last is the state the case is in afterwards.
    resolved_last = convert(log("""
        | case | time             | status   | team |
        | C1   | 2024-03-01 09:00 | New      | A    |
        | C1   | 2024-03-01 10:00 | Active   | A    |
        | C1   | 2024-03-01 10:00 | Resolved | B    |
    """))
    assert [(k, team, label) for _, k, _, team, label, _ in journey(resolved_last)] == [
        ("interruption", "A", "New"), ("handoff", "B", "Resolved"), ("smile", "B", "Resolved")]
    active_last = convert(log("""
        | case | time             | status   | team |
        | C1   | 2024-03-01 09:00 | New      | A    |
        | C1   | 2024-03-01 10:00 | Resolved | B    |
        | C1   | 2024-03-01 10:00 | Active   | A    |
    """))
    assert [k for _, k, *_ in journey(active_last)] == ["interruption"]


def test_a_change_undone_within_one_instant_gives_no_events():
    # Resolved, then reopened in the same minute: the clock never stopped. Written as a
    # smile and a reopen at one timestamp, the canonical order (smile before reopen) would
    # do; but reopened then resolved again must not read as "resolved, then reopened".
    r = convert(log("""
        | case | time             | status   |
        | C1   | 2024-03-01 09:00 | New      |
        | C1   | 2024-03-01 11:00 | Resolved |
        | C1   | 2024-03-01 11:30 | Active   |
        | C1   | 2024-03-01 11:30 | Resolved |
    """))
    assert [(k, t) for _, k, t, *_ in journey(r)] == [
        ("interruption", "2024-03-01 09:00"), ("smile", "2024-03-01 11:00")]


def test_the_start_column_gives_the_interruption_time():
    r = convert(log("""
        | case | time             | status   | start            | team |
        | C1   | 2024-03-01 09:30 | New      | 2024-03-01 09:00 | A    |
        | C1   | 2024-03-01 12:00 | Resolved | 2024-03-01 09:00 | A    |
    """))
    assert [(k, t, team) for _, k, t, team, _, _ in journey(r)] == [
        ("interruption", "2024-03-01 09:00", "A"), ("smile", "2024-03-01 12:00", "A")]
    assert r.problems[0]["problem"].startswith("cases without an account")


def test_a_start_missing_or_after_the_first_row_uses_the_first_row_and_is_reported():
    r = convert(log("""
        | case | time             | status | start            |
        | C1   | 2024-03-01 09:30 | New    |                  |
        | C2   | 2024-03-01 09:30 | New    | 2024-03-01 10:00 |
    """), account=None)
    assert [(c, t) for c, _, t, *_ in journey(r)] == [
        ("C1", "2024-03-01 09:30"), ("C2", "2024-03-01 09:30")]
    problems = {p["problem"]: p for p in r.problems}
    assert problems["cases without a start time (the first row's time is used)"][
        "examples"] == ["C1"]
    late = problems["cases whose start time is after their first row (the first row's time "
                    "is used)"]
    assert late["count"] == 1
    assert late["examples"] == ["C2: starts 2024-03-01T10:00:00Z, first row "
                                "2024-03-01T09:30:00Z"]


JOURNEYS = log("""
    | case | time             | status   | team | account |
    | C1   | 2024-03-01 09:00 | New      | A    | acme    |
    | C2   | 2024-03-01 09:05 | New      | A    | globex  |
    | C1   | 2024-03-01 10:00 | Active   | B    | acme    |
    | C1   | 2024-03-01 12:00 | Resolved | B    | acme    |
    | C2   | 2024-03-02 09:00 | Closed   | A    | globex  |
    | C1   | 2024-03-03 09:00 | Active   | B    | acme    |
""")


def test_reimporting_gives_identical_event_ids():
    first = convert(JOURNEYS)
    again = convert(JOURNEYS)
    assert first.events.equals(again.events)
    ids = first.events.column("event_id").to_pylist()
    assert len(set(ids)) == len(ids) == 6
    assert all(len(i) == 20 for i in ids)
    # The ids depend on the source, and not on the other cases or the rest of the file.
    other = convert(JOURNEYS, source="another-desk")
    assert set(other.events.column("event_id").to_pylist()).isdisjoint(ids)
    c1_only = convert(JOURNEYS.filter(pa.compute.equal(JOURNEYS.column("case"), "C1")))
    assert set(c1_only.events.column("event_id").to_pylist()) <= set(ids)


def test_events_are_ordered_by_case_then_time_then_kind():
    r = convert(JOURNEYS)
    assert [(c, k) for c, k, *_ in journey(r)] == [
        ("C1", "interruption"), ("C1", "handoff"), ("C1", "smile"), ("C1", "reopen"),
        ("C2", "interruption"), ("C2", "smile")]


def test_unreadable_or_missing_times_and_case_ids_are_reported_not_dropped_silently():
    r = convert(log("""
        | case | time             | status   |
        | C1   | 2024-03-01 09:00 | New      |
        | C1   | yesterday        | Resolved |
        |      | 2024-03-01 10:00 | New      |
        | C2   |                  | New      |
        | C2   | 2024-13-45 10:00 | New      |
    """), account=None)
    assert [(c, k) for c, k, *_ in journey(r)] == [("C1", "interruption")]
    problems = {p["problem"]: (p["count"], p["examples"]) for p in r.problems}
    assert problems["rows whose time cannot be read (left out)"] == (
        2, ['row 2: "yesterday"', 'row 5: "2024-13-45 10:00"'])
    assert problems["rows without a case id (left out)"] == (1, ["row 3"])
    assert problems["rows without a time (left out)"] == (1, ["row 4"])
    assert r.rows == 5 and r.cases == 1


def test_null_tokens_read_as_empty():
    r = convert(log("""
        | case | time             | status | team | account |
        | C1   | 2024-03-01 09:00 | New    | ?    | ?       |
        | C1   | 2024-03-01 10:00 | Active | A    | acme    |
        | ?    | 2024-03-01 10:00 | Active | A    | acme    |
    """), null_tokens=["?"])
    assert journey(r) == [
        ("C1", "interruption", "2024-03-01 09:00", None, "New", "acme"),
        ("C1", "handoff", "2024-03-01 10:00", "A", "Active", "acme")]
    assert r.problems[0]["problem"] == "rows without a case id (left out)"


def test_the_account_is_the_first_one_named_in_the_case():
    r = convert(log("""
        | case | time             | status | account |
        | C1   | 2024-03-01 09:00 | New    |         |
        | C1   | 2024-03-01 10:00 | Active | acme    |
        | C1   | 2024-03-01 11:00 | Active | globex  |
        | C2   | 2024-03-01 11:00 | New    |         |
    """))
    assert [(c, a) for c, _, _, _, _, a in journey(r)] == [("C1", "acme"), ("C2", NO_ACCOUNT)]
    problems = {p["problem"]: (p["count"], p["examples"]) for p in r.problems}
    assert problems["cases naming more than one account (the first is used)"] == (
        1, ["C1: acme"])
    assert problems[f"cases without an account (given account {NO_ACCOUNT!r})"] == (1, ["C2"])


def test_without_an_account_column_every_case_gets_the_placeholder_and_it_is_reported():
    r = convert(log("""
        | case | time             | status |
        | C1   | 2024-03-01 09:00 | New    |
    """))
    assert r.events.column("account_id").to_pylist() == [NO_ACCOUNT]
    assert r.problems == [{
        "problem": f"cases without an account: no account column was given (given "
                   f"{NO_ACCOUNT!r})", "count": 1, "examples": ["C1"]}]


def test_times_without_an_offset_are_in_the_chosen_time_zone():
    table = log("""
        | case | time                      | status   |
        | C1   | 2024-07-01 09:00          | New      |
        | C1   | 2024-07-01T12:00:00+02:00 | Resolved |
        | C2   | 2024-07-01T08:00:00Z      | New      |
    """)
    r = convert(table, timezone="Europe/Amsterdam")
    assert [t for _, _, t, *_ in journey(r)] == [
        "2024-07-01 07:00", "2024-07-01 10:00", "2024-07-01 08:00"]
    assert str(r.events.schema.field("timestamp").type) == "timestamp[us, tz=UTC]"
    with pytest.raises(UsageError, match="unknown time zone 'Mars/Olympus'"):
        convert(table, timezone="Mars/Olympus")


def test_a_time_format_reads_other_date_layouts():
    r = convert(log("""
        | case | time            | status   |
        | C1   | 29/2/2016 01:16 | New      |
        | C1   | 5/3/2016 12:00  | Resolved |
    """), time_format="%d/%m/%Y %H:%M")
    assert [t for _, _, t, *_ in journey(r)] == ["2016-02-29 01:16", "2016-03-05 12:00"]
    with pytest.raises(UsageError, match="--time-format"):
        convert(log("| case | time | status |\n| C1 | x | New |"), time_format="%Q")


def test_typed_timestamps_are_taken_as_they_are():
    naive = pa.array([datetime(2024, 1, 1, 9), datetime(2024, 1, 1, 10)], pa.timestamp("s"))
    aware = pa.array([datetime(2024, 1, 1, 9, tzinfo=UTC)] * 2,
                     pa.timestamp("ms", tz="UTC"))
    table = pa.table({"case": ["C1", "C1"], "status": ["New", "Resolved"],
                      "time": naive, "start": aware})
    r = convert(table, timezone="America/New_York", account=None)
    assert [t for _, _, t, *_ in journey(r)] == ["2024-01-01 09:00", "2024-01-01 15:00"]


def test_numbers_and_dictionaries_are_read_as_text():
    table = pa.table({"case": pa.array([7, 7]), "time": ["2024-01-01", "2024-01-02"],
                      "status": pa.array(["New", "Closed"]).dictionary_encode()})
    r = convert(table)
    assert [(c, k, label) for c, k, _, _, label, _ in journey(r)] == [
        ("7", "interruption", "New"), ("7", "smile", "Closed")]


def test_a_team_pattern_derives_the_team():
    table = log("""
        | case | time             | status   | team     |
        | C1   | 2024-03-01 09:00 | New      | V5       |
        | C1   | 2024-03-01 10:00 | Active   | G96      |
        | C1   | 2024-03-01 11:00 | Active   | V5 3rd   |
        | C1   | 2024-03-01 12:00 | Active   | N14 2nd  |
        | C1   | 2024-03-01 13:00 | Resolved | G230 2nd |
    """)
    r = convert(table, team_pattern=r"(2nd|3rd)$", team_unmatched="1st")
    assert [(k, team) for _, k, _, team, _, _ in journey(r)] == [
        ("interruption", "1st"), ("handoff", "3rd"), ("handoff", "2nd"), ("smile", "2nd")]
    kept = convert(table, team_pattern=r"\d+(nd|rd)$")
    assert [team for _, _, _, team, _, _ in journey(kept)] == ["V5", "G96", "rd", "nd", "nd"]
    with pytest.raises(UsageError, match=r"--team-pattern .\(unclosed. cannot be used"):
        convert(table, team_pattern="(unclosed")


def test_attributes_are_copied_from_the_row_that_gave_the_event():
    table = log("""
        | case | time             | status   | team | priority |
        | C1   | 2024-03-01 09:00 | New      | A    | low      |
        | C1   | 2024-03-01 10:00 | Active   | B    | high     |
    """)
    r = convert(table, attributes=["priority"])
    assert r.events.column_names[-1] == "priority"
    assert r.events.column("priority").to_pylist() == ["low", "high"]
    with pytest.raises(UsageError, match="canonical column"):
        convert(table.append_column("label", table.column("status")), attributes=["label"])


def test_a_missing_column_names_it():
    with pytest.raises(InputError, match="column 'team'.*no such column for the team"):
        status_log_to_events(JOURNEYS.drop(["team"]), case="case", time="time",
                             status="status", team="team", smile=["Resolved"])


def test_at_least_one_smile_status_is_needed():
    with pytest.raises(UsageError, match="smile"):
        convert(JOURNEYS, smile=[" "])


def test_an_empty_log_gives_no_events():
    r = convert(JOURNEYS.slice(0, 0))
    assert r.events.num_rows == 0 and r.events.schema == EVENTS_SCHEMA
    assert r.cases == 0 and r.problems == [] and r.kind_counts() == {}


def test_the_input_table_is_not_changed():
    before = JOURNEYS.to_pylist()
    convert(JOURNEYS, null_tokens=["A"], team_pattern="(.)")
    assert JOURNEYS.to_pylist() == before


# --- The converter against a plain, row-by-row reading of the rules -----------------------

SMILES = {"resolved", "closed"}


def reference(rows: list[dict]) -> list[tuple]:
    """The rules of the module documentation, one row at a time (slow, obviously right)."""
    cases: dict[str, list[tuple[int, int, dict]]] = {}
    for i, row in enumerate(rows):
        cases.setdefault(row["case"], []).append((row["minute"], i, row))
    out = []
    for case, items in cases.items():  # cases in order of first appearance
        items.sort(key=lambda x: (x[0], x[1]))
        first = items[0][2]
        out.append((case, "interruption", first["minute"], first["team"], first["status"]))
        smiling, holder, status = False, first["team"], None
        groups: dict[int, list[dict]] = {}
        for minute, _, row in items:
            groups.setdefault(minute, []).append(row)
        for minute, group in groups.items():
            was_smiling, held_by = smiling, holder
            for row in group:
                if row["status"] is not None:
                    status = row["status"]
                    smiling = row["status"].lower() in SMILES
                if row["team"] is not None:
                    holder = row["team"]
            if holder is not None and holder != held_by:
                out.append((case, "handoff", minute, holder, status))
            if smiling and not was_smiling:
                out.append((case, "smile", minute, holder, status))
            if was_smiling and not smiling:
                out.append((case, "reopen", minute, holder, status))
    return out


rows_strategy = st.lists(st.fixed_dictionaries({
    "case": st.sampled_from(["a", "b", "c"]),
    "minute": st.integers(0, 5),
    "status": st.sampled_from(["New", "Active", "Resolved", "Closed", "closed", None]),
    "team": st.sampled_from(["A", "B", "C", None]),
}), min_size=1, max_size=25)


@settings(max_examples=50, deadline=None)
@given(rows_strategy)
def test_the_converter_agrees_with_a_row_by_row_reading_of_the_rules(rows):
    table = pa.table({
        "case": [r["case"] for r in rows],
        "time": [f"2024-01-01 10:{r['minute']:02d}" for r in rows],
        "status": pa.array([r["status"] for r in rows], pa.string()),
        "team": pa.array([r["team"] for r in rows], pa.string()),
    })
    r = convert(table)
    got = [(c, k, int(t[-2:]), team, label) for c, k, t, team, label, _ in journey(r)]
    assert got == reference(rows)
    ids = r.events.column("event_id").to_pylist()
    assert len(set(ids)) == len(ids)
