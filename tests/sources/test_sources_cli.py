"""``valueclock import ...`` (the sources' Typer app, tested on its own)."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from helpers_sources import DATA, FIXTURES
from typer.testing import CliRunner

from valueclock.errors import InputError, UsageError
from valueclock.sources.cli import app

runner = CliRunner()
STATUS_LOG = FIXTURES / "status_log.csv"
STATUS_ARGS = ["status-log", str(STATUS_LOG), "--case", "ticket", "--time", "changed_at",
               "--status", "state", "--team", "group", "--account", "organisation",
               "--start", "opened", "--smile", "Solved", "--null", "?"]


def test_status_log_writes_events_and_a_summary(tmp_path):
    out = tmp_path / "events.csv"
    result = runner.invoke(app, [*STATUS_ARGS, "--out", str(out)])
    assert result.exit_code == 0, result.output
    header = out.read_text().splitlines()[0]
    assert header == "event_id,account_id,timestamp,kind,case_id,team,label"
    rows = [line.split(",")[1:] for line in out.read_text().splitlines()[1:]]
    assert rows == [
        ["Acme", "2024-03-01T09:00:00Z", "interruption", "T-1", "Support", "New"],
        ["Acme", "2024-03-01T10:00:00Z", "handoff", "T-1", "Engineering", "In progress"],
        ["Acme", "2024-03-02T09:00:00Z", "smile", "T-1", "Engineering", "Solved"],
        ["Acme", "2024-03-02T15:00:00Z", "handoff", "T-1", "Support", "Open"],
        ["Acme", "2024-03-02T15:00:00Z", "reopen", "T-1", "Support", "Open"],
        ["Acme", "2024-03-03T09:00:00Z", "smile", "T-1", "Support", "Solved"],
        ["(no account)", "2024-03-01T11:00:00Z", "interruption", "T-2", "", "New"],
    ]
    assert "2 cases from 7 rows: 7 events" in result.output
    assert "interruption 2, handoff 2, smile 2, reopen 1" in result.output
    assert "rows whose time cannot be read" in result.output
    assert 'row 5: "not a time"' in result.output
    assert "cases without an account" in result.output


def test_importing_again_gives_the_same_file(tmp_path):
    first, again = tmp_path / "a.csv", tmp_path / "b.parquet"
    runner.invoke(app, [*STATUS_ARGS, "--out", str(first)])
    runner.invoke(app, [*STATUS_ARGS, "-o", str(again)])
    ids = [line.split(",")[0] for line in first.read_text().splitlines()[1:]]
    assert pq.read_table(again).column("event_id").to_pylist() == ids


def test_without_out_the_command_says_where_the_events_should_go():
    result = runner.invoke(app, STATUS_ARGS)
    assert isinstance(result.exception, UsageError)
    assert "--out EVENTS.csv" in str(result.exception)


def test_without_a_smile_status_the_command_says_so(tmp_path):
    args = [a for a in STATUS_ARGS if a not in ("--smile", "Solved")]
    result = runner.invoke(app, [*args, "--out", str(tmp_path / "e.csv")])
    assert isinstance(result.exception, UsageError)
    assert "--smile" in str(result.exception)


def test_a_missing_column_names_the_file_and_column(tmp_path):
    args = [*STATUS_ARGS, "--out", str(tmp_path / "e.csv")]
    args[args.index("group")] = "assignee"
    result = runner.invoke(app, args)
    assert isinstance(result.exception, InputError)
    assert str(STATUS_LOG) in str(result.exception)
    assert "column 'assignee'" in str(result.exception)
    assert not (tmp_path / "e.csv").exists()


def test_xes_and_ocel_commands(tmp_path):
    out = tmp_path / "xes.parquet"
    result = runner.invoke(app, ["xes", str(FIXTURES / "incidents.xes"), "--smile",
                                 "Completed", "--account", "customer", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert pq.read_table(out).num_rows == 5
    out = tmp_path / "ocel.csv"
    result = runner.invoke(app, ["ocel", str(FIXTURES / "tickets.ocel.json"), "--case-type",
                                 "ticket", "--team-type", "group", "--account-type",
                                 "customer", "--smile", "Resolve", "--smile", "Close",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 cases from 9 rows: 8 events" in result.output
    assert "No problems found." in result.output


@pytest.mark.parametrize("command, file, cases", [
    ("servicenow", "uci_incident_event_log.zip", "24,918"),
    ("helpdesk", "helpdesk_full_4580cases.csv", "4,580"),
])
def test_presets_on_the_real_exports(tmp_path, command, file, cases):
    out = tmp_path / "events.csv"
    result = runner.invoke(app, [command, str(DATA / file), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"{cases} cases" in result.output
