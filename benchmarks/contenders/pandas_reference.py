"""What an analyst would write instead: the same definitions in straightforward pandas.

Usage: python benchmarks/pandas_reference.py EVENTS.csv|EVENTS.parquet -> the summary as JSON.
Used by bench_report.py as the baseline; it also checks that both agree.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd

RANK = {"sale": 0, "value": 1, "interruption": 2, "handoff": 3, "smile": 4, "reopen": 5}


def summary(path: str) -> dict:
    if path.endswith(".parquet"):
        df = pd.read_parquet(path, columns=["account_id", "timestamp", "kind", "case_id", "team"])
    else:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True, format="ISO8601")
    df["kind"] = df["kind"].str.lower()
    df["seq"] = np.arange(len(df))
    df["rank"] = df["kind"].map(RANK)
    as_of = df["timestamp"].max()

    # Accounts: first sale, first value before and after it.
    sales = df[df.kind == "sale"].groupby("account_id")["timestamp"].min().rename("sale_at")
    values = df.loc[df.kind == "value", ["account_id", "timestamp"]].merge(
        sales, left_on="account_id", right_index=True)
    before = values[values.timestamp < values.sale_at].groupby("account_id")["timestamp"].min()
    after = values[values.timestamp >= values.sale_at].groupby("account_id")["timestamp"].min()
    accounts = sales.to_frame()
    accounts["ttv_before_days"] = ((before.reindex(accounts.index) - accounts.sale_at)
                                   .dt.total_seconds() / 86400).fillna(0.0)
    accounts["ttv_after_days"] = (after.reindex(accounts.index) - accounts.sale_at
                                  ).dt.total_seconds() / 86400

    # Cases: the clock, forward-filled per case.
    ce = df[df.kind.isin(["interruption", "handoff", "smile", "reopen"])]
    ce = ce.sort_values(["case_id", "timestamp", "rank", "seq"])
    ce = ce[(ce.kind == "interruption").groupby(ce.case_id).cumsum() >= 1].copy()
    effect = np.select([ce.kind.isin(["interruption", "reopen"]), ce.kind == "smile"],
                       [1.0, 0.0], np.nan)
    ce["state"] = pd.Series(effect, index=ce.index).groupby(ce.case_id).ffill()
    named = ce.team.where(ce.kind.isin(["interruption", "handoff", "reopen"]))
    ce["holder"] = named.groupby(ce.case_id).ffill().fillna("Unassigned")
    nxt = ce.groupby("case_id")["timestamp"].shift(-1).fillna(as_of)
    ce["run"] = np.where(ce.state == 1, (nxt - ce.timestamp).dt.total_seconds() / 3600, 0.0)
    cases = ce.groupby("case_id").agg(run=("run", "sum"), last=("state", "last"))
    resolved = cases[cases["last"] == 0]
    holds = ce[ce.state == 1].groupby(["case_id", "holder"])["run"].sum()
    teams = holds[holds > 0].groupby(level="holder").sum().sort_values(ascending=False)

    before_stat = accounts.ttv_before_days.median()
    reached = accounts.ttv_after_days.dropna()
    after_stat = reached.median() if len(reached) else None
    smile = resolved.run.median() if len(resolved) else None
    total = None if after_stat is None else before_stat + after_stat + (smile or 0) / 24
    return {"ttv_before_days": before_stat, "ttv_after_days": after_stat, "smile_hours": smile,
            "ttcv_days": total, "cases": int(len(cases)), "resolved_cases": int(len(resolved)),
            "teams": {k: float(v) for k, v in teams.items()}}


if __name__ == "__main__":
    json.dump(summary(sys.argv[1]), sys.stdout)
