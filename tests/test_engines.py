"""One engine, three backends: DuckDB, PostgreSQL and Spark must give identical results.

Where the engines are: tests/engine_helpers.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pyarrow as pa
import pytest

from tests.engine_helpers import ENGINE_URLS, same
from valueclock import demo
from valueclock.engine import Measurement
from valueclock.engines import connect, load
from valueclock.events import read_events


@pytest.fixture(scope="module", params=list(ENGINE_URLS))
def con(request):
    connection = connect(ENGINE_URLS[request.param])
    yield connection
    if request.param == "spark":
        connection._session.stop()


def _company(tmp_path_factory) -> pa.Table:
    company = demo.generate(seed=3, accounts=120)
    folder = tmp_path_factory.mktemp("company")
    paths = demo.write(company, folder)
    return read_events(paths["events"])


def _awkward() -> pa.Table:
    """Ties, reopens, missing teams, problems and sub-second times, nulls in every column."""
    t0 = datetime(2026, 3, 1, 9)
    rows = [
        ("a", t0, "value", None, "Marketing"), ("a", t0 + timedelta(days=3), "sale", None, None),
        ("a", t0 + timedelta(days=3), "value", None, "Training"),
        ("a", t0 + timedelta(days=4), "interruption", "C1", None),
        ("a", t0 + timedelta(days=4, microseconds=1), "handoff", "C1", "Engineering"),
        ("a", t0 + timedelta(days=4, hours=3), "handoff", "C1", None),
        ("a", t0 + timedelta(days=4, hours=5), "smile", "C1", "Support"),
        ("a", t0 + timedelta(days=4, hours=5), "reopen", "C1", "Billing"),
        ("a", t0 + timedelta(days=5, microseconds=7), "smile", "C1", None),
        ("b", t0 + timedelta(days=1), "sale", None, "Sales"),
        ("b", t0 + timedelta(days=2), "interruption", "C2", "Support"),
        ("b", t0 + timedelta(days=2), "interruption", "C2", "Support"),
        ("b", t0, "handoff", "C3", "Support"), ("p", t0, "value", None, None),
        ("b", t0, "unknown", None, None), ("b", t0, "smile", None, None),
    ]
    cols = list(zip(*rows, strict=True))
    n = len(rows)
    return pa.table({
        "event_id": pa.array([None] * n, pa.string()),
        "account_id": pa.array(cols[0]), "timestamp": pa.array(cols[1], pa.timestamp("us")),
        "kind": pa.array(cols[2]), "case_id": pa.array(cols[3], pa.string()),
        "team": pa.array(cols[4], pa.string()), "label": pa.array([None] * n, pa.string()),
        "_source": pa.array(["awkward.csv"] * n), "_row": pa.array(range(2, n + 2)),
        "_seq": pa.array(range(n), pa.int64()),
        "_timestamp_raw": pa.array([str(t) for t in cols[1]]),
    })


def _results(con, table: pa.Table) -> dict:
    m = Measurement(load(con, table))
    return {
        "accounts": sorted(m.accounts.to_pyarrow().to_pylist(), key=lambda r: r["account_id"]),
        "cases": sorted(m.cases.to_pyarrow().to_pylist(), key=lambda r: r["case_id"]),
        "holds": sorted(m.holds.to_pyarrow().to_pylist(),
                        key=lambda r: (r["case_id"], r["team"])),
        "summary": {stat: m.summary(stat) for stat in ("median", "mean", "p90")},
    }


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    duck = connect("duckdb://")
    return {"company": _results(duck, _company(tmp_path_factory)),
            "awkward": _results(duck, _awkward())}


@pytest.mark.parametrize("log", ["company", "awkward"])
def test_every_engine_gives_identical_results(con, reference, tmp_path_factory, log):
    table = _company(tmp_path_factory) if log == "company" else _awkward()
    same(_results(con, table), reference[log])


def test_the_awkward_log_exercises_what_it_should(reference):
    s = reference["awkward"]["summary"]["median"]
    found = {p["problem"] for p in s["data_problems"]}
    assert {"unknown_kind", "missing_case_id", "repeated_interruption",
            "case_without_interruption"} <= found
    assert s["open_cases"] == 1 and s["prospects"] == 1


def test_no_duckdb_connection_draws_a_progress_bar(tmp_path, monkeypatch):
    """DuckDB draws its progress bar on standard output, even into a pipe: it would break
    `valueclock report --format json | jq` on logs that take more than two seconds."""
    import ibis

    from valueclock import cli
    from valueclock.engines import duckdb_connect
    from valueclock.workspace import Workspace

    setting = "SELECT current_setting('enable_progress_bar')"
    ibis_cons = [connect("duckdb://"), connect(f"duckdb:///{tmp_path / 'file.db'}")]
    with Workspace.init(tmp_path / "ws") as ws:
        ibis_cons.append(ws.backend)
        for con in ibis_cons:
            assert con.raw_sql(setting).fetchall() == [(False,)]
    assert duckdb_connect().execute(setting).fetchall() == [(False,)]
    monkeypatch.setattr("sys.argv", ["valueclock", "--version"])
    with pytest.raises(SystemExit):
        cli.main()  # the command line's default backend (in-memory tables) too
    assert ibis.get_backend().raw_sql(setting).fetchall() == [(False,)]
