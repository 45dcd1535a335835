"""Helpers for the source tests: small status logs written as readable tables."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from valueclock.sources.status_log import ConversionResult

#: The real, public logs (``../shared/data`` beside the repository, in CI too).
DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def log(text: str) -> pa.Table:
    """A status log from a pipe table: a header row, then one row per change.

    Cells are stripped; an empty cell is an empty string (the converter reads it as empty).
    """
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in lines[1:]]
    return pa.table({name: pa.array([r[i] for r in rows], pa.string())
                     for i, name in enumerate(header)})


def journey(result: ConversionResult) -> list[tuple]:
    """The events as (case, kind, time, team, label, account), times as ISO text."""
    out = []
    for e in result.events.to_pylist():
        ts = e["timestamp"].strftime("%Y-%m-%d %H:%M")
        out.append((e["case_id"], e["kind"], ts, e["team"], e["label"], e["account_id"]))
    return out
