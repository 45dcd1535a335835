"""Kaplan-Meier, distributions, slices and periods: the same numbers on DuckDB, PostgreSQL
and Spark (pure Ibis; only the product-limit over the counts runs in numpy).

PostgreSQL is reached at $VALUECLOCK_TEST_POSTGRES (default
postgres://valueclock:valueclock@127.0.0.1:5432/valueclock, which scripts/test.sh sets
up); Spark runs in local mode.
"""

from __future__ import annotations

import json
import math
import os
from datetime import datetime

import pytest

from valueclock import demo
from valueclock.engine import Measurement
from valueclock.engine import slices as _slices
from valueclock.engine.summary import Stat
from valueclock.engines import connect, load
from valueclock.events import read_accounts, read_events

POSTGRES = os.environ.get("VALUECLOCK_TEST_POSTGRES",
                          "postgres://valueclock:valueclock@127.0.0.1:5432/valueclock")


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    paths = demo.write(demo.generate(seed=3, accounts=120), tmp_path_factory.mktemp("c"))
    return read_events(paths["events"]), read_accounts(paths["accounts"])


def _mine(con, company) -> dict:
    """Everything this part of the report adds, computed on ``con``."""
    events, accounts = company
    m = Measurement(load(con, events), accounts=load(con, accounts, "accounts"),
                    as_of=datetime(2025, 9, 1))
    base = {"as_of": "as_of", "stat": "p75"}
    by_segment = _slices.extend(m, base, Stat.parse("p75"), target_days=1.0, by="segment",
                                every="month")
    by_priority = _slices.extend(m, base, Stat.parse("p75"), by="priority", every="week")
    out = {"segment": by_segment, "priority": by_priority["slices"],
           "weeks": by_priority["periods"]}
    out["curve"] = m.survival("smile").rows()
    out["bin"] = sorted(r["account_id"] for r in
                        m.in_bin("ttv_after_days", 1).to_pyarrow().to_pylist())
    return json.loads(json.dumps(out, default=str))


def _same(a, b, path="") -> None:
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
    else:
        assert a == b, (path, a, b)


@pytest.fixture(scope="module")
def reference(company):
    return _mine(connect("duckdb://"), company)


@pytest.mark.parametrize("url", [POSTGRES, "spark://local[2]"], ids=["postgres", "spark"])
def test_same_numbers_on_every_engine(url, company, reference):
    con = connect(url)
    try:
        got = _mine(con, company)
    finally:
        if url.startswith("spark"):
            con._session.stop()
    _same(got, reference)
    assert reference["segment"]["slices"] and reference["weeks"] and reference["priority"]
    assert reference["segment"]["smile_hours_km"] is not None
