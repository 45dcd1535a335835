"""Teams, business hours and what-if give the same numbers on PostgreSQL as on DuckDB.

Spark was checked by hand the same way (``valueclock.engines.connect("spark://local[2]")``);
it is left out here to keep the suite fast. PostgreSQL is reached at
$VALUECLOCK_TEST_POSTGRES (see tests/test_engines.py); the test is skipped without it.
"""

from __future__ import annotations

import math
import os
from datetime import datetime

import pytest

from tests.test_calendar import EXAMPLE
from valueclock import demo
from valueclock.calendar import Calendar
from valueclock.engine import Measurement

POSTGRES = os.environ.get("VALUECLOCK_TEST_POSTGRES",
                          "postgres://valueclock:valueclock@127.0.0.1:5432/valueclock")


def _results(url: str) -> dict:
    from valueclock.engines import connect, load

    company = demo.generate(seed=3, accounts=60)
    m = Measurement(load(connect(url), company.events), calendar=Calendar.load(EXAMPLE),
                    scale={"Engineering": 0.5, "Support": 1.5})
    return {
        "cases": sorted(m.cases.to_pyarrow().to_pylist(), key=lambda r: r["case_id"]),
        "holds": sorted(m.holds.to_pyarrow().to_pylist(),
                        key=lambda r: (r["case_id"], r["team"])),
        "teams": sorted(m.team_stats.to_pyarrow().to_pylist(), key=lambda r: r["team"]),
    }


def _same(a, b, path=""):
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            _same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, (int, float)):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (path, a, b)
    elif isinstance(a, datetime):
        assert a.replace(tzinfo=None) == b.replace(tzinfo=None), path
    else:
        assert a == b, (path, a, b)


def test_postgres_agrees_with_duckdb():
    try:
        got = _results(POSTGRES)
    except Exception as exc:  # noqa: BLE001 - no server, no driver: nothing to compare
        if "connect" in str(exc).lower() or isinstance(exc, ImportError):
            pytest.skip(f"PostgreSQL not reachable: {exc}")
        raise
    _same(got, _results("duckdb://"))
