"""Helpers for the workspace tests: demo files, and a fingerprint of a workspace's content."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from valueclock import demo
from valueclock.workspace import CONFIG_NAME, Workspace

#: Keys of a report that depend on the data only (not on where it was read from).
NUMBERS = ("ttcv_days", "ttcv_text", "ttv_before_days", "ttv_after_days", "smile_hours",
           "accounts", "prospects", "sold_accounts", "value_reached_accounts", "cases",
           "resolved_cases", "open_cases", "teams", "as_of")


def write_csv(table: pa.Table, path: Path) -> Path:
    """Write demo events (timestamps as ISO 8601 text with Z) to a CSV file."""
    pacsv.write_csv(demo._iso_timestamps(table), path)
    return path


def fingerprint(where: Path | Workspace) -> dict[str, Any]:
    """Everything a workspace holds, in a form two snapshots can be compared by: counts,
    ingests, a hash of every stored row, the settings file. ``where`` is a folder, or a
    workspace open in this process."""
    if isinstance(where, Workspace):
        return _fingerprint(where)
    with Workspace.open(where, read_only=True) as ws:
        return _fingerprint(ws)


def _fingerprint(ws: Workspace) -> dict[str, Any]:
    tables = {}
    for table in ("events", "quarantine", "accounts", "ingests", "meta"):
        cols = ", ".join(f'"{c}"' for c in ws._columns(table))
        tables[table] = ws._con.execute(
            f"SELECT count(*), CAST(sum(hash({cols})) AS VARCHAR) FROM {table}"
        ).fetchall()[0]
    return {"tables": tables, "columns": {t: ws._columns(t) for t in tables},
            "config": (ws.folder / CONFIG_NAME).read_text(), "sources": ws.sources()}


def numbers(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: summary.get(k) for k in NUMBERS}
