"""XES (streamed, plain or gzipped) and OCEL 2.0 JSON, through the status log."""

from __future__ import annotations

import gzip
import shutil

import pytest
from helpers_sources import FIXTURES, journey

from valueclock.errors import InputError, UsageError
from valueclock.sources.ocel import ocel_to_events, read_ocel
from valueclock.sources.xes import read_xes, xes_to_events

XES = FIXTURES / "incidents.xes"
OCEL = FIXTURES / "tickets.ocel.json"


def test_xes_traces_are_cases_and_events_are_rows():
    table = read_xes(XES, event_keys=["time:timestamp", "concept:name", "org:group"])
    assert table.column_names == ["case:concept:name", "time:timestamp", "concept:name",
                                  "org:group"]
    assert table.column("case:concept:name").to_pylist() == ["INC-1"] * 3 + ["INC-2"] * 2
    # The status of an event is its own attribute, not one nested in a list under it.
    assert table.column("concept:name").to_pylist() == [
        "Accepted", "Queued", "Completed", "Accepted", "Completed"]


def test_xes_gives_handoffs_between_support_lines(tmp_path):
    gz = tmp_path / "incidents.xes.gz"
    with open(XES, "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    seen = []
    r = xes_to_events(gz, smile=["Completed"], account="customer",
                      team_pattern=r"(2nd|3rd)$", team_unmatched="1st",
                      attributes=["org:group"], progress=lambda done, total: seen.append(
                          (done, total)))
    assert journey(r) == [
        ("INC-1", "interruption", "2010-03-31 14:00", "1st", "Accepted", "Acme & Sons"),
        ("INC-1", "handoff", "2010-03-31 16:00", "3rd", "Queued", "Acme & Sons"),
        ("INC-1", "smile", "2010-04-01 08:00", "3rd", "Completed", "Acme & Sons"),
        # The account is the event's attribute when the trace has none.
        ("INC-2", "interruption", "2010-04-02 06:00", "1st", "Accepted", "Globex"),
        ("INC-2", "smile", "2010-04-02 06:30", "1st", "Completed", "Globex"),
    ]
    assert r.events.column("org:group").to_pylist()[:2] == ["V30", "V5 3rd"]
    assert seen and seen[-1][0] == seen[-1][1] == gz.stat().st_size
    plain = xes_to_events(XES, smile=["Completed"], account="customer")
    assert plain.events.column("event_id").equals(r.events.column("event_id"))


def test_xes_status_can_be_another_attribute():
    r = xes_to_events(XES, status="lifecycle:transition", smile=["Resolved", "Closed"])
    assert [(c, k) for c, k, *_ in journey(r)] == [
        ("INC-1", "interruption"), ("INC-1", "handoff"), ("INC-1", "smile"),
        ("INC-2", "interruption")]
    assert r.problems[0]["count"] == 2  # no account attribute: both cases reported


def test_not_xes_is_an_input_error(tmp_path):
    bad = tmp_path / "log.xes"
    bad.write_text("<html><body/></html>")
    with pytest.raises(InputError, match="not an XES log"):
        read_xes(bad, event_keys=["concept:name"])
    bad.write_text("<log><trace><event></trace></log>")
    with pytest.raises(InputError, match=r"cannot read as XES: mismatched tag \(line 1\)"):
        read_xes(bad, event_keys=["concept:name"])
    with pytest.raises(InputError, match="file not found"):
        read_xes(tmp_path / "missing.xes.gz", event_keys=["concept:name"])


def test_ocel_objects_of_the_case_type_are_the_cases():
    r = ocel_to_events(OCEL, case_type="ticket", smile=["Resolve", "Close"],
                       team_type="group", account_type="customer")
    assert journey(r) == [
        ("T-1", "interruption", "2024-03-01 09:00", "support", "Create ticket", "acme"),
        ("T-1", "handoff", "2024-03-01 09:30", "engineering", "Assign", "acme"),
        ("T-1", "smile", "2024-03-02 09:00", "engineering", "Resolve", "acme"),
        ("T-1", "reopen", "2024-03-02 12:00", "engineering", "Customer reply", "acme"),
        ("T-1", "handoff", "2024-03-02 14:00", "support", "Resolve", "acme"),
        ("T-1", "smile", "2024-03-02 14:00", "support", "Resolve", "acme"),
        # T-2's customer is related to its first event only; times with offsets are exact.
        ("T-2", "interruption", "2024-03-01 09:00", "support", "Create ticket", "globex"),
        ("T-2", "smile", "2024-03-01 11:00", "support", "Resolve", "globex"),
    ]
    assert r.problems == []


def test_ocel_status_and_account_from_attributes():
    r = ocel_to_events(OCEL, case_type="ticket", smile=["Resolved", "Closed"],
                       status="state", account="organisation")
    assert [(c, k, label, a) for c, k, _, _, label, a in journey(r)][:2] == [
        ("T-1", "interruption", "New", "Acme"),  # the attribute's latest value
        ("T-1", "smile", "Resolved", "Acme")]
    assert r.problems[0]["examples"] == ["T-2"]


def test_ocel_errors_name_the_problem(tmp_path):
    with pytest.raises(InputError, match="no object type 'incident'"):
        read_ocel(OCEL, case_type="incident")
    with pytest.raises(UsageError, match="not both"):
        read_ocel(OCEL, case_type="ticket", team="group", team_type="group")
    bad = tmp_path / "log.json"
    bad.write_text('{"events": 1}')
    with pytest.raises(InputError, match="not an OCEL 2.0 JSON log"):
        read_ocel(bad, case_type="ticket")
    bad.write_text("{")
    with pytest.raises(InputError, match="cannot read as OCEL 2.0 JSON"):
        read_ocel(bad, case_type="ticket")
