"""Where imported events go: an events file, or a workspace; and the state of API pulls.

An **events file** (``--out``) is written whole, atomically (see
:func:`~valueclock.sources.files.write_events`). An incremental API pull that re-fetched
some cases *merges*: the events of those cases are replaced, every other event of the
file is kept (each case's history is fetched whole, so its events are complete).

A **workspace** (``-w``) gets the events through its ingest, which adds each event once
(event ids are stable), so pulling again adds only what is new.

**State** (the cursor an API pull continues from) is a small JSON file, written
atomically and only after the events are safely written: next to the events file
(``EVENTS.csv.zendesk-state.json``), or in the workspace folder
(``.valueclock-state/zendesk-SUBDOMAIN.json``; the workspace module has no key/value
store of its own yet). A failed pull therefore leaves both the events and the state as
they were, and the next pull starts from the same place.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from valueclock.errors import InputError, UsageError
from valueclock.sources.files import write_events
from valueclock.sources.status_log import EVENTS_SCHEMA

__all__ = ["state_path", "load_state", "save_state", "merge_events", "deliver"]

STATE_DIR = ".valueclock-state"


def _slug(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z._-]+", "_", text).strip("_") or "default"


def state_path(source: str, key: str, *, out: Path | None = None,
               workspace: Path | None = None) -> Path:
    """Where the pull state of ``source`` (for ``key``, e.g. the subdomain) is kept."""
    if workspace is not None:
        return Path(workspace) / STATE_DIR / f"{source}-{_slug(key)}.json"
    if out is None:
        raise UsageError("say where the events go: --out EVENTS.csv or -w WORKSPACE")
    out = Path(out)
    return out.with_name(f"{out.name}.{source}-state.json")


def load_state(path: Path) -> dict[str, Any]:
    """The saved state, or ``{}`` when there is none."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the saved pull state: {exc}; delete it to pull "
                         "everything again", path=str(path)) from None
    if not isinstance(data, dict):
        raise InputError("the saved pull state is not a JSON object; delete it to pull "
                         "everything again", path=str(path))
    return data


def save_state(path: Path, state: dict[str, Any]) -> None:
    """Write the state atomically (a temporary file renamed into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(state, f, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _canonical(table: pa.Table) -> pa.Table:
    """The canonical columns of events read back from a file, typed as the converter's."""
    cols = {}
    for name in EVENTS_SCHEMA.names:
        column = table.column(name)
        if name == "timestamp":
            column = pc.cast(pc.assume_timezone(column, "UTC")
                             if getattr(column.type, "tz", None) is None else column,
                             EVENTS_SCHEMA.field(name).type)
        else:
            column = pc.cast(column, pa.string())
        cols[name] = column
    return pa.table(cols, schema=EVENTS_SCHEMA)


def merge_events(existing: Path, new: pa.Table, replaced_cases: Iterable[str]) -> pa.Table:
    """The events of ``existing`` (an events file written earlier) less those of
    ``replaced_cases``, then ``new``. Only the canonical columns are kept."""
    from valueclock.events import read_events  # the one reader of event files

    old = _canonical(read_events(existing))
    replaced = pa.array(sorted(set(replaced_cases)), pa.string())
    keep = pc.invert(pc.fill_null(pc.is_in(old.column("case_id"), value_set=replaced),
                                  False))
    # A re-fetched event with the id of a kept one (a case id reused) is taken once.
    kept = old.filter(keep)
    fresh = new.select(EVENTS_SCHEMA.names).cast(EVENTS_SCHEMA)
    dup = pc.is_in(kept.column("event_id"), value_set=fresh.column("event_id"))
    kept = kept.filter(pc.invert(pc.fill_null(dup, False)))
    return pa.concat_tables([kept, fresh])


def deliver(events: pa.Table, *, out: Path | None = None, workspace: Path | None = None,
            name: str = "imported-events") -> dict[str, Any]:
    """Write ``events`` to ``out`` or ingest them into ``workspace``; what was done.

    ``name`` names the staged file the workspace records as the ingest's source
    (``zendesk.parquet``)."""
    if (out is None) == (workspace is None):
        raise UsageError("say where the events go: --out EVENTS.csv (or .parquet), or "
                         "-w WORKSPACE (one of them)")
    if out is not None:
        write_events(events, out)
        return {"written": str(out)}
    try:
        from valueclock.workspace import Workspace
    except ImportError:  # pragma: no cover - the workspace is part of the package
        raise UsageError("this valueclock has no workspaces: use --out EVENTS.csv") from None
    with tempfile.TemporaryDirectory(prefix="valueclock-import-") as folder:
        staged = write_events(events, Path(folder) / f"{_slug(name)}.parquet")
        with Workspace.open(workspace) as ws:
            result = ws.ingest([staged])
    return {"workspace": str(workspace), "added": getattr(result, "added", None),
            "already_present": getattr(result, "already_present", None)}
