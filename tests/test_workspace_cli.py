"""The workspace from the command line, as a new user meets it: init, ingest (the demo's
files and a messy export), sources, check, report, forget; and the reading commands on a
workspace (-w PATH, or the current folder's)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SEED_EXAMPLE
from tests.test_workspace import MESSY
from valueclock import demo


def vc(*args: object, cwd: Path | None = None, check: bool = True,
       ) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "valueclock", *map(str, args)], cwd=cwd,
                            capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}: {result.stderr}")
    return result


def one_line_error(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("valueclock: error: "), result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("files")
    paths = demo.write(demo.generate(seed=3, accounts=150), folder)
    messy = folder / "crm export.csv"
    messy.write_bytes(MESSY.encode("cp1252"))
    bad = folder / "bad.csv"
    bad.write_text("account_id,timestamp,kind\nzed,2026-02-30 10:00,value\n"
                   "zed,2026-02-01 10:00,Closed Lost\nzed,2026-02-02 10:00,sale\n")
    return {**paths, "messy": messy, "bad": bad}


def test_a_new_user_init_ingest_check_report(tmp_path, files):
    work = tmp_path / "northbeam"
    made = vc("init", work)
    assert "Made the workspace" in made.stderr and (work / "valueclock.toml").is_file()

    first = vc("ingest", files["events"], "--accounts", files["accounts"], cwd=work)
    assert "events added" in first.stdout and "Accounts:" in first.stdout
    again = vc("ingest", files["events"], "--format", "json", cwd=work)
    assert json.loads(again.stdout)["added"] == 0

    messy = vc("ingest", files["messy"], "--map", "account_id=Company ID",
               "--map", "timestamp=When", "--map", "kind=What", "--map", "case_id=Ticket",
               "--map", "team=Owner", "--map", "label=Note",
               "--kind-map", "Content used=value", "--kind-map", "Closed Won=sale",
               "--kind-map", "Ticket opened=interruption", "--kind-map", "Reassigned=handoff",
               "--kind-map", "Solved=smile", "--time-format", "%d/%m/%Y %H:%M",
               "--timezone", "Europe/Amsterdam", cwd=work)
    assert "8 events added" in messy.stdout
    assert "semicolon-separated, Windows-1252" in messy.stdout

    bad = vc("ingest", files["bad"], cwd=work)
    assert "2 rows quarantined" in bad.stdout

    sources = json.loads(vc("sources", "--format", "json", cwd=work).stdout)
    assert [s["ingest_id"] for s in sources] == [1, 2, 3, 4]
    assert sources[2]["options"]["time_format"] == "%d/%m/%Y %H:%M"
    assert "crm export.csv" in vc("sources", cwd=work).stdout

    check = vc("check", "--strict", cwd=work, check=False)
    assert check.returncode == 1
    assert "quarantined" in check.stdout and "unknown_kind" in check.stdout
    report = json.loads(vc("report", "--format", "json", cwd=work).stdout)
    quarantined = next(p for p in report["data_problems"] if p["problem"] == "quarantined")
    assert quarantined["count"] == 2
    assert quarantined["reasons"] == {"unparseable_timestamp": 1, "unknown_kind": 1}
    assert any("bad.csv line 2: unparseable timestamp '2026-02-30 10:00'" in e
               for e in quarantined["examples"])

    # The workspace gives the numbers of its files read together.
    direct = json.loads(vc("report", files["events"], files["bad"], "--accounts",
                           files["accounts"], "--format", "json").stdout)
    assert report["accounts"] == direct["accounts"] + 1          # acme, from the CRM export
    assert vc("report", cwd=work).stdout.count("Time to Customer Value") >= 1

    forgot = vc("forget", "3", cwd=work)
    assert "removed 8 events" in forgot.stdout
    after = json.loads(vc("report", "--format", "json", cwd=work).stdout)
    for key in ("ttcv_days", "sold_accounts", "cases", "teams"):
        assert after[key] == direct[key], key


def test_reading_commands_take_the_workspace(tmp_path, files):
    work = tmp_path / "ws"
    vc("init", work)
    vc("ingest", "-w", work, SEED_EXAMPLE)
    for command in ("accounts", "cases", "holds"):
        from_workspace = vc(command, "-w", work).stdout
        assert from_workspace == vc(command, SEED_EXAMPLE).stdout, command
        assert vc(command, cwd=work).stdout == from_workspace
    data = json.loads(vc("report", "-w", work, "--format", "json").stdout)
    assert data["ttcv_text"] == "11 days, 5 hours" and data["data_problems"] == []
    assert json.loads(vc("report", work, "--format", "json").stdout) == data  # a folder
    assert vc("check", "-w", work, "--strict").stdout.strip() == "No data problems found."


def test_workspace_errors_are_one_line(tmp_path, files):
    error = one_line_error(vc("report", cwd=tmp_path, check=False))
    assert "no EVENTS given and no workspace in the current folder" in error
    error = one_line_error(vc("ingest", files["events"], cwd=tmp_path, check=False))
    assert "no workspace in the current folder" in error
    vc("init", tmp_path / "ws")
    error = one_line_error(vc("report", SEED_EXAMPLE, "-w", tmp_path / "ws", check=False))
    assert "not both" in error
    error = one_line_error(vc("ingest", "-w", tmp_path / "ws", tmp_path / "missing.csv",
                              check=False))
    assert error.endswith("missing.csv: file not found")
    error = one_line_error(vc("ingest", "-w", tmp_path / "ws", SEED_EXAMPLE, "--kind-map",
                              "Won=salee", check=False))
    assert "'salee' is not a kind" in error
    error = one_line_error(vc("init", tmp_path / "ws", check=False))
    assert "already a valueclock workspace" in error
    error = one_line_error(vc("forget", "9", "-w", tmp_path / "ws", check=False))
    assert "no ingest 9" in error
    error = one_line_error(vc("report", "-w", tmp_path, check=False))
    assert "not a valueclock workspace" in error
    assert json.loads(vc("sources", "-w", tmp_path / "ws", "--format", "json").stdout) == []


@pytest.mark.parametrize("command", ["init", "ingest", "sources", "forget"])
def test_workspace_commands_explain_themselves(command):
    out = vc(command, "--help").stdout
    assert "Usage: valueclock " + command in " ".join(out.split())
    assert len(out.split()) > 40
