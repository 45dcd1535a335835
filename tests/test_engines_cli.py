"""--engine, --table, --accounts-table and --into on DuckDB files, PostgreSQL and Spark.

The command line is run in this process (Typer's runner), so that Spark's local session,
whose catalog lives in the process, sees the tables the test stores in it. PostgreSQL is
the server scripts/test.sh starts (see tests/engine_helpers.py).
"""

from __future__ import annotations

import json
from datetime import datetime

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from typer.testing import CliRunner

from tests.conftest import SEED_EXAMPLE
from tests.engine_helpers import POSTGRES, same
from valueclock import engines
from valueclock.cli import app
from valueclock.errors import ValueclockError

ACCOUNTS = pa.table({"account_id": ["acme"], "Segment": ["SMB"], "seats": [12]})


def vc(*args: str, ok: bool = True):
    result = CliRunner().invoke(app, [str(a) for a in args])
    if ok:
        assert result.exit_code == 0, (result.output, result.exception)
    return result


def _error(*args: str) -> str:
    result = vc(*args, ok=False)
    assert isinstance(result.exception, ValueclockError), (result.output, result.exception)
    return str(result.exception)


def _stored_events() -> pa.Table:
    """The article's example as a warehouse keeps it: upper-case names, zoned times."""
    table = pacsv.read_csv(SEED_EXAMPLE)
    names = {"account_id": "ACCOUNT_ID", "kind": "Kind"}
    return table.rename_columns([names.get(c, c) for c in table.column_names])


@pytest.fixture(scope="module", params=["duckdb", "postgres", "spark"])
def engine(request, tmp_path_factory):
    """(URL, connection, name of the stored events, name of the stored accounts)."""
    if request.param == "duckdb":
        url = f"duckdb:///{tmp_path_factory.mktemp('duck') / 'warehouse.db'}"
    elif request.param == "postgres":
        url = POSTGRES
    else:
        from pyspark.sql import SparkSession

        active = SparkSession.getActiveSession()
        if active is not None:
            active.stop()
        warehouse = tmp_path_factory.mktemp("spark-warehouse")
        url = f"spark://local[2]?spark.sql.warehouse.dir={warehouse}"
    con = engines.connect(url)
    tag = datetime.now().strftime("%H%M%S%f")
    events, accounts = f"vc_events_{tag}", f"vc_accounts_{tag}"
    if request.param == "spark":  # Spark builds its tables from Parquet (see engines.load)
        events = engines.load(con, _stored_events()).get_name()
        accounts = engines.load(con, ACCOUNTS, "accounts").get_name()
    else:
        con.create_table(events, _stored_events())
        con.create_table(accounts, ACCOUNTS)
    yield url, con, events, accounts
    if request.param == "postgres":
        for name in list(con.list_tables(like="vc_")):
            con.drop_table(name, force=True)
    if request.param == "spark":
        con._session.stop()


def test_event_files_computed_on_the_engine_give_the_same_report(engine):
    url = engine[0]
    here = json.loads(vc("report", SEED_EXAMPLE, "--format", "json").stdout)
    there = json.loads(vc("report", SEED_EXAMPLE, "--engine", url, "--format",
                          "json").stdout)
    same(there, here)
    assert there["ttcv_text"] == "11 days, 5 hours"


def test_events_stored_in_the_engine(engine):
    url, _, events, accounts = engine
    data = json.loads(vc("report", "--engine", url, "--table", events, "--accounts-table",
                         accounts, "--by", "Segment", "--format", "json").stdout)
    assert data["ttcv_text"] == "11 days, 5 hours"
    assert {t["team"]: t["hours"] for t in data["teams"]} == {"Engineering": 24.0,
                                                              "Support": 5.0}
    assert [(s["by"], s["value"]) for s in data["slices"]] == [("Segment", "SMB")]
    rows = json.loads(vc("accounts", "--engine", url, "--table", events, "--accounts-table",
                         accounts, "--format", "json").stdout)
    assert rows[0]["ttcv_days"] == pytest.approx(11 + 5 / 24, rel=1e-12)
    assert rows[0]["seats"] == "12"  # attributes are text, as from files


def test_results_written_into_the_engine(engine):
    url, con, events, _ = engine
    target = f"{events}_cases"
    result = vc("cases", "--engine", url, "--table", events, "--into", target)
    assert result.stdout == ""
    assert f"Wrote 1 row of cases to table {target}" in result.stderr
    written = con.table(target).to_pyarrow().to_pylist()
    assert [(r["case_id"], r["smile_hours"], r["handoffs"]) for r in written] == [
        ("T1", 29.0, 3)]
    vc("holds", SEED_EXAMPLE, "--engine", url, "--into", target)  # replaces it
    assert sorted(con.table(target).to_pyarrow().column("team").to_pylist()) == [
        "Engineering", "Support"]


def test_engine_errors_are_one_clear_line(engine):
    url, con, events, _ = engine
    assert "no table 'nope'" in _error("report", "--engine", url, "--table", "nope")
    assert "EVENTS files or --table, not both" in _error(
        "report", SEED_EXAMPLE, "--engine", url, "--table", events)
    assert "give EVENTS files or --table NAME" in _error("report", "--engine", url)
    tag = events + "_bad"
    bad = pa.table({"account_id": ["a"], "timestamp": ["2026-01-01T00:00:00Z"],
                    "kind": ["sale"]})
    no_kind = pa.table({"account_id": ["a"], "timestamp": [datetime(2026, 1, 1)]})
    if engines.engine_name(con) == "spark":
        text_ts, missing = (engines.load(con, bad).get_name(),
                            engines.load(con, no_kind).get_name())
    else:
        con.create_table(tag, bad)
        con.create_table(tag + "2", no_kind)
        text_ts, missing = tag, tag + "2"
    message = _error("report", "--engine", url, "--table", text_ts)
    assert f"table {text_ts}, column 'timestamp'" in message and "not a timestamp" in message
    message = _error("report", "--engine", url, "--table", missing)
    assert "required column 'kind' is missing" in message


def test_into_needs_an_engine_that_keeps_tables(tmp_path):
    from pyspark.sql import SparkSession

    assert "--into writes to a table of the engine" in _error(
        "cases", SEED_EXAMPLE, "--into", "t")
    if SparkSession.getActiveSession() is not None:
        SparkSession.getActiveSession().stop()
    message = _error("cases", SEED_EXAMPLE, "--engine", "spark://local[1]", "--into", "t")
    assert "temporary folder" in message and "spark.sql.warehouse.dir" in message
    SparkSession.getActiveSession().stop()
    assert "give a workspace (-w) or --engine" in _error(
        "report", "-w", tmp_path, "--engine", "duckdb://")


def test_a_duckdb_url_takes_settings_and_a_typed_table(tmp_path):
    url = f"duckdb:///{tmp_path / 'w.db'}?memory_limit=1GB&threads=1"
    con = engines.connect(url)
    assert con.raw_sql("SELECT current_setting('threads')").fetchall() == [(1,)]
    table = pacsv.read_csv(SEED_EXAMPLE)  # zoned timestamps
    con.create_table("zoned", table)
    naive = table.set_column(1, "timestamp", table.column("timestamp").cast(
        pa.timestamp("us")))
    con.create_table("naive", naive)
    for name in ("zoned", "naive"):
        assert json.loads(vc("report", "--engine", url, "--table", name, "--format",
                             "json").stdout)["ttcv_text"] == "11 days, 5 hours", name
    assert "cannot read DuckDB setting" in _error(
        "report", SEED_EXAMPLE, "--engine", "duckdb://?bad;key=1")


def test_the_python_api_takes_an_engine_url_or_connection(tmp_path):
    import valueclock

    url = f"duckdb:///{tmp_path / 'w.db'}"
    by_url = valueclock.measure(SEED_EXAMPLE, con=url).summary()
    con = valueclock.connect(url)
    con.create_table("events", _stored_events())
    stored = valueclock.measure(valueclock.events_table(con, "events")).summary()
    assert by_url["ttcv_text"] == stored["ttcv_text"] == "11 days, 5 hours"


def test_the_dashboard_serves_events_stored_in_the_engine(engine):
    from fastapi.testclient import TestClient

    from valueclock.web.app import create_app
    from valueclock.web.command import load

    url, _, events, accounts = engine
    dashboard = load(engine=url, table=events, accounts_table=accounts)
    assert f"table {events} on " in dashboard.source.label
    with TestClient(create_app(dashboard), base_url="http://127.0.0.1") as client:
        data = client.get("/api/report").json()
        assert data["ttcv_text"] == "11 days, 5 hours"
        assert client.get("/cases/T1").status_code == 200
