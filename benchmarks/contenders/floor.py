"""The floor: one hand-written DuckDB SQL query for the same per-case and per-account numbers.

Usage: python floor.py EVENTS.parquet -> prints the summary as JSON.
Written as a DuckDB expert would, with DuckDB-only conveniences (LAST_VALUE ... IGNORE
NULLS, MAX_BY, FILTER) that valueclock's portable engine cannot use.
"""

from __future__ import annotations

import json
import sys

import duckdb

SQL = """
CREATE TEMP TABLE ev AS
SELECT account_id, timestamp, kind, case_id, team, _seq AS seq,
       CASE kind WHEN 'sale' THEN 0 WHEN 'value' THEN 1 WHEN 'interruption' THEN 2
                 WHEN 'handoff' THEN 3 WHEN 'smile' THEN 4 ELSE 5 END AS rnk
FROM read_parquet($path)
WHERE account_id IS NOT NULL AND timestamp IS NOT NULL
  AND kind IN ('sale', 'value', 'interruption', 'handoff', 'smile', 'reopen')
  AND NOT (kind IN ('interruption', 'handoff', 'smile', 'reopen') AND case_id IS NULL);

CREATE TEMP TABLE case_rows AS
WITH ce AS (
  SELECT *, SUM((kind = 'interruption')::INT) OVER w AS n_int
  FROM ev WHERE kind IN ('interruption', 'handoff', 'smile', 'reopen')
  WINDOW w AS (PARTITION BY case_id ORDER BY timestamp, rnk, seq ROWS UNBOUNDED PRECEDING)
), m AS (
  SELECT *,
    LAST_VALUE(CASE WHEN kind IN ('interruption', 'reopen') THEN 1 WHEN kind = 'smile' THEN 0 END
               IGNORE NULLS) OVER w AS state,
    COALESCE(LAST_VALUE(CASE WHEN kind IN ('interruption', 'handoff', 'reopen') THEN team END
                        IGNORE NULLS) OVER w, 'Unassigned') AS holder,
    LEAD(timestamp) OVER w AS nxt,
    ROW_NUMBER() OVER w AS pos
  FROM ce WHERE n_int >= 1
  WINDOW w AS (PARTITION BY case_id ORDER BY timestamp, rnk, seq ROWS BETWEEN UNBOUNDED PRECEDING
               AND CURRENT ROW)
)
SELECT *, CASE WHEN state = 1
          THEN DATE_DIFF('microsecond', timestamp, COALESCE(nxt, (SELECT MAX(timestamp) FROM ev)))
          ELSE 0 END AS run_us
FROM m;

CREATE TEMP TABLE cases AS
SELECT case_id, MAX_BY(account_id, -pos) AS account_id, SUM(run_us) / 3.6e9 AS hours,
       MAX_BY(state, pos) = 0 AS resolved
FROM case_rows GROUP BY case_id;

CREATE TEMP TABLE holds AS
SELECT case_id, holder AS team, SUM(run_us) / 3.6e9 AS hours
FROM case_rows WHERE state = 1 GROUP BY ALL HAVING SUM(run_us) > 0;

CREATE TEMP TABLE accounts AS
WITH sales AS (SELECT account_id, MIN(timestamp) AS sale_at FROM ev WHERE kind = 'sale'
               GROUP BY account_id),
j AS (
  SELECT s.account_id, s.sale_at,
         MIN(v.timestamp) FILTER (WHERE v.timestamp < s.sale_at) AS before_at,
         MIN(v.timestamp) FILTER (WHERE v.timestamp >= s.sale_at) AS after_at
  FROM sales s LEFT JOIN ev v ON v.account_id = s.account_id AND v.kind = 'value'
  GROUP BY ALL
), c AS (
  SELECT account_id, COUNT(*) AS cases, COUNT(*) FILTER (WHERE NOT resolved) AS open_cases,
         AVG(hours) FILTER (WHERE resolved) AS smile_hours
  FROM cases GROUP BY account_id
)
SELECT j.*, COALESCE(DATE_DIFF('microsecond', sale_at, before_at) / 8.64e10, 0) AS ttv_before,
       DATE_DIFF('microsecond', sale_at, after_at) / 8.64e10 AS ttv_after,
       COALESCE(c.cases, 0) AS cases, COALESCE(c.open_cases, 0) AS open_cases,
       COALESCE(c.smile_hours, 0) AS smile_hours
FROM j LEFT JOIN c USING (account_id);
"""


def summary(path: str) -> dict:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for statement in SQL.split(";"):
        if statement.strip():
            con.execute(statement, {"path": path} if "$path" in statement else None)
    before, after = con.execute("SELECT MEDIAN(ttv_before), MEDIAN(ttv_after) FROM accounts"
                                ).fetchone()
    smile, n, resolved = con.execute(
        "SELECT MEDIAN(hours) FILTER (WHERE resolved), COUNT(*), COUNT(*) FILTER (WHERE "
        "resolved) FROM cases").fetchone()
    teams = dict(con.execute("SELECT team, SUM(hours) FROM holds GROUP BY team").fetchall())
    total = None if after is None else before + after + (smile or 0) / 24
    return {"ttv_before_days": before, "ttv_after_days": after, "smile_hours": smile,
            "ttcv_days": total, "cases": n, "resolved_cases": resolved, "teams": teams}


if __name__ == "__main__":
    json.dump(summary(sys.argv[1]), sys.stdout)
