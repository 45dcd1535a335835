"""XES event logs (IEEE 1849), plain or gzipped, streamed into a status log.

A trace is a case; each of its events is a row of the status log. The file is streamed
through expat (the parser behind ``iterparse``) with callbacks that keep only the values
asked for, in compact Arrow arrays; no XML tree is ever built, so a log of millions of
events imports without filling memory.

Columns of the status log: trace attributes are named ``case:KEY`` (the convention of
process-mining tools, so ``case:concept:name`` is the trace's name) and event attributes
by their key (``concept:name``, ``time:timestamp``, ``org:group``, ...). Only attributes
written on the trace or event itself are read; ``<global>`` defaults are not applied (a
missing attribute is empty, and shows in the problems when it matters).
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO
from xml.parsers import expat

import pyarrow as pa
import pyarrow.compute as pc

from valueclock.errors import InputError
from valueclock.sources.files import check_file
from valueclock.sources.status_log import ConversionResult, status_log_to_events

__all__ = ["read_xes", "xes_to_events"]

_BATCH = 65_536
#: Called now and then while reading: (bytes of the file read so far, file size).
Progress = Callable[[int, int], None]


def _local(tag: str) -> str:
    return tag.rsplit(":", 1)[-1]


class _Reader:
    """A file read in chunks by the XML parser, telling ``progress`` how far it is."""

    def __init__(self, path: Path, progress: Progress | None) -> None:
        self._raw = open(path, "rb")  # noqa: SIM115 - closed in close()
        magic = self._raw.read(2)
        self._raw.seek(0)
        self._stream: IO[bytes] = (gzip.GzipFile(fileobj=self._raw) if magic == b"\x1f\x8b"
                                   else self._raw)
        self._size = os.path.getsize(path)
        self._progress = progress

    def read(self, n: int) -> bytes:
        data = self._stream.read(n)
        if self._progress is not None:
            self._progress(self._raw.tell() if data else self._size, self._size)
        return data

    def close(self) -> None:
        self._stream.close()
        self._raw.close()


def read_xes(path: str | Path, *, event_keys: Sequence[str],
             trace_keys: Sequence[str] = ("concept:name",),
             progress: Progress | None = None) -> pa.Table:
    """Read an XES file into a table with one row per event, in file order.

    Columns: ``case:KEY`` for each of ``trace_keys`` and ``KEY`` for each of
    ``event_keys``, all text (dates as written, ISO 8601). Raises :class:`InputError`
    naming the file when it is missing or is not XES.

    The parser is expat, driven by callbacks that keep only the wanted attribute values
    (much faster than building elements, and nothing of the XML tree is kept).
    """
    path = Path(path)
    check_file(path)
    event_keys = list(dict.fromkeys(event_keys))
    trace_keys = list(dict.fromkeys(trace_keys))
    names = [f"case:{k}" for k in trace_keys] + event_keys
    columns: list[list[str | None]] = [[] for _ in names]
    batches: list[pa.RecordBatch] = []
    wanted_events = set(event_keys)
    wanted_traces = set(trace_keys)

    def flush() -> None:
        if columns[0]:
            batches.append(pa.record_batch(
                [pa.array(values, pa.string()) for values in columns], names=names))
            for values in columns:
                values.clear()

    depth = 0
    trace_values: dict[str, str | None] = {}
    event_values: dict[str, str | None] = {}
    pending: list[dict[str, str | None]] = []
    in_trace = in_event = False

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal depth, in_trace, in_event, event_values
        depth += 1
        if depth == 1:
            if _local(name) != "log":
                raise InputError(f"not an XES log (the root element is <{name}>, not <log>)",
                                 path=str(path))
        elif depth == 2:
            in_trace = _local(name) == "trace"
            if in_trace:
                trace_values.clear()
        elif in_trace and depth == 3:
            if _local(name) == "event":
                in_event = True
                event_values = {}
            else:
                key = attrs.get("key")
                if key in wanted_traces:
                    trace_values[key] = attrs.get("value")
        elif in_event and depth == 4:
            key = attrs.get("key")
            if key in wanted_events:
                event_values[key] = attrs.get("value")

    def end(name: str) -> None:
        nonlocal depth, in_trace, in_event
        if in_event and depth == 3:
            pending.append(event_values)
            in_event = False
        elif in_trace and depth == 2:
            for values in pending:
                for i, key in enumerate(trace_keys):
                    columns[i].append(trace_values.get(key))
                for i, key in enumerate(event_keys, start=len(trace_keys)):
                    columns[i].append(values.get(key))
            pending.clear()
            in_trace = False
            if len(columns[0]) >= _BATCH:
                flush()
        depth -= 1

    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    reader = _Reader(path, progress)
    try:
        parser.ParseFile(reader)
    except expat.ExpatError as exc:
        raise InputError(f"cannot read as XES: {expat.errors.messages[exc.code]} "
                         f"(line {exc.lineno})", path=str(path)) from None
    except (OSError, EOFError) as exc:  # a broken gzip stream
        raise InputError(f"cannot read as XES: {exc}", path=str(path)) from None
    finally:
        reader.close()
    flush()
    schema = pa.schema([(name, pa.string()) for name in names])
    return pa.Table.from_batches(batches, schema=schema)


def xes_to_events(
    path: str | Path, *,
    smile: Sequence[str],
    status: str = "concept:name",
    team: str | None = "org:group",
    account: str | None = None,
    case: str = "concept:name",
    time: str = "time:timestamp",
    timezone: str = "UTC",
    source: str = "xes",
    team_pattern: str | None = None,
    team_unmatched: str | None = None,
    attributes: Sequence[str] = (),
    progress: Progress | None = None,
) -> ConversionResult:
    """Import an XES log: trace attribute ``case`` names the case, each event is a row.

    ``status``, ``team`` and ``time`` are event attributes; ``account`` is an event
    attribute, or, on events that lack it, the trace attribute of that key. For the BPI
    Challenge 2013 incidents: ``status="lifecycle:transition"``,
    ``smile=["Resolved", "Closed"]``, and for support lines rather than teams
    ``team_pattern=r"(2nd|3rd)$", team_unmatched="1st"``.
    """
    event_keys = [time, status] + [k for k in (team, account) if k] + list(attributes)
    trace_keys = [case] + ([account] if account else [])
    table = read_xes(path, event_keys=event_keys, trace_keys=trace_keys, progress=progress)
    account_col = None
    if account:
        account_col = "_account"
        table = table.append_column(account_col, pc.coalesce(
            table.column(account), table.column(f"case:{account}")))
    return status_log_to_events(
        table, case=f"case:{case}", time=time, status=status, team=team,
        account=account_col, smile=smile, timezone=timezone, source=source,
        team_pattern=team_pattern, team_unmatched=team_unmatched, attributes=attributes)
