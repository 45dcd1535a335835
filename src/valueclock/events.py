"""Reading the canonical event log (and the accounts table) from files.

The reader keeps every row. It only normalises: trims text, turns empty fields into
nulls, lower-cases ``kind``, and parses ``timestamp`` into UTC. A row that cannot be
used (unknown kind, missing id, unparseable time) is kept as it is and reported by the
engine as a data problem; only a file that cannot be read at all stops the reading.

Internal columns added to every row, used for ordering and for naming problems:

- ``_source``: the file the row came from;
- ``_row``: where the row is in its file: the line number in CSV and JSON lines files
  (the header is line 1 of a CSV file, so the first data row is line 2), the row
  number counting from 1 in Parquet files;
- ``_seq``: the order in which rows were read, across all files;
- ``_timestamp_raw``: the timestamp as written, to show in problem examples.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from valueclock.errors import InputError, UsageError
from valueclock.schema import EVENT_COLUMNS, KINDS, REQUIRED_COLUMNS

__all__ = [
    "read_events",
    "read_accounts",
    "read_columns",
    "iter_events",
    "inspect_file",
    "FileLayout",
    "parse_column_map",
    "parse_kind_map",
    "parse_timestamps",
    "parse_instant",
    "zone",
]

INTERNAL_COLUMNS = ("_source", "_row", "_seq", "_timestamp_raw")
TIMESTAMP_TYPE = pa.timestamp("us")  # naive, always UTC inside valueclock

_OFFSET = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(?:[zZ]|[+-]\d{2}(?::?\d{2})?)$")

_FORMATS = {
    ".csv": "csv", ".txt": "csv", ".tsv": "tsv",
    ".parquet": "parquet", ".pq": "parquet",
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl",
}


def zone(name: str) -> ZoneInfo:
    """The time zone called ``name`` (an IANA name such as ``Europe/Amsterdam``)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"unknown time zone {name!r} (use an IANA name such as "
                         "'UTC' or 'Europe/Amsterdam')") from None


def file_format(path: Path) -> str:
    """The format of ``path`` by its extension (a ``.gz`` or ``.zst`` suffix is looked past)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".zst", ".lz4"):
        suffixes = suffixes[:-1]
    ext = suffixes[-1] if suffixes else ""
    if ext not in _FORMATS:
        raise InputError("unknown file type (expected .csv, .tsv, .parquet, .jsonl or .json)",
                         path=str(path))
    return _FORMATS[ext]


def _check_file(path: Path) -> None:
    if not path.exists():
        raise InputError("file not found", path=str(path))
    if path.is_dir():
        raise InputError("is a directory, not a file", path=str(path))
    if path.stat().st_size == 0:
        raise InputError("the file is empty", path=str(path))


_COMPRESSION = {".gz": "gzip", ".bz2": "bz2", ".zst": "zstd", ".lz4": "lz4"}
_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_SNIFF_BYTES = 1 << 20
BATCH_ROWS = 1_000_000


@dataclass(frozen=True)
class FileLayout:
    """How a file is read: found by looking at its name and its first bytes."""

    format: str                  # csv, tsv, parquet or jsonl
    compression: str | None      # gzip, bz2, zstd, lz4 or None
    delimiter: str = ","
    encoding: str = "utf8"       # a Python codec name when not UTF-8
    header: tuple[str, ...] = ()

    def describe(self) -> str:
        """A few words for people: ``CSV, semicolon-separated, Windows-1252``."""
        words = [{"csv": "CSV", "tsv": "TSV", "parquet": "Parquet",
                  "jsonl": "JSON lines"}[self.format]]
        if self.format in ("csv", "tsv") and self.delimiter != (
                "\t" if self.format == "tsv" else ","):
            words.append(f"{_DELIMITERS.get(self.delimiter, repr(self.delimiter))}-separated")
        if self.encoding != "utf8":
            words.append({"cp1252": "Windows-1252", "latin-1": "Latin-1",
                          "utf-16": "UTF-16"}.get(self.encoding, self.encoding))
        if self.compression:
            words.append(self.compression)
        return ", ".join(words)


def _compression(path: Path) -> str | None:
    return _COMPRESSION.get(path.suffix.lower())


def _open_raw(path: Path, compression: str | None, counter: Any = None) -> pa.NativeFile:
    """A byte stream of ``path``, decompressed; ``counter(n)`` hears of every n bytes read."""
    if counter is None:
        raw: pa.NativeFile = pa.OSFile(str(path), "rb")
    else:
        raw = pa.PythonFile(_Counting(path, counter), mode="r")
    return pa.CompressedInputStream(raw, compression) if compression else raw


class _Counting(io.RawIOBase):
    """A file read in binary that reports how many bytes each read returned."""

    def __init__(self, path: Path, counter: Any) -> None:
        self._file = path.open("rb")
        self._counter = counter

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        n = self._file.readinto(buffer)
        if n:
            self._counter(n)
        return n

    def close(self) -> None:
        self._file.close()
        super().close()


def _encoding(head: bytes) -> str:
    """``utf8`` when ``head`` is UTF-8 (a BOM is fine), else Windows-1252 or Latin-1."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf8"
    except UnicodeDecodeError:
        pass
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _sniff_delimiter(text: str, default: str) -> str:
    """The delimiter of a CSV file from its header line: the extension's one when it splits
    the header, else the one of ``, ; tab |`` that splits it into the most columns."""
    def fields(d: str) -> int:
        return len(next(csv.reader(io.StringIO(text), delimiter=d), []))

    if fields(default) > 1:
        return default
    best = max(_DELIMITERS, key=fields)
    return best if fields(best) > 1 else default


def inspect_file(path: str | Path, *, check_names: bool = True) -> FileLayout:
    """Look at a file before reading it: its format, compression, delimiter, encoding and
    (for CSV) header. Raises :class:`InputError` naming the file when it cannot be read:
    missing, a directory, empty, binary, an archive, no header, duplicate column names."""
    path = Path(path)
    _check_file(path)
    fmt = file_format(path)
    compression = _compression(path)
    with path.open("rb") as f:
        magic = f.read(8)
    if magic.startswith(b"PAR1"):
        return FileLayout("parquet", None)  # a Parquet file, whatever its name says
    if fmt == "parquet":
        return FileLayout("parquet", compression)
    if magic.startswith(b"\x1f\x8b"):
        compression = "gzip"
    elif magic.startswith(b"PK\x03\x04"):
        raise InputError("is a ZIP archive or an Excel workbook, not text: save or export "
                         "it as CSV", path=str(path))
    try:
        with _open_raw(path, compression) as stream:
            head = stream.read(_SNIFF_BYTES)
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(f"cannot read as {compression}: {_first_line(exc)}",
                         path=str(path)) from None
    encoding = _encoding(head)
    if encoding != "utf-16" and b"\x00" in head:
        raise InputError("is a binary file, not text (expected CSV with a header row, "
                         "JSON lines or Parquet)", path=str(path))
    if not head.strip():
        raise InputError("the file is empty", path=str(path))
    if fmt == "jsonl":
        return FileLayout(fmt, compression, encoding=encoding)
    text = head.decode("utf-8-sig" if encoding == "utf8" else encoding, errors="replace")
    text = text.lstrip("\ufeff")
    delimiter = _sniff_delimiter(text, "\t" if fmt == "tsv" else ",")
    header = [c.strip() for c in next(csv.reader(io.StringIO(text), delimiter=delimiter), [])]
    if not header or header == [""]:
        raise InputError("no header row", path=str(path))
    if check_names:  # off when only some columns are read: others may repeat a name
        _check_names(header, path)
    if len(head) < _SNIFF_BYTES and len(text.strip().splitlines()) <= 1:
        raise InputError("no data rows (the file has a header only)", path=str(path))
    return FileLayout(fmt, compression, delimiter, encoding, tuple(header))


def _check_names(names: Sequence[str], path: Path) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InputError(f"duplicate column name {name!r} in the header", path=str(path))
        seen.add(name)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    message = text.splitlines()[0] if text else type(exc).__name__
    return re.sub(r"^(CSV parse error|JSON parse error): ", "", message)


def _cannot_read(path: Path, fmt: str, exc: BaseException) -> InputError:
    kind = {"csv": "CSV", "tsv": "TSV", "parquet": "Parquet", "jsonl": "JSON lines"}[fmt]
    return InputError(f"cannot read as {kind}: {_first_line(exc)}", path=str(path))


_READ_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, OSError, UnicodeDecodeError, duckdb.Error)


def _csv_reader(path: Path, layout: FileLayout, encoding: str, counter: Any) -> Any:
    stream = _open_raw(path, layout.compression, counter)
    return pacsv.open_csv(
        stream,
        read_options=pacsv.ReadOptions(column_names=list(layout.header), skip_rows=1,
                                       block_size=1 << 24, encoding=encoding),
        parse_options=pacsv.ParseOptions(delimiter=layout.delimiter, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in layout.header},
            strings_can_be_null=False, quoted_strings_can_be_null=False),
    )


def _csv_batches(path: Path, layout: FileLayout, batch_rows: int,
                 progress: Any) -> Iterator[pa.Table]:
    """The rows of a CSV file, ``batch_rows`` or so at a time, every column as text.

    A file that turns out not to be UTF-8 after its first megabyte is read again from the
    start as Windows-1252, skipping the rows already given.
    """
    encoding, done = layout.encoding, 0
    while True:
        skip = done
        try:
            reader = _csv_reader(path, layout, encoding, progress if not skip else None)
            pending: list[pa.RecordBatch] = []
            size = 0
            for batch in reader:
                if skip:
                    if batch.num_rows <= skip:
                        skip -= batch.num_rows
                        continue
                    batch, skip = batch.slice(skip), 0
                pending.append(batch)
                size += batch.num_rows
                if size >= batch_rows:
                    yield pa.Table.from_batches(pending)
                    done += size
                    pending, size = [], 0
            if pending:
                yield pa.Table.from_batches(pending)
                done += size
            return
        except pa.ArrowInvalid as exc:
            if encoding == "utf8" and "invalid UTF8" in str(exc):
                encoding = "cp1252"
                continue
            raise


def _raw_batches(path: Path, layout: FileLayout, batch_rows: int,
                 progress: Any = None) -> Iterator[pa.Table]:
    """The rows of a file as Arrow tables of about ``batch_rows`` rows, as written."""
    if layout.format in ("csv", "tsv"):
        yield from _csv_batches(path, layout, batch_rows, progress)
        return
    if layout.format == "parquet":
        yield from _parquet_batches(path, batch_rows, progress)
        return
    with _open_raw(path, layout.compression) as stream:
        data = stream.read()
    if progress is not None:
        progress(path.stat().st_size)
    if layout.encoding != "utf8":
        data = data.decode(layout.encoding).encode("utf-8")
    table = pajson.read_json(pa.BufferReader(data))
    for start in range(0, max(table.num_rows, 1), batch_rows):
        yield table.slice(start, batch_rows)


def _parquet_batches(path: Path, batch_rows: int, progress: Any = None) -> Iterator[pa.Table]:
    """The rows of a Parquet file in file order, read by DuckDB (on every core: about three
    times as fast as PyArrow's reader on string columns); zoned timestamps come in UTC."""
    from valueclock.engines import duckdb_connect, sql_text

    pf = pq.ParquetFile(str(path))
    _check_names(pf.schema_arrow.names, path)
    total = max(pf.metadata.num_rows, 1)
    size = path.stat().st_size
    con = duckdb_connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET preserve_insertion_order = true")
        con.execute("SET produce_arrow_string_view = false")
        quoted = sql_text(str(path))
        reader = con.sql(f"SELECT * FROM read_parquet({quoted})").to_arrow_reader(batch_rows)
        pending: list[pa.RecordBatch] = []
        rows = 0
        for batch in reader:
            pending.append(batch)
            rows += batch.num_rows
            if rows >= batch_rows:
                if progress is not None:
                    progress(int(size * rows / total))
                yield pa.Table.from_batches(pending)
                pending, rows = [], 0
        if pending:
            if progress is not None:
                progress(int(size * rows / total))
            yield pa.Table.from_batches(pending)
    finally:
        con.close()


def _rows(path: Path, layout: FileLayout, batch_rows: int,
          progress: Any = None) -> Iterator[pa.Table]:
    """:func:`_raw_batches` with read errors as :class:`InputError` and an empty file refused."""
    rows = 0
    try:
        for table in _raw_batches(path, layout, batch_rows, progress):
            rows += table.num_rows
            if table.num_rows or table.num_columns:
                yield table
    except InputError:
        raise
    except _READ_ERRORS as exc:
        raise _cannot_read(path, layout.format, exc) from None
    if rows == 0:
        raise InputError("no data rows (the file has a header only)"
                         if layout.format in ("csv", "tsv") else "no data rows",
                         path=str(path))


def _read_table(path: Path) -> pa.Table:
    """Read one whole file as an Arrow table, every CSV column as text."""
    layout = inspect_file(path)
    tables = list(_rows(path, layout, BATCH_ROWS))
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


def read_columns(path: str | Path, columns: Sequence[str]) -> pa.Table:
    """Read only the named ``columns`` of one file, as written (every CSV column as text),
    the way event files are read (format, compression, delimiter, encoding).

    For sources that name the columns they use (a help desk's status log): the other
    columns are dropped batch by batch, and may repeat a name. Raises
    :class:`InputError` naming the file, and the column when one is missing.
    """
    path = Path(path)
    wanted = list(dict.fromkeys(columns))
    layout = inspect_file(path, check_names=False)
    tables = []
    for table in _rows(path, layout, BATCH_ROWS):
        for name in wanted:
            if name not in table.column_names:
                found = ", ".join(table.column_names) or "none"
                raise InputError(f"no such column (columns found: {found})",
                                 path=str(path), column=name)
        tables.append(table.select(wanted))
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


#: What ``utf8_trim_whitespace`` trims from text (Arrow's Unicode whitespace), for SQL that
#: must trim the same way (a test checks it against Arrow).
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
              "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def _text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A column as trimmed text, with empty strings as nulls."""
    if pa.types.is_timestamp(column.type):
        return column
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        try:
            column = pc.cast(column, pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            column = pa.chunked_array([pa.array([None if v is None else str(v)
                                                 for v in column.to_pylist()], pa.string())])
    column = pc.utf8_trim_whitespace(column)
    return pc.if_else(pc.equal(column, ""), pa.scalar(None, pa.string()), column)


def parse_timestamps(values: pa.ChunkedArray | pa.Array, timezone: str = "UTC",
                     time_format: str | None = None) -> pa.Array:
    """Parse timestamps into naive UTC microseconds; what cannot be parsed becomes null.

    Text with an offset (``Z``, ``+01:00``) is exact; text without one is a wall-clock
    time in ``timezone``. An ambiguous wall-clock time (the hour repeated when clocks go
    back) is taken as its first occurrence; a time that does not exist (skipped when
    clocks go forward) is moved forward by the gap. Typed timestamps are taken as they
    are: with a zone they are exact, without one they are in ``timezone``.
    """
    tz = zone(timezone)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], pa.string())
    if pa.types.is_timestamp(values.type):
        if values.type.tz is not None or tz.key == "UTC":  # exact already: no pandas
            if values.type.tz is not None:
                values = pc.cast(values, pa.timestamp(values.type.unit, tz="UTC"))
            return pc.cast(values.cast(pa.timestamp(values.type.unit)), TIMESTAMP_TYPE)
        series = pd.Series(values.to_pandas(), dtype=object if len(values) == 0 else None)
        series = pd.to_datetime(series)
        if series.dt.tz is None:
            series = _localize(series, tz)
        return _to_utc_array(series)
    if pa.types.is_date(values.type):
        series = _localize(pd.to_datetime(pd.Series(values.to_pandas())), tz)
        return _to_utc_array(series)
    if not time_format:
        fast = _parse_uniform(_text(pa.chunked_array([values])).combine_chunks(), tz)
        if fast is not None:
            return fast
    text = pd.Series(_text(pa.chunked_array([values])).to_pandas(), dtype=object)
    result = pd.Series(pd.NaT, index=text.index, dtype="datetime64[us, UTC]")
    present = text.notna()
    if time_format:
        parsed = pd.to_datetime(text[present], format=time_format, errors="coerce")
        if getattr(parsed.dt, "tz", None) is None:
            parsed = _localize(parsed, tz)
        result[present] = parsed.dt.tz_convert("UTC")
        return _to_utc_array(result)
    with_offset = present & text.str.contains(_OFFSET, na=False)
    naive = present & ~with_offset
    if with_offset.any():
        result[with_offset] = pd.to_datetime(text[with_offset], format="ISO8601", utc=True,
                                             errors="coerce")
    if naive.any():
        parsed = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
        result[naive] = _localize(parsed, tz)
    return _to_utc_array(result)


def _parse_uniform(text: pa.Array, tz: ZoneInfo) -> pa.Array | None:
    """Arrow's fast ISO 8601 parser, when every value has an offset or none has.

    Returns None when the column mixes both or holds something Arrow cannot parse; the
    caller then takes the slower path that parses value by value and keeps what it can.
    """
    if len(text) == 0:
        return None
    with_offset = pc.match_substring_regex(text, _OFFSET.pattern)
    present = len(text) - text.null_count
    offsets = pc.sum(with_offset).as_py() or 0
    try:
        if offsets == present:
            return pc.cast(pc.cast(text, pa.timestamp("us", tz="UTC")), TIMESTAMP_TYPE)
        if offsets == 0:
            naive = pc.cast(text, TIMESTAMP_TYPE)
            if tz.key == "UTC":
                return naive
            return _to_utc_array(_localize(pd.Series(naive.to_pandas()), tz))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return None


def _localize(series: pd.Series, tz: ZoneInfo) -> pd.Series:
    series = series.astype("datetime64[us]")
    return series.dt.tz_localize(tz, ambiguous=np.ones(len(series), dtype=bool),
                                 nonexistent="shift_forward").dt.tz_convert("UTC")


def _to_utc_array(series: pd.Series) -> pa.Array:
    series = series.astype("datetime64[us, UTC]").dt.tz_convert(None)
    return pa.array(series.astype("datetime64[us]"), type=TIMESTAMP_TYPE, from_pandas=True)


def parse_instant(text: str, timezone: str = "UTC") -> datetime:
    """Parse one moment given by a person (``--as-of``) into a naive UTC datetime."""
    parsed = parse_timestamps(pa.array([text]), timezone)[0].as_py()
    if parsed is None:
        raise UsageError(f"cannot read {text!r} as a moment (use ISO 8601, e.g. "
                         "2026-03-01 or 2026-03-01T12:00:00Z)")
    return parsed


def _simple(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def parse_column_map(items: Iterable[str] | None) -> dict[str, str]:
    """``["account_id=Company ID", ...]`` (as ``--map`` takes them) as ``{canonical: source}``."""
    out: dict[str, str] = {}
    for item in items or ():
        target, sep, source = item.partition("=")
        target, source = target.strip(), source.strip().strip('"').strip("'").strip()
        if not sep or not target or not source:
            raise UsageError(f"cannot read --map {item!r} (use COLUMN=\"Name in the file\", "
                             "e.g. account_id=\"Company ID\")")
        if target.startswith("_"):
            raise UsageError(f"--map {item!r}: column names starting with '_' are reserved")
        out[target] = source
    return out


def parse_kind_map(items: Iterable[str] | Mapping[str, str] | None) -> dict[str, str]:
    """``["Closed Won=sale", ...]`` (as ``--kind-map`` takes them) as ``{value: kind}``.

    Values are matched without regard to letter case or surrounding spaces; every kind must
    be one of the canonical kinds.
    """
    pairs: list[tuple[str, str]] = []
    if isinstance(items, Mapping):
        pairs = [(str(k), str(v)) for k, v in items.items()]
    else:
        for item in items or ():
            source, sep, kind = item.rpartition("=")
            if not sep or not source.strip() or not kind.strip():
                raise UsageError(f"cannot read --kind-map {item!r} (use \"Value in the "
                                 "file=kind\", e.g. \"Closed Won=sale\")")
            pairs.append((source, kind))
    out: dict[str, str] = {}
    for source, kind in pairs:
        kind = kind.strip().strip('"').strip().lower()
        if kind not in KINDS:
            raise UsageError(f"--kind-map {source.strip()}={kind}: {kind!r} is not a kind "
                             f"(use one of {', '.join(KINDS)})")
        out[source.strip().strip('"').strip().lower()] = kind
    return out


def _canonical_names(names: Sequence[str], columns: Mapping[str, str] | None, path: Path,
                     required: Sequence[str], canonical: Sequence[str]) -> list[str]:
    """The column names of a file after the ``columns`` mapping (``{canonical: source}``).

    A canonical column written another way (``Account ID``, ``Timestamp``) is recognised
    when exactly one column reads as it; a mapping whose column is absent is skipped, unless
    the column is required.
    """
    names = [str(n).strip() for n in names]
    _check_names(names, path)
    new = list(names)
    columns = dict(columns or {})
    for target, source in columns.items():
        if source in names and source != target:
            if target in names:
                raise InputError(f"both {target!r} and {source!r} (mapped to {target!r} by "
                                 "--map) are columns: map only one", path=str(path))
            new[names.index(source)] = target
    sources = set(columns.values())
    for target in canonical:
        if target in new:
            continue
        like = [i for i, n in enumerate(new) if _simple(n) == target and n not in sources
                and n not in canonical]
        if len(like) == 1:
            new[like[0]] = target
    for target in required:
        if target in new:
            continue
        found = ", ".join(names) or "none"
        if target in columns:
            raise InputError(f"column {columns[target]!r} (mapped to {target!r}) is not in "
                             f"the file (columns found: {found})", path=str(path),
                             column=target)
        close = difflib.get_close_matches(target, [_simple(n) for n in names], n=1,
                                          cutoff=0.6)
        hint = ""
        if close:
            name = next(n for n in names if _simple(n) == close[0])
            hint = f"; if it is {name!r}, add --map {target}=\"{name}\""
        raise InputError(f"required column {target!r} is missing (columns found: {found})"
                         + hint, path=str(path), column=target)
    _check_names(new, path)
    return new


def _map_kinds(kind: pa.ChunkedArray, kinds: Mapping[str, str] | None) -> pa.ChunkedArray:
    kind = pc.utf8_lower(kind)
    if not kinds:
        return kind
    keys = pa.array(list(kinds), pa.string())
    values = pa.array(list(kinds.values()), pa.string())
    mapped = pc.take(values, pc.index_in(kind, value_set=keys))
    return pc.coalesce(mapped, kind)


def _normalise(table: pa.Table, path: Path, first_seq: int, first_row: int, timezone: str,
               time_format: str | None, kinds: Mapping[str, str] | None = None) -> pa.Table:
    """A batch of rows, its columns already named canonically, in the canonical shape."""
    names = table.column_names
    n = table.num_rows
    texts = [name for name in names if name != "timestamp" and not name.startswith("_")]
    # Arrow's kernels let go of the GIL: the text columns are cleaned on every core.
    with ThreadPoolExecutor(max_workers=min(len(texts), os.cpu_count() or 1) or 1) as pool:
        cleaned = dict(zip(texts, pool.map(lambda c: _text(table.column(c)), texts),
                           strict=True))
    columns: dict[str, pa.Array | pa.ChunkedArray] = {
        name: cleaned[name] if name in cleaned else pa.nulls(n, pa.string())
        for name in EVENT_COLUMNS if name != "timestamp"}
    columns["kind"] = _map_kinds(columns["kind"], kinds)
    raw_ts = table.column("timestamp")
    columns["timestamp"] = parse_timestamps(raw_ts, timezone, time_format)
    # As written, to show in problem examples; a typed timestamp is shown by the engine.
    raw_text = (pa.nulls(n, pa.string()) if pa.types.is_timestamp(raw_ts.type)
                else _text(raw_ts))
    out = {name: columns[name] for name in EVENT_COLUMNS}
    out.update({name: cleaned[name] for name in texts if name not in EVENT_COLUMNS})
    out["_source"] = pa.repeat(pa.scalar(str(path)), n) if n else pa.array([], pa.string())
    out["_row"] = pa.array(np.arange(first_row, first_row + n, dtype=np.int64))
    out["_seq"] = pa.array(np.arange(first_seq, first_seq + n, dtype=np.int64))
    out["_timestamp_raw"] = raw_text
    return pa.table(out)


def iter_events(path: str | Path, *, timezone: str = "UTC", time_format: str | None = None,
                columns: Mapping[str, str] | None = None,
                kinds: Mapping[str, str] | None = None, first_seq: int = 0,
                batch_rows: int = BATCH_ROWS, progress: Any = None,
                layout: FileLayout | None = None) -> Iterator[pa.Table]:
    """Read one event log file in batches of about ``batch_rows`` rows, each normalised as
    :func:`read_events` does (``_seq`` counts on from ``first_seq``).

    ``columns`` maps canonical column names to the file's (``{"account_id": "Company
    ID"}``); ``kinds`` maps values of the kind column to kinds (``{"closed won":
    "sale"}``, see :func:`parse_kind_map`). ``progress(n)`` is called with the number of
    bytes of the file read since its last call. The file is checked (and for CSV its
    header read) before the first batch, so a bad file fails before anything is given.
    """
    path = Path(path)
    zone(timezone)
    kinds = parse_kind_map(kinds) if kinds else None
    layout = layout or inspect_file(path)
    first_line = 2 if layout.format in ("csv", "tsv") else 1
    names: list[str] | None = None
    source_names: list[str] | None = None
    if layout.header:
        source_names = list(layout.header)
        names = _canonical_names(source_names, columns, path, REQUIRED_COLUMNS, EVENT_COLUMNS)
    offset = 0
    for raw in _rows(path, layout, batch_rows, progress):
        if names is None or raw.column_names != source_names:
            source_names = raw.column_names
            names = _canonical_names(source_names, columns, path, REQUIRED_COLUMNS,
                                     EVENT_COLUMNS)
        yield _normalise(raw.rename_columns(names), path, first_seq + offset,
                         first_line + offset, timezone, time_format, kinds)
        offset += raw.num_rows


def read_events(paths: str | Path | Iterable[str | Path], timezone: str = "UTC",
                time_format: str | None = None, *, columns: Mapping[str, str] | None = None,
                kinds: Mapping[str, str] | None = None) -> pa.Table:
    """Read one or more event log files (CSV, Parquet, JSON lines) into one Arrow table.

    Columns are the canonical ones (see :mod:`valueclock.schema`), then any other column
    of any file as a text attribute, then the internal columns described in this module's
    documentation. ``time_format`` (strftime codes) reads timestamps written another way;
    ``columns`` and ``kinds`` map other column names and kind values (see
    :func:`iter_events`). Raises :class:`~valueclock.errors.InputError` naming the file
    when a file cannot be read or lacks a required column.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    paths = [Path(p) for p in paths]
    if not paths:
        raise UsageError("no event file given")
    zone(timezone)
    tables: list[pa.Table] = []
    seq = 0
    for path in paths:
        for table in iter_events(path, timezone=timezone, time_format=time_format,
                                 columns=columns, kinds=kinds, first_seq=seq):
            seq += table.num_rows
            tables.append(table)
    return _concat(tables)


def event_order(columns: Iterable[str]) -> list[str]:
    """Columns in the order the reader gives them: canonical, attributes, internal."""
    columns = list(columns)
    return ([c for c in EVENT_COLUMNS if c in columns]
            + [c for c in columns if c not in EVENT_COLUMNS and c not in INTERNAL_COLUMNS]
            + [c for c in INTERNAL_COLUMNS if c in columns])


def _concat(tables: Sequence[pa.Table]) -> pa.Table:
    seen: list[str] = list(EVENT_COLUMNS)
    for table in tables:
        seen.extend(c for c in table.column_names if c not in seen)
    order = event_order(seen + list(INTERNAL_COLUMNS))
    aligned = []
    for table in tables:
        cols = {}
        for name in order:
            if name in table.column_names:
                cols[name] = table.column(name)
            else:
                cols[name] = pa.nulls(table.num_rows, pa.string())
        aligned.append(pa.table(cols))
    return pa.concat_tables(aligned) if len(aligned) > 1 else aligned[0]


def read_accounts(path: str | Path, *, columns: Mapping[str, str] | None = None) -> pa.Table:
    """Read the accounts table: ``account_id`` plus any attribute columns, all as text.

    Rows are kept in file order with a ``_seq`` column, so that when an account appears
    twice the engine can take its last row and report the repetition. ``columns`` maps
    canonical names to the file's, as for events.
    """
    path = Path(path)
    layout = inspect_file(path)
    tables = list(_rows(path, layout, BATCH_ROWS))
    table = pa.concat_tables(tables) if len(tables) > 1 else tables[0]
    names = _canonical_names(table.column_names, columns, path, ("account_id",),
                             ("account_id",))
    table = table.rename_columns(names)
    cols = {name: _text(table.column(name)) for name in names if not name.startswith("_")}
    cols["_seq"] = pa.array(np.arange(table.num_rows, dtype=np.int64))
    first_line = 2 if layout.format in ("csv", "tsv") else 1
    cols["_row"] = pa.array(np.arange(first_line, first_line + table.num_rows, dtype=np.int64))
    cols["_source"] = pa.array([str(path)] * table.num_rows, pa.string())
    return pa.table(cols)
