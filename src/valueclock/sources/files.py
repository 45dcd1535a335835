"""Reading a status log from a file, and writing canonical events to one.

Reading *is* the event reader's (:mod:`valueclock.events`), so a status log is read exactly
as an event log is: the format is chosen by the extension (``.csv``, ``.tsv``,
``.parquet``/``.pq``, ``.jsonl``/``.ndjson``/``.json``, each optionally compressed, e.g.
``.csv.gz``); every CSV column is read as text, so ids such as ``007`` keep their zeros.
This module only picks the columns asked for, and reads a CSV *stream* (a file inside a
zip archive), which the event reader does not.

Writing is atomic: the events go to a temporary file beside the target, which is renamed
into place only when it is complete, so a failure never leaves half a file.
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from valueclock import events as _events
from valueclock.engines import duckdb_connect
from valueclock.errors import InputError

__all__ = ["read_table", "read_csv_stream", "write_events"]

def file_format(path: Path) -> str:
    """``csv``, ``tsv``, ``parquet`` or ``jsonl``, from the extension of ``path``."""
    return _events.file_format(Path(path))


def check_file(path: Path) -> None:
    """Raise :class:`InputError` unless ``path`` is a readable, non-empty file."""
    _events._check_file(Path(path))


def _missing(path: str, wanted: Sequence[str], found: Sequence[str]) -> None:
    for name in wanted:
        if name not in found:
            raise InputError(f"no such column (columns found: {', '.join(found) or 'none'})",
                             path=path, column=name)


def _cannot_read(path: Path, fmt: str, exc: Exception) -> InputError:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    message = re.sub(r"^(CSV parse error|JSON parse error): ", "", message)
    kind = {"csv": "CSV", "tsv": "TSV", "parquet": "Parquet", "jsonl": "JSON lines"}[fmt]
    return InputError(f"cannot read as {kind}: {message}", path=str(path))


def read_csv_stream(stream: IO[bytes], columns: Sequence[str], *, name: str,
                    delimiter: str = ",") -> pa.Table:
    """Read the named ``columns`` of a CSV byte stream (header first) as text.

    ``name`` is how errors refer to the stream (a file name, or ``archive.zip:inner.csv``).
    Empty fields stay empty strings; the converter turns them into nulls.
    """
    head = stream.read(1 << 16)
    text = head.decode("utf-8-sig", errors="replace")
    header = [c.strip() for c in next(csv.reader(io.StringIO(text), delimiter=delimiter), [])]
    if not header or header == [""]:
        raise InputError("no header row", path=name)
    _missing(name, columns, header)
    wanted = list(dict.fromkeys(columns))
    rest = io.BufferedReader(_Prefixed(head, stream), buffer_size=1 << 20)
    try:
        return pacsv.read_csv(
            rest,
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1,
                                           block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                include_columns=wanted,
                column_types={c: pa.string() for c in wanted},
                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError, UnicodeDecodeError) as exc:
        raise _cannot_read(Path(name), "csv", exc) from None


class _Prefixed(io.RawIOBase):
    """A byte stream that first gives back ``head`` (already read), then the rest."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self._head = memoryview(head)
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        if self._head.nbytes:
            n = min(len(buffer), self._head.nbytes)
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def read_table(path: str | Path, columns: Sequence[str]) -> pa.Table:
    """Read the named ``columns`` of a status log file (CSV, Parquet or JSON lines), with
    the event reader (:mod:`valueclock.events`).

    Raises :class:`InputError` naming the file when it is missing, unreadable, or lacks
    one of the ``columns`` (naming that column too).
    """
    return _events.read_columns(path, columns)


def _iso_text(ts: pa.ChunkedArray) -> pa.ChunkedArray:
    """UTC timestamps as ISO 8601 text ending in ``Z``; microseconds only when present."""
    ts = pc.cast(ts, pa.timestamp("us", tz="UTC"))
    whole = pc.floor_temporal(ts, unit="second")
    if len(ts) and pc.any(pc.not_equal(ts, whole)).as_py():
        return pc.strftime(ts, format="%Y-%m-%dT%H:%M:%SZ")  # %S has the fraction for us
    return pc.strftime(pc.cast(ts, pa.timestamp("s", tz="UTC")), format="%Y-%m-%dT%H:%M:%SZ")


def write_events(events: pa.Table, out: str | Path) -> Path:
    """Write canonical events to ``out``: Parquet when it ends in ``.parquet``, else CSV.

    CSV timestamps are ISO 8601 in UTC with ``Z``; nulls are empty fields.
    """
    out = Path(out)
    parquet = out.suffix.lower() in (".parquet", ".pq")
    if not out.parent.exists():
        raise InputError("the folder to write into does not exist", path=str(out))
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        if parquet:
            pq.write_table(events, tmp)
        else:
            i = events.column_names.index("timestamp")
            table = events.set_column(i, "timestamp", _iso_text(events.column("timestamp")))
            con = duckdb_connect()
            try:  # DuckDB quotes only the fields that need it, and keeps the row order
                con.from_arrow(table).write_csv(tmp, header=True)
            finally:
                con.close()
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out
