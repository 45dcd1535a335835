"""Writing tables and reports: CSV, JSON, Parquet and terminal tables.

The contract for scripts: timestamps in ISO 8601 UTC with ``Z``; booleans ``true`` and
``false``; missing values empty in CSV and ``null`` in JSON; numbers at full precision.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

from valueclock.engine import iso
from valueclock.errors import UsageError

FORMATS = ("csv", "json", "parquet", "table")

#: Standard error: progress, spinners and notes, never mixed with the output on stdout.
err = Console(stderr=True)


@contextmanager
def working(message: str) -> Iterator[None]:
    """A spinner on standard error while long work runs (only in a terminal)."""
    if err.is_terminal:
        with err.status(message):
            yield
    else:
        yield


def plain(value: Any) -> Any:
    """A value as JSON has it: ISO text for moments, None for NaN."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _csv_cell(value: Any) -> str:
    value = plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else str(value)


def rows(table: pa.Table) -> list[dict[str, Any]]:
    """The rows of an Arrow table as JSON-ready dicts."""
    return [{k: plain(v) for k, v in r.items()} for r in table.to_pylist()]


def write_csv(table: pa.Table, stream: TextIO) -> None:
    """Write a table as CSV with a header."""
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(table.column_names)
    for batch in table.to_batches(max_chunksize=65536):
        columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        writer.writerows([_csv_cell(v) for v in row] for row in zip(*columns, strict=True))


def _utc_types(table: pa.Table) -> pa.Table:
    fields = []
    for field in table.schema:
        if pa.types.is_timestamp(field.type) and field.type.tz is None:
            field = field.with_type(pa.timestamp("us", tz="UTC"))
        fields.append(field)
    return table.cast(pa.schema(fields))


def _cell_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S" if value.second else "%Y-%m-%d %H:%M")
    return str(value)


def write_table(table: pa.Table, fmt: str, out: Path | None, title: str = "") -> None:
    """Write ``table`` in ``fmt`` to ``out`` (standard output when None)."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r} (use {', '.join(FORMATS)})")
    if fmt == "parquet":
        if out is None:
            raise UsageError("--format parquet needs --out FILE")
        pq.write_table(_utc_types(table), str(out))
        return
    if fmt == "table":
        console = Console(file=out.open("w") if out else None,
                          width=200 if out else None)
        grid = Table(title=title or None, header_style="bold")
        for name in table.column_names:
            numeric = pa.types.is_integer(table.schema.field(name).type) or \
                pa.types.is_floating(table.schema.field(name).type)
            grid.add_column(name, justify="right" if numeric else "left")
        for r in table.to_pylist():
            grid.add_row(*[_cell_text(v) for v in r.values()])
        console.print(grid)
        return
    buffer = io.StringIO() if out is not None else sys.stdout
    if fmt == "csv":
        write_csv(table, buffer)
    else:
        json.dump(rows(table), buffer, indent=1, ensure_ascii=False)
        buffer.write("\n")
    if out is not None:
        out.write_text(buffer.getvalue(), encoding="utf-8")


def dumps(data: Any) -> str:
    """JSON text of a report object."""
    return json.dumps(data, indent=2, ensure_ascii=False, default=plain)
