"""The command line as scripts and people use it: outputs, formats, errors, help."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from tests.conftest import SEED_EXAMPLE, write_log

REPORT_KEYS = {"as_of", "stat", "accounts", "prospects", "sold_accounts",
               "value_reached_accounts", "cases", "resolved_cases", "open_cases",
               "ttv_before_days", "ttv_after_days", "smile_hours", "ttcv_days", "ttcv_text",
               "teams", "data_problems"}


def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "valueclock", *map(str, args)],
                            capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"exit {result.returncode}: {result.stderr}")
    return result


def test_report_json_has_the_contract_keys_and_the_article_numbers():
    data = json.loads(run("report", SEED_EXAMPLE, "--format", "json").stdout)
    assert REPORT_KEYS <= data.keys()
    assert data["ttcv_text"] == "11 days, 5 hours"
    assert data["as_of"] == "2026-02-11T13:00:00Z"
    assert data["teams"] == [{"team": "Engineering", "hours": 24.0, "cases": 1},
                             {"team": "Support", "hours": 5.0, "cases": 1}]
    assert data["data_problems"] == []


def test_report_text_reads_in_ten_seconds():
    out = run("report", SEED_EXAMPLE).stdout
    for words in ("Time to Customer Value: 11 days, 5 hours", "Time to Value before sale",
                  "-10.0 days", "+20.0 days", "+29.0 hours", "Engineering", "Support",
                  "Data problems: none"):
        assert words in out, words


def test_accounts_csv_contract():
    out = run("accounts", SEED_EXAMPLE).stdout
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["account_id", "sale_at", "first_value_before_at", "ttv_before_days",
                       "first_value_after_at", "ttv_after_days", "value_reached",
                       "waiting_days", "cases", "open_cases", "smile_hours", "ttcv_days"]
    assert rows[1] == ["acme", "2026-01-11T09:00:00Z", "2026-01-01T09:00:00Z", "-10.0",
                       "2026-01-31T09:00:00Z", "20.0", "true", "", "1", "0", "29.0",
                       "11.208333333333334"]


def test_cases_and_holds_csv_contract():
    rows = list(csv.reader(io.StringIO(run("cases", SEED_EXAMPLE).stdout)))
    assert rows == [["case_id", "account_id", "started_at", "smiled_at", "resolved",
                     "smile_hours", "elapsed_hours", "open_hours", "reopens", "handoffs"],
                    ["T1", "acme", "2026-02-10T08:00:00Z", "2026-02-11T13:00:00Z", "true",
                     "29.0", "29.0", "", "0", "3"]]
    holds = list(csv.reader(io.StringIO(run("holds", SEED_EXAMPLE).stdout)))
    assert holds == [["case_id", "account_id", "team", "hours"],
                     ["T1", "acme", "Support", "5.0"], ["T1", "acme", "Engineering", "24.0"]]


def test_json_and_parquet_outputs(tmp_path):
    data = json.loads(run("cases", SEED_EXAMPLE, "--as-of", "2026-02-10T10:00:00Z",
                          "--format", "json").stdout)
    assert data == [{"case_id": "T1", "account_id": "acme", "started_at":
                     "2026-02-10T08:00:00Z", "smiled_at": None, "resolved": False,
                     "smile_hours": None, "elapsed_hours": None, "open_hours": 2.0,
                     "reopens": 0, "handoffs": 1}]
    out = tmp_path / "accounts.parquet"
    run("accounts", SEED_EXAMPLE, "--format", "parquet", "--out", out)
    table = pq.read_table(out)
    assert table.num_rows == 1 and str(table.schema.field("sale_at").type) == \
        "timestamp[us, tz=UTC]"


def test_table_format_prints_for_people():
    out = run("holds", SEED_EXAMPLE, "--format", "table").stdout
    assert "Engineering" in out and "24.00" in out


@pytest.mark.parametrize("content, words", [
    (None, "missing.csv: file not found"),
    ("account_id,timestamp\na,2026-01-01\n", "required column 'kind' is missing"),
])
def test_bad_input_is_one_clear_line_with_exit_2(tmp_path, content, words):
    path = tmp_path / "missing.csv"
    if content is not None:
        path.write_text(content)
    result = run("report", path, check=False)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("valueclock: error: ") and words in lines[0]
    assert str(path) in lines[0]
    assert "Traceback" not in result.stderr


def test_usage_errors_are_one_line_too():
    result = run("report", SEED_EXAMPLE, "--stat", "fastest", check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == ("valueclock: error: unknown statistic 'fastest' (use "
                                      "median, mean or a percentile such as p90)")


def test_check_lists_problems_and_strict_fails(tmp_path):
    path = write_log(tmp_path / "e.csv", """
        a,2026-01-01T00:00:00Z,sale,,,
        a,2026-01-02T00:00:00Z,purchase,,,
    """)
    relaxed = run("check", path, "--format", "json")
    assert json.loads(relaxed.stdout)["data_problems"][0]["problem"] == "unknown_kind"
    strict = run("check", path, "--strict", check=False)
    assert strict.returncode == 1 and "unknown_kind" in strict.stdout
    assert run("check", SEED_EXAMPLE, "--strict").stdout.strip() == "No data problems found."


@pytest.mark.parametrize("command", ["accounts", "cases", "holds", "report", "check", "demo"])
def test_each_command_explains_itself(command):
    out = run(command, "--help").stdout
    assert "Usage: valueclock " + command in " ".join(out.split())
    assert len(out.split()) > 40


def test_top_level_help_and_version():
    out = run("--help").stdout
    assert "Time to Customer Value" in out and "demo" in out
    assert run("--version").stdout.startswith("valueclock ")


def test_the_public_api_is_what_all_says():
    """Every name of __all__ exists and explains itself; nothing public is left out."""
    import inspect

    import valueclock

    assert len(set(valueclock.__all__)) == len(valueclock.__all__)
    for name in valueclock.__all__:
        obj = getattr(valueclock, name)
        if name != "__version__":
            assert inspect.getdoc(obj), f"{name} has no docstring"
    public = {n for n, v in vars(valueclock).items() if not n.startswith("_")
              and (inspect.isfunction(v) or inspect.isclass(v))}
    assert public <= set(valueclock.__all__), public - set(valueclock.__all__)
