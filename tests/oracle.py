"""A second, deliberately plain implementation of docs/metric.md, row by row in Python.

It shares no code with the engine, so agreement between the two is evidence that both
read the spec the same way. Only for small test logs.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

RANK = {"sale": 0, "value": 1, "interruption": 2, "handoff": 3, "smile": 4, "reopen": 5}


def hours(a: datetime, b: datetime) -> float:
    return (b - a) / (b - a).__class__(hours=1)


def measure(rows: list[dict], as_of: datetime | None = None) -> dict:
    """rows: dicts with account_id, timestamp (naive UTC), kind, case_id, team, in read order."""
    events = [dict(r, seq=i) for i, r in enumerate(rows)]
    if as_of is None:
        as_of = max(e["timestamp"] for e in events)
    events = [e for e in events if e["timestamp"] <= as_of]
    events.sort(key=lambda e: (e["timestamp"], RANK[e["kind"]], e["seq"]))

    by_case = defaultdict(list)
    for e in events:
        if e["kind"] in ("interruption", "handoff", "smile", "reopen"):
            by_case[e["case_id"]].append(e)
    cases, holds = {}, defaultdict(float)
    for case_id, evs in by_case.items():
        starts = [i for i, e in enumerate(evs) if e["kind"] == "interruption"]
        if not starts:
            continue
        evs = evs[starts[0]:]
        running, holder, total, reopens, smiled_at, handoffs = False, "Unassigned", 0.0, 0, None, 0
        for i, e in enumerate(evs):
            k = e["kind"]
            if k in ("interruption", "handoff", "reopen") and e.get("team"):
                holder = e["team"]
            if k == "handoff":
                handoffs += 1
            if k in ("interruption", "reopen"):
                if not running and i > 0:
                    reopens += 1
                running = True
            elif k == "smile" and running:
                running = False
                smiled_at = e["timestamp"]
            end = evs[i + 1]["timestamp"] if i + 1 < len(evs) else as_of
            if running:
                span = hours(e["timestamp"], end)
                total += span
                if span > 0:
                    holds[(case_id, holder)] += span
        start = evs[0]["timestamp"]
        cases[case_id] = {
            "account_id": evs[0]["account_id"], "resolved": not running,
            "smile_hours": None if running else total, "open_hours": total if running else None,
            "elapsed_hours": None if running else hours(start, smiled_at),
            "reopens": reopens, "handoffs": handoffs, "started_at": start,
            "smiled_at": None if running else smiled_at,
        }

    accounts = {}
    sales = defaultdict(list)
    values = defaultdict(list)
    for e in events:
        if e["kind"] == "sale":
            sales[e["account_id"]].append(e["timestamp"])
        elif e["kind"] == "value":
            values[e["account_id"]].append(e["timestamp"])
    for acc, ss in sales.items():
        sale = min(ss)
        before = [v for v in values[acc] if v < sale]
        after = [v for v in values[acc] if v >= sale]
        ttv_before = (min(before) - sale).total_seconds() / 86400 if before else 0.0
        ttv_after = (min(after) - sale).total_seconds() / 86400 if after else None
        mine = [c for c in cases.values() if c["account_id"] == acc]
        resolved = [c["smile_hours"] for c in mine if c["resolved"]]
        smile = sum(resolved) / len(resolved) if resolved else 0.0
        accounts[acc] = {
            "ttv_before_days": ttv_before, "ttv_after_days": ttv_after,
            "value_reached": ttv_after is not None,
            "waiting_days": None if after else (as_of - sale).total_seconds() / 86400,
            "cases": len(mine), "open_cases": sum(not c["resolved"] for c in mine),
            "smile_hours": smile,
            "ttcv_days": None if ttv_after is None else ttv_before + ttv_after + smile / 24,
        }
    return {"cases": cases, "holds": dict(holds), "accounts": accounts, "as_of": as_of}
