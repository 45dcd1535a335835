"""Small pieces the API and export connectors share: times, ids, tables, JSON documents.

Connectors flatten vendor JSON into rows here and hand them on: help desks and trackers
to :func:`~valueclock.sources.status_log.status_log_to_events` as a status log, CRMs and
analytics as ready ``sale`` / ``value`` events (:func:`events_table`).
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from valueclock.errors import InputError
from valueclock.schema import KIND_RANK
from valueclock.sources.status_log import EVENTS_SCHEMA, ConversionResult

__all__ = ["instant", "text", "event_id", "status_log_table", "events_table",
           "read_json_documents", "Problems"]

_SEP = "\x1f"
TIME_TYPE = pa.timestamp("us", tz="UTC")


def instant(value: Any) -> datetime | None:
    """A moment from an API: ISO 8601 text (``Z``, ``+01:00`` or ``+0100``), or epoch
    seconds / milliseconds / microseconds as a number or digits. Naive text is UTC.
    None when it cannot be read."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and value.strip().lstrip("-").replace(".", "", 1).isdigit():
        number = float(value.strip())
    else:
        number = None
    if number is not None:
        for scale in (1, 1e3, 1e6):  # seconds, milliseconds, microseconds since 1970
            if abs(number / scale) < 1e10:
                return datetime.fromtimestamp(number / scale, UTC)
        return None
    if not isinstance(value, str):
        return None
    s = value.strip().replace(" UTC", "Z")
    if len(s) > 5 and s[-5] in "+-" and s[-4:].isdigit() and s[-6] != ":":
        s = s[:-2] + ":" + s[-2:]  # +0100 -> +01:00
    try:
        parsed = datetime.fromisoformat(s)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def text(value: Any) -> str | None:
    """A value as trimmed text; None, empty text and empty containers as None.

    Objects give their ``name`` / ``value`` / ``displayName`` / ``title`` / ``key``; a list
    gives its first element's text.
    """
    if value is None:
        return None
    if isinstance(value, dict):
        for key in ("name", "value", "displayName", "title", "key", "id"):
            if value.get(key) not in (None, ""):
                return text(value[key])
        return None
    if isinstance(value, list):
        for item in value:
            found = text(item)
            if found:
                return found
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    out = str(value).strip()
    return out or None


def event_id(source: str, *parts: Any) -> str:
    """The first 20 hex digits of a SHA-256 of ``source`` and ``parts``: stable ids."""
    key = _SEP.join([source, *("" if p is None else str(p) for p in parts)])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def status_log_table(rows: Sequence[dict[str, Any]]) -> pa.Table:
    """Rows ``{case, time (datetime), status, team, account}`` as a status log table."""
    return pa.table({
        "case": pa.array([r.get("case") for r in rows], pa.string()),
        "time": pa.array([r.get("time") for r in rows], TIME_TYPE),
        "status": pa.array([r.get("status") for r in rows], pa.string()),
        "team": pa.array([r.get("team") for r in rows], pa.string()),
        "account": pa.array([r.get("account") for r in rows], pa.string()),
    })


def events_table(rows: Sequence[dict[str, Any]], attributes: Sequence[str] = ()) -> pa.Table:
    """Canonical events (:data:`EVENTS_SCHEMA`, then ``attributes`` as text) from dicts,
    ordered by account, time and kind."""
    rows = sorted(rows, key=lambda r: (r["account_id"], r["timestamp"],
                                       KIND_RANK.get(r["kind"], 9), r.get("event_id") or ""))
    columns: dict[str, pa.Array] = {
        name: pa.array([r.get(name) for r in rows], EVENTS_SCHEMA.field(name).type)
        for name in EVENTS_SCHEMA.names}
    table = pa.table(columns, schema=EVENTS_SCHEMA)
    for name in attributes:
        table = table.append_column(name, pa.array([text(r.get(name)) for r in rows],
                                                   pa.string()))
    return table


@dataclass
class Problems:
    """Problems found while flattening: counted, with a few examples, never silent."""

    found: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, problem: str, example: Any = None) -> None:
        entry = self.found.setdefault(problem, {"problem": problem, "count": 0,
                                                "examples": []})
        entry["count"] += 1
        if example is not None and len(entry["examples"]) < 5:
            entry["examples"].append(str(example))

    def as_list(self) -> list[dict[str, Any]]:
        return list(self.found.values())


def result(events: pa.Table, problems: Problems | list[dict[str, Any]], rows: int,
           cases: int = 0) -> ConversionResult:
    listed = problems.as_list() if isinstance(problems, Problems) else problems
    return ConversionResult(events=events, problems=listed, rows=rows, cases=cases)


def _open_text(path: Path) -> Any:
    if path.suffix.lower() == ".gz":
        return gzip.open(path, "rt", encoding="utf-8-sig")
    return path.open("r", encoding="utf-8-sig")


def read_json_documents(path: str | Path) -> Iterator[Any]:
    """The JSON documents of a file: one document (``.json``), or one per line (JSON lines,
    any extension), optionally gzipped. A file that is neither is an :class:`InputError`
    naming the file and line."""
    path = Path(path)
    if not path.exists():
        raise InputError("file not found", path=str(path))
    if path.is_dir():
        raise InputError("is a directory, not a file", path=str(path))
    try:
        with _open_text(path) as f:
            content = f.read()
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise InputError(f"cannot read as JSON: {exc}", path=str(path)) from None
    if not content.strip():
        raise InputError("the file is empty", path=str(path))
    try:
        yield json.loads(content)
        return
    except json.JSONDecodeError:
        pass
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"cannot read as JSON or JSON lines: {exc.msg}",
                             path=str(path), row=number) from None


def records(documents: Iterable[Any], key: str) -> Iterator[dict[str, Any]]:
    """The objects under ``key`` in each document (an API page such as
    ``{"tickets": [...]}``), or the documents themselves when they are lists of objects
    or objects without ``key``."""
    for doc in documents:
        if isinstance(doc, dict) and key in doc:
            items = doc[key]
            if isinstance(items, list):
                yield from (i for i in items if isinstance(i, dict))
        elif isinstance(doc, list):
            for item in doc:
                if isinstance(item, dict) and key in item:
                    yield from records([item], key)
                elif isinstance(item, dict):
                    yield item
        elif isinstance(doc, dict):
            yield doc
