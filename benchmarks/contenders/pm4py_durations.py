"""pm4py's case durations over the case events: the Time to Smile part as process mining has it.

Usage: python pm4py_durations.py EVENTS.parquet -> prints {"cases", "median_hours"} as JSON.
pm4py measures a case from its first to its last event (elapsed time, happy gaps
included); it has no notion of the clock stopping at a smile or of who held it.
"""

from __future__ import annotations

import json
import statistics
import sys

import pandas as pd
import pm4py

frame = pd.read_parquet(sys.argv[1], columns=["case_id", "timestamp", "kind"])
frame = frame[frame["kind"].isin(["interruption", "handoff", "smile", "reopen"])]
frame = pm4py.format_dataframe(frame, case_id="case_id", activity_key="kind",
                               timestamp_key="timestamp")
durations = pm4py.get_all_case_durations(frame)
json.dump({"cases": len(durations), "median_hours": statistics.median(durations) / 3600},
          sys.stdout)
