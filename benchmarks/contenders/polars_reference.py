"""What an analyst fluent in polars would write: the same definitions, lazily.

Usage: python polars_reference.py EVENTS.parquet -> prints the summary as JSON.
"""

from __future__ import annotations

import json
import sys

import polars as pl

RANK = {"sale": 0, "value": 1, "interruption": 2, "handoff": 3, "smile": 4, "reopen": 5}
CASE_KINDS = ["interruption", "handoff", "smile", "reopen"]


def summary(path: str) -> dict:
    ev = (pl.scan_parquet(path)
          .select("account_id", "timestamp", "kind", "case_id", "team", pl.col("_seq").alias("seq"))
          .with_columns(pl.col("kind").str.to_lowercase())
          .filter(pl.col("account_id").is_not_null() & pl.col("timestamp").is_not_null()
                  & pl.col("kind").is_in(list(RANK)))
          .filter(~(pl.col("kind").is_in(CASE_KINDS) & pl.col("case_id").is_null()))
          .with_columns(pl.col("kind").replace_strict(RANK, return_dtype=pl.Int8).alias("rnk"))
          .collect())
    as_of = ev["timestamp"].max()

    sales = (ev.lazy().filter(pl.col("kind") == "sale").group_by("account_id")
             .agg(pl.col("timestamp").min().alias("sale_at")))
    values = ev.lazy().filter(pl.col("kind") == "value").select("account_id", "timestamp")
    acc = (sales.join(values, on="account_id", how="left")
           .group_by("account_id", "sale_at")
           .agg(pl.col("timestamp").filter(pl.col("timestamp") < pl.col("sale_at")).min()
                .alias("before"),
                pl.col("timestamp").filter(pl.col("timestamp") >= pl.col("sale_at")).min()
                .alias("after"))
           .with_columns(((pl.col("before") - pl.col("sale_at")).dt.total_microseconds()
                          / 8.64e10).fill_null(0.0).alias("ttv_before"),
                         ((pl.col("after") - pl.col("sale_at")).dt.total_microseconds()
                          / 8.64e10).alias("ttv_after"))
           .collect())

    ce = (ev.lazy().filter(pl.col("kind").is_in(CASE_KINDS))
          .sort("case_id", "timestamp", "rnk", "seq")
          .with_columns((pl.col("kind") == "interruption").cast(pl.Int32).cum_sum()
                        .over("case_id").alias("n_int"))
          .filter(pl.col("n_int") >= 1)
          .with_columns(
              pl.when(pl.col("kind").is_in(["interruption", "reopen"])).then(1)
              .when(pl.col("kind") == "smile").then(0).otherwise(None)
              .forward_fill().over("case_id").alias("state"),
              pl.when(pl.col("kind").is_in(["interruption", "handoff", "reopen"]))
              .then(pl.col("team")).otherwise(None)
              .forward_fill().over("case_id").fill_null("Unassigned").alias("holder"),
              pl.col("timestamp").shift(-1).over("case_id").fill_null(as_of).alias("nxt"))
          .with_columns(pl.when(pl.col("state") == 1)
                        .then((pl.col("nxt") - pl.col("timestamp")).dt.total_microseconds())
                        .otherwise(0).alias("run_us"))
          .collect())
    cases = ce.group_by("case_id").agg((pl.col("run_us").sum() / 3.6e9).alias("hours"),
                                       pl.col("state").last().alias("final"))
    resolved = cases.filter(pl.col("final") == 0)
    teams = (ce.filter(pl.col("state") == 1).group_by("case_id", "holder")
             .agg(pl.col("run_us").sum()).filter(pl.col("run_us") > 0)
             .group_by("holder").agg(pl.col("run_us").sum() / 3.6e9))
    before = acc["ttv_before"].median()
    after = acc["ttv_after"].drop_nulls().median()
    smile = resolved["hours"].median() if resolved.height else None
    total = None if after is None else before + after + (smile or 0) / 24
    return {"ttv_before_days": before, "ttv_after_days": after, "smile_hours": smile,
            "ttcv_days": total, "cases": cases.height, "resolved_cases": resolved.height,
            "teams": dict(zip(teams["holder"].to_list(), teams["run_us"].to_list(),
                              strict=True))}


if __name__ == "__main__":
    json.dump(summary(sys.argv[1]), sys.stdout)
