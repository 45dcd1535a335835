"""Teams, business hours and what-if give the same numbers on PostgreSQL and Spark as on
DuckDB. Where the engines are: tests/engine_helpers.py."""

from __future__ import annotations

import pytest

from tests.engine_helpers import POSTGRES, same
from tests.test_calendar import EXAMPLE
from valueclock import demo
from valueclock.calendar import Calendar
from valueclock.engine import Measurement


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


@pytest.mark.parametrize("url", [POSTGRES, "spark://local[2]"], ids=["postgres", "spark"])
def test_every_engine_agrees_with_duckdb(url):
    try:
        got = _results(url)
    finally:
        if url.startswith("spark"):
            from pyspark.sql import SparkSession

            SparkSession.getActiveSession().stop()
    same(got, _results("duckdb://"))
