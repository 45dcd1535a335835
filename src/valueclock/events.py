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

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

from valueclock.errors import InputError, UsageError
from valueclock.schema import EVENT_COLUMNS, REQUIRED_COLUMNS

__all__ = [
    "read_events",
    "read_accounts",
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


def _csv_header(path: Path, delimiter: str) -> list[str]:
    with pa.input_stream(str(path)) as raw:  # decompresses by extension
        head = raw.read(1 << 16)
    text = head.decode("utf-8-sig", errors="replace")
    first = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    return [c.strip() for c in first]


def _read_table(path: Path) -> pa.Table:
    """Read one file as an Arrow table, every CSV column as text."""
    _check_file(path)
    fmt = file_format(path)
    try:
        if fmt in ("csv", "tsv"):
            delimiter = "\t" if fmt == "tsv" else ","
            header = _csv_header(path, delimiter)
            if not header or header == [""]:
                raise InputError("no header row", path=str(path))
            seen: set[str] = set()
            for name in header:
                if name in seen:
                    raise InputError(f"duplicate column name {name!r} in the header",
                                     path=str(path))
                seen.add(name)
            table = pacsv.read_csv(
                str(path),
                read_options=pacsv.ReadOptions(column_names=header, skip_rows=1,
                                               block_size=1 << 24),
                parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
                convert_options=pacsv.ConvertOptions(
                    column_types={name: pa.string() for name in header},
                    strings_can_be_null=False, quoted_strings_can_be_null=False),
            )
        elif fmt == "parquet":
            table = pq.read_table(str(path))
        else:
            table = pajson.read_json(str(path))
    except InputError:
        raise
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError, UnicodeDecodeError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        message = re.sub(r"^(CSV parse error|JSON parse error): ", "", message)
        kind = {"csv": "CSV", "tsv": "TSV", "parquet": "Parquet", "jsonl": "JSON lines"}[fmt]
        raise InputError(f"cannot read as {kind}: {message}", path=str(path)) from None
    return table


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


def _normalise(table: pa.Table, path: Path, first_seq: int, timezone: str,
               time_format: str | None) -> pa.Table:
    names = [str(n).strip() for n in table.column_names]
    table = table.rename_columns(names)
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise InputError(f"required column {missing[0]!r} is missing (columns found: "
                         f"{', '.join(names) or 'none'})", path=str(path), column=missing[0])
    n = table.num_rows
    columns: dict[str, pa.Array | pa.ChunkedArray] = {}
    for name in EVENT_COLUMNS:
        if name == "timestamp":
            continue
        columns[name] = (_text(table.column(name)) if name in names
                         else pa.nulls(n, pa.string()))
    columns["kind"] = pc.utf8_lower(columns["kind"])
    raw_ts = table.column("timestamp")
    columns["timestamp"] = parse_timestamps(raw_ts, timezone, time_format)
    raw_text = _text(raw_ts) if not pa.types.is_timestamp(raw_ts.type) else pc.cast(
        raw_ts, pa.string())
    attributes = {name: _text(table.column(name)) for name in names
                  if name not in EVENT_COLUMNS and not name.startswith("_")}
    out = {name: columns[name] for name in EVENT_COLUMNS}
    out.update(attributes)
    out["_source"] = pa.repeat(pa.scalar(str(path)), n) if n else pa.array([], pa.string())
    first_line = 2 if file_format(path) in ("csv", "tsv") else 1
    out["_row"] = pa.array(np.arange(first_line, first_line + n, dtype=np.int64))
    out["_seq"] = pa.array(np.arange(first_seq, first_seq + n, dtype=np.int64))
    out["_timestamp_raw"] = raw_text
    return pa.table(out)


def read_events(paths: str | Path | Iterable[str | Path], timezone: str = "UTC",
                time_format: str | None = None) -> pa.Table:
    """Read one or more event log files (CSV, Parquet, JSON lines) into one Arrow table.

    Columns are the canonical ones (see :mod:`valueclock.schema`), then any other column
    of any file as a text attribute, then the internal columns described in this module's
    documentation. Raises :class:`~valueclock.errors.InputError` naming the file when a
    file cannot be read or lacks a required column.
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
        table = _normalise(_read_table(path), path, seq, timezone, time_format)
        seq += table.num_rows
        tables.append(table)
    return _concat(tables)


def _concat(tables: Sequence[pa.Table]) -> pa.Table:
    order: list[str] = list(EVENT_COLUMNS)
    for table in tables:
        order.extend(c for c in table.column_names if c not in order and c not in
                     INTERNAL_COLUMNS)
    order.extend(INTERNAL_COLUMNS)
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


def read_accounts(path: str | Path) -> pa.Table:
    """Read the accounts table: ``account_id`` plus any attribute columns, all as text.

    Rows are kept in file order with a ``_seq`` column, so that when an account appears
    twice the engine can take its last row and report the repetition.
    """
    path = Path(path)
    table = _read_table(path)
    names = [str(n).strip() for n in table.column_names]
    table = table.rename_columns(names)
    if "account_id" not in names:
        raise InputError(f"required column 'account_id' is missing (columns found: "
                         f"{', '.join(names) or 'none'})", path=str(path), column="account_id")
    cols = {name: _text(table.column(name)) for name in names if not name.startswith("_")}
    cols["_seq"] = pa.array(np.arange(table.num_rows, dtype=np.int64))
    first_line = 2 if file_format(path) in ("csv", "tsv") else 1
    cols["_row"] = pa.array(np.arange(first_line, first_line + table.num_rows, dtype=np.int64))
    cols["_source"] = pa.array([str(path)] * table.num_rows, pa.string())
    return pa.table(cols)
