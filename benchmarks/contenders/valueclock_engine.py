"""valueclock's engine alone: the log already in the engine, measured and summarised.

Usage: python valueclock_engine.py EVENTS.parquet [ENGINE_URL] -> the summary as JSON.
The file is read by the engine itself (DuckDB or Spark), so this times the Ibis
expressions and not valueclock's file reader.
"""

from __future__ import annotations

import json
import sys

from valueclock.engine import Measurement
from valueclock.engines import connect

path = sys.argv[1]
con = connect(sys.argv[2] if len(sys.argv) > 2 else "duckdb://")
m = Measurement(con.read_parquet(path), cache=True)
s = m.summary()
print(json.dumps({k: s[k] for k in ("ttv_before_days", "ttv_after_days", "smile_hours",
                                    "ttcv_days", "cases", "resolved_cases")}
                 | {"teams": {t["team"]: t["hours"] for t in s["teams"]}}))
