"""Where the engine runs: embedded DuckDB by default, PostgreSQL or Spark by URL.

    duckdb://                          in-memory DuckDB (the default)
    duckdb:///path/to/file.db          a DuckDB database file
    postgres://user:password@host:port/database
    spark://local[2]                   Spark in local mode with 2 cores
    spark://host:7077                  a Spark cluster

The same Ibis expressions run on each. Event files named on the command line are read
by valueclock's reader (so every engine sees the same normalised rows) and handed to the
engine: a temporary table on DuckDB and PostgreSQL, a Parquet file that Spark reads
itself on Spark (Ibis turns null strings into "NaN" when it builds a Spark table from
Arrow in memory).
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq

from valueclock.errors import UsageError

__all__ = ["connect", "duckdb_connect", "engine_name", "load", "write_table"]

ENGINES = ("duckdb", "postgres", "spark")

#: Set on every DuckDB connection valueclock makes. DuckDB draws a progress bar on standard
#: output for queries longer than two seconds, even into a pipe, which would break
#: `valueclock report --format json | jq` on large logs.
QUIET_DUCKDB = "SET enable_progress_bar = false"


def duckdb_connect(database: str = ":memory:",
                   read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A plain DuckDB connection that draws no progress bar on standard output."""
    con = duckdb.connect(database, read_only=read_only)
    con.execute(QUIET_DUCKDB)
    return con


def _duckdb(database: str = ":memory:") -> Any:
    con = ibis.duckdb.connect(database)
    con.raw_sql(QUIET_DUCKDB)
    return con


def engine_name(con: Any) -> str:
    """The short name of the backend behind an Ibis connection."""
    return {"pyspark": "spark", "postgres": "postgres"}.get(con.name, con.name)


def connect(url: str | None = None) -> Any:
    """An Ibis connection for an engine URL (see this module's documentation)."""
    if not url or url in ("duckdb", "duckdb://", "duckdb:///:memory:"):
        return _duckdb()
    scheme, _, rest = url.partition("://")
    scheme = scheme.lower()
    if not rest and scheme not in ("duckdb",):
        raise UsageError(f"cannot read engine URL {url!r} (expected duckdb:///FILE, "
                         "postgres://USER:PASSWORD@HOST:PORT/DATABASE or spark://MASTER)")
    if scheme == "duckdb":
        path = rest[1:] if rest.startswith("/") else rest
        return _duckdb(unquote(path) or ":memory:")
    if scheme in ("postgres", "postgresql"):
        parts = urlparse(url)
        try:
            return ibis.postgres.connect(
                host=parts.hostname or "localhost", port=parts.port or 5432,
                user=unquote(parts.username or ""), password=unquote(parts.password or ""),
                database=(parts.path or "/").lstrip("/") or None)
        except Exception as exc:  # noqa: BLE001 - any driver error becomes one line
            raise UsageError(f"cannot connect to PostgreSQL at {parts.hostname}:"
                             f"{parts.port or 5432}: {str(exc).strip().splitlines()[0]}") from None
    if scheme == "spark":
        return _spark(rest)
    raise UsageError(f"unknown engine {scheme!r} in {url!r} (use duckdb, postgres or spark)")


def _spark(master: str) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError("the spark engine needs PySpark: pip install 'valueclock[spark]'") \
            from None
    warehouse = tempfile.mkdtemp(prefix="valueclock-spark-")
    atexit.register(shutil.rmtree, warehouse, True)
    session = (
        SparkSession.builder.master(master).appName("valueclock")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", warehouse)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return ibis.pyspark.connect(session)


def load(con: Any, table: pa.Table, name: str = "events") -> ir.Table:
    """Hand an Arrow table (as read by valueclock) to the engine, as an Ibis table."""
    unique = f"valueclock_{name}_{uuid.uuid4().hex[:8]}"
    kind = engine_name(con)
    if kind == "spark":
        folder = Path(tempfile.mkdtemp(prefix="valueclock-load-"))
        atexit.register(shutil.rmtree, folder, True)
        path = folder / f"{unique}.parquet"
        pq.write_table(table, path)
        return con.read_parquet(str(path), table_name=unique)
    return con.create_table(unique, table, temp=True)


def write_table(con: Any, expr: ir.Table, name: str) -> None:
    """Write a result to a table called ``name`` in the engine (replacing it)."""
    con.create_table(name, expr, overwrite=True)
