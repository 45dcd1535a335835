"""What the cross-engine tests share: where the engines are, and "the same results".

PostgreSQL is reached at $VALUECLOCK_TEST_POSTGRES (default
postgres://valueclock:valueclock@127.0.0.1:5432/valueclock, which scripts/test.sh sets
up); Spark runs in local mode. A missing server is a failure, never a skip.
"""

from __future__ import annotations

import math
import os
from datetime import datetime

POSTGRES = os.environ.get("VALUECLOCK_TEST_POSTGRES",
                          "postgres://valueclock:valueclock@127.0.0.1:5432/valueclock")
ENGINE_URLS = {"duckdb": "duckdb://", "postgres": POSTGRES, "spark": "spark://local[2]"}


def same(a, b, path: str = "") -> None:
    """``a`` and ``b`` are the same results: identical keys, counts, ids and texts;
    numbers within a relative difference of 1e-9; moments equal whatever their zone."""
    if isinstance(a, dict):
        assert a.keys() == b.keys(), path
        for k in a:
            same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, (int, float)):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (path, a, b)
    elif isinstance(a, datetime):
        assert a.replace(tzinfo=None) == b.replace(tzinfo=None), path
    else:
        assert a == b, (path, a, b)
