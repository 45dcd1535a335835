"""Kaplan-Meier, distributions, slices and periods: the same numbers on DuckDB, PostgreSQL
and Spark (pure Ibis; only the product-limit over the counts runs in numpy).

Where the engines are: tests/engine_helpers.py.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from tests.engine_helpers import POSTGRES, same
from valueclock import demo
from valueclock.engine import Measurement
from valueclock.engine import slices as _slices
from valueclock.engine.summary import Stat
from valueclock.engines import connect, load
from valueclock.events import read_accounts, read_events


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
    same(got, reference)
    assert reference["segment"]["slices"] and reference["weeks"] and reference["priority"]
    assert reference["segment"]["smile_hours_km"] is not None
