"""Where the engine runs: embedded DuckDB by default, PostgreSQL or Spark by URL.

    duckdb://                          in-memory DuckDB (the default)
    duckdb:///path/to/file.db          a DuckDB database file
    postgres://user:password@host:port/database
    spark://local[2]                   Spark in local mode with 2 cores
    spark://host:7077                  a Spark cluster
    spark://local[2]?spark.sql.warehouse.dir=/data/warehouse
                                       query parameters are Spark settings

The same Ibis expressions run on each. Event files named on the command line are read
by valueclock's reader (so every engine sees the same normalised rows) and handed to the
engine: a temporary table on DuckDB (which normalises a typed Parquet file itself, in the
same way: :func:`load_files`) and PostgreSQL, a Parquet file that Spark reads
itself on Spark (Ibis turns null strings into "NaN" when it builds a Spark table from
Arrow in memory). Events already stored in the engine are read with
:func:`events_table`, an accounts table with :func:`accounts_table`; results are written
back with :func:`write_table`. Every session computes in UTC.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlparse

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq

from valueclock.errors import InputError, UsageError
from valueclock.schema import EVENT_COLUMNS, REQUIRED_COLUMNS

__all__ = ["accounts_table", "connect", "default_connection", "duckdb_connect",
           "engine_name", "events_table", "load", "load_files", "open_tables", "sql_text",
           "write_table"]

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


def _duckdb(database: str = ":memory:", settings: dict[str, str] | None = None) -> Any:
    con = ibis.duckdb.connect(database)
    con.raw_sql(QUIET_DUCKDB)
    con.raw_sql("SET TimeZone = 'UTC'")
    settings = dict(settings or {})
    if database == ":memory:" and "temp_directory" not in settings:
        # What does not fit in memory spills here (DuckDB's default is ./.tmp).
        spill = tempfile.mkdtemp(prefix="valueclock-spill-")
        atexit.register(shutil.rmtree, spill, True)
        settings["temp_directory"] = spill
    if "memory_limit" not in settings and (memory := _physical_memory()):
        # DuckDB's default (80%) leaves too little beside it for the Arrow tables that
        # results come back as: a 50-million-event report ran out of memory with it.
        settings["memory_limit"] = f"{int(memory * MEMORY_SHARE) >> 20}MB"
    for key, value in settings.items():
        if not key.replace("_", "").isalnum():
            raise UsageError(f"cannot read DuckDB setting {key!r} in the engine URL")
        con.raw_sql(f"SET {key} = {sql_text(value)}")
    return con


#: The share of the machine's memory that valueclock's DuckDB may use before it spills.
MEMORY_SHARE = 0.6


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not on this platform
        return 0


def sql_text(value: str) -> str:
    """``value`` as a SQL string literal (quotes doubled), for the DuckDB SQL valueclock
    writes itself: paths, settings, patterns."""
    return "'" + str(value).replace("'", "''") + "'"


_DEFAULT: list[Any] = []


def default_connection() -> Any:
    """The in-memory DuckDB that valueclock computes on when no engine is named (one per
    process): quiet, in UTC, spilling to a temporary folder what does not fit in memory."""
    if not _DEFAULT:
        _DEFAULT.append(_duckdb())
    return _DEFAULT[0]


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
        rest, _, query = rest.partition("?")
        path = rest[1:] if rest.startswith("/") else rest
        return _duckdb(unquote(path) or ":memory:", dict(parse_qsl(query)))
    if scheme in ("postgres", "postgresql"):
        parts = urlparse(url)
        try:
            con = ibis.postgres.connect(
                host=parts.hostname or "localhost", port=parts.port or 5432,
                user=unquote(parts.username or ""), password=unquote(parts.password or ""),
                database=(parts.path or "/").lstrip("/") or None)
        except Exception as exc:  # noqa: BLE001 - any driver error becomes one line
            raise UsageError(f"cannot connect to PostgreSQL at {parts.hostname}:"
                             f"{parts.port or 5432}: {str(exc).strip().splitlines()[0]}") from None
        con.raw_sql("SET TIME ZONE 'UTC'")
        return con
    if scheme == "spark":
        master, _, query = rest.partition("?")
        return _spark(master, dict(parse_qsl(query)))
    raise UsageError(f"unknown engine {scheme!r} in {url!r} (use duckdb, postgres or spark)")


#: Set on a Spark session made in local mode when the URL does not say otherwise.
SPARK_LOCAL_DEFAULTS = {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "4"}
#: Where a local session keeps its tables when the URL names no warehouse.
TEMPORARY_WAREHOUSE = "valueclock.temporary_warehouse"


def _spark(master: str, settings: dict[str, str]) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError("the spark engine needs PySpark: pip install 'valueclock[spark]'") \
            from None
    config = {"spark.sql.session.timeZone": "UTC", "spark.ui.showConsoleProgress": "false"}
    if master.startswith("local"):
        config.update(SPARK_LOCAL_DEFAULTS)
        if memory := _physical_memory():
            # In local mode the driver does all the work: Spark's 1 GB default runs out of
            # heap long before the machine does (50 million events need several).
            config["spark.driver.memory"] = f"{max(1, int(memory * MEMORY_SHARE) >> 30)}g"
        if "spark.sql.warehouse.dir" not in settings:
            # No spark-warehouse/ or metastore_db/ left in the current folder; --into
            # refuses to write here (the folder goes when the process ends).
            warehouse = tempfile.mkdtemp(prefix="valueclock-spark-")
            atexit.register(shutil.rmtree, warehouse, True)
            config["spark.sql.warehouse.dir"] = warehouse
            config[TEMPORARY_WAREHOUSE] = "true"
    config.update(settings)
    builder = SparkSession.builder.master(master).appName("valueclock")
    for key, value in config.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return ibis.pyspark.connect(session)


def load_files(con: Any, paths: list[Path], timezone: str = "UTC", **reading: Any) -> ir.Table:
    """Read event files with valueclock's reader and hand them to the engine.

    On DuckDB the batches go straight into one table, so a log larger than memory is
    held (and spilled) by DuckDB rather than as one Arrow table beside it; other engines
    get the whole table through :func:`load`. A Parquet file whose columns are already
    text and a typed timestamp is normalised by DuckDB itself, in SQL that gives the same
    rows as the reader (see :func:`_parquet_sql`), without passing through Python.
    ``reading`` is passed to the reader (``time_format``, ``columns``, ``kinds``).
    """
    from valueclock.events import _cannot_read, iter_events, read_events

    if engine_name(con) != "duckdb":
        return load(con, read_events(paths, timezone=timezone, **reading))
    if not paths:
        raise UsageError("no event file given")
    raw = con.con
    name = f"valueclock_events_{uuid.uuid4().hex[:8]}"
    columns: list[str] = []

    def add(select: str, names: list[str], params: dict[str, Any] | None = None) -> None:
        if not columns:
            raw.execute(f"CREATE TEMP TABLE {name} AS {select}", params)
        else:
            for column in names:
                if column not in columns:
                    raw.execute(f'ALTER TABLE {name} ADD COLUMN "{_ident(column)}" VARCHAR')
            raw.execute(f"INSERT INTO {name} BY NAME {select}", params)
        columns.extend(c for c in names if c not in columns)

    seq = 0
    for path in paths:
        plan = _parquet_sql(raw, path, timezone, first_seq=seq, **reading)
        if plan is not None:
            select, params, names, rows = plan
            try:
                add(select, names, params)
            except duckdb.Error as exc:
                raise _cannot_read(path, "parquet", exc) from None
            seq += rows
            continue
        for batch in iter_events(path, timezone=timezone, first_seq=seq, **reading):
            seq += batch.num_rows
            view = f"{name}_batch"
            raw.register(view, batch)
            try:
                add(f"SELECT * FROM {view}", batch.column_names)
            finally:
                raw.unregister(view)
    # Attributes first seen in a later file come after the internal columns; their order
    # among the attributes is the reader's, which is all that the engine reads.
    return con.table(name)


_STRING_TYPES = ("VARCHAR",)
_NAIVE_TIMESTAMPS = ("TIMESTAMP", "TIMESTAMP_MS", "TIMESTAMP_S")


def _parquet_sql(raw: duckdb.DuckDBPyConnection, path: Path, timezone: str, *,
                 first_seq: int, time_format: str | None = None,
                 columns: dict[str, str] | None = None,
                 kinds: dict[str, str] | None = None
                 ) -> tuple[str, dict[str, Any], list[str], int] | None:
    """DuckDB SQL reading one Parquet file into the reader's canonical shape, or None
    when the file needs the reader (or cannot be read: the reader then says why).

    Only for files whose columns are all text but a typed timestamp that needs no zone
    (it has one, or ``timezone`` is UTC), without ``kinds``: then the reader does nothing
    that SQL cannot do the same way. Text is trimmed of what Arrow takes for whitespace
    (``events.WHITESPACE``: DuckDB's ``trim`` alone removes spaces only), empty text is
    null, kinds are lower-cased, ``_row`` counts rows from 1 and ``_seq`` goes on from
    ``first_seq``, both in file order. Returns the query, its parameters, the columns it
    gives and the number of rows.
    """
    from valueclock.events import WHITESPACE, _canonical_names, inspect_file

    del time_format  # a typed timestamp is not parsed
    if kinds:
        return None
    try:
        if inspect_file(path).format != "parquet":
            return None
        metadata = pq.ParquetFile(str(path)).metadata
        quoted = sql_text(str(path))
        described = raw.execute(f"DESCRIBE SELECT * FROM read_parquet({quoted})").fetchall()
    except (InputError, OSError, pa.ArrowException, duckdb.Error):
        return None
    if metadata.num_rows == 0:
        return None  # the reader refuses it with its own message
    source = [str(row[0]) for row in described]
    if "file_row_number" in source:
        return None
    types = {str(row[0]): str(row[1]) for row in described}
    try:
        names = _canonical_names(source, columns, path, REQUIRED_COLUMNS, EVENT_COLUMNS)
    except InputError:
        return None
    by_name = dict(zip(names, source, strict=True))
    ts_type = types[by_name["timestamp"]]
    if ts_type == "TIMESTAMP WITH TIME ZONE":
        ts = f'timezone(\'UTC\', "{_ident(by_name["timestamp"])}")'
    elif ts_type in _NAIVE_TIMESTAMPS and timezone == "UTC":
        ts = f'CAST("{_ident(by_name["timestamp"])}" AS TIMESTAMP)'
    else:
        return None
    attributes = [n for n in names if n not in EVENT_COLUMNS and not n.startswith("_")]
    texts = [n for n in EVENT_COLUMNS if n != "timestamp" and n in by_name] + attributes
    if any(types[by_name[n]] not in _STRING_TYPES for n in texts):
        return None

    def text(column: str) -> str:
        c = f'"{_ident(by_name[column])}"'
        return (f"CASE WHEN regexp_matches({c}, $edge) THEN nullif(trim({c}, $ws), '') "
                f"ELSE nullif({c}, '') END")

    parts = []
    for column in EVENT_COLUMNS:
        if column == "timestamp":
            value = ts
        elif column not in by_name:
            value = "CAST(NULL AS VARCHAR)"
        elif column == "kind":
            value = f"lower({text(column)})"
        else:
            value = text(column)
        parts.append(f'{value} AS "{column}"')
    parts += [f'{text(n)} AS "{_ident(n)}"' for n in attributes]
    parts += ["CAST($source AS VARCHAR) AS _source",
              "CAST(file_row_number + 1 AS BIGINT) AS _row",
              f"CAST(file_row_number + {int(first_seq)} AS BIGINT) AS _seq",
              "CAST(NULL AS VARCHAR) AS _timestamp_raw"]
    edge = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE) + "]"
    select = (f"SELECT {', '.join(parts)} FROM read_parquet({quoted}, file_row_number = true)")
    params = {"edge": f"^{edge}|{edge}$", "ws": WHITESPACE, "source": str(path)}
    return select, params, [*EVENT_COLUMNS, *attributes, "_source", "_row", "_seq",
                            "_timestamp_raw"], int(metadata.num_rows)


def _ident(name: str) -> str:
    return name.replace('"', '""')


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


def _split(name: str) -> tuple[str | None, str]:
    """``schema.table`` (or ``catalog.schema.table``) as (database, table)."""
    head, dot, table = name.strip().rpartition(".")
    if not table:
        raise UsageError(f"cannot read table name {name!r}")
    return (head if dot else None), table


def _stored(con: Any, name: str) -> ir.Table:
    database, table = _split(name)
    try:
        return con.table(table, database=database)
    except Exception as exc:  # noqa: BLE001 - every backend says "no such table" its own way
        try:
            found = sorted(con.list_tables(database=database))
        except Exception:  # noqa: BLE001
            found = []
        listed = ", ".join(found[:20]) + (", ..." if len(found) > 20 else "")
        said = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise UsageError(f"no table {name!r} in the {engine_name(con)} engine"
                         + (f" (tables: {listed})" if found else f": {said}")) from None


def _by_canonical_name(table: ir.Table, wanted: tuple[str, ...]) -> ir.Table:
    """The table with columns named as valueclock names them, whatever their letter case
    (warehouses often upper-case names)."""
    lower: dict[str, str] = {}
    for column in table.columns:
        lower.setdefault(column.lower(), column)
    renames = {c: lower[c] for c in wanted if c not in table.columns and c in lower}
    return table.rename(renames) if renames else table


def events_table(con: Any, name: str) -> ir.Table:
    """The canonical events stored in the engine as table ``name`` (``schema.table`` too),
    shaped as the engine expects them.

    Columns are matched in any letter case; ``account_id``, ``timestamp`` and ``kind`` are
    required. ``timestamp`` must be a timestamp (or date) column: with a time zone it is
    exact, without one it is taken as UTC. Every other column is read as text, as from
    files. Problems in the table are named ``table NAME``. Raises :class:`InputError`
    naming the table and column.
    """
    import ibis.expr.datatypes as dt

    t = _by_canonical_name(_stored(con, name), EVENT_COLUMNS)
    where = f"table {name}"
    for column in REQUIRED_COLUMNS:
        if column not in t.columns:
            raise InputError(f"required column {column!r} is missing (columns found: "
                             f"{', '.join(t.columns) or 'none'})", path=where, column=column)
    ts = t.timestamp
    if not (ts.type().is_timestamp() or ts.type().is_date()):
        raise InputError(f"is {ts.type()}, not a timestamp: store it as a TIMESTAMP (in UTC, "
                         "or with a time zone), or give the export as EVENTS files for "
                         "valueclock's reader", path=where, column="timestamp")
    shaped: dict[str, ir.Value] = {}
    if ts.type().is_date() or ts.type().timezone is not None:
        # Every session valueclock opens is in UTC, so this is the moment in UTC.
        shaped["timestamp"] = ts.cast(dt.Timestamp())
    for column in t.columns:
        if column == "timestamp" or column.startswith("_"):
            continue
        shaped[column] = t[column] if t[column].type().is_string() else \
            t[column].cast("string")
    t = t.mutate(**shaped)
    return t.mutate(_source=ibis.literal(where), _row=ibis.null("int64"))


def accounts_table(con: Any, name: str) -> ir.Table:
    """The accounts table stored in the engine as ``name``: ``account_id`` (any letter
    case) and attributes, all read as text."""
    t = _by_canonical_name(_stored(con, name), ("account_id",))
    if "account_id" not in t.columns:
        raise InputError(f"required column 'account_id' is missing (columns found: "
                         f"{', '.join(t.columns) or 'none'})", path=f"table {name}",
                         column="account_id")
    cols = [c for c in t.columns if not c.startswith("_")]
    return t.select(**{c: t[c] if t[c].type().is_string() else t[c].cast("string")
                       for c in cols})


def write_table(con: Any, expr: ir.Table, name: str) -> int:
    """Write a result to a table called ``name`` in the engine (replacing it); returns how
    many rows it has."""
    database, table = _split(name)
    if engine_name(con) == "spark" and con._session.conf.get(TEMPORARY_WAREHOUSE,
                                                             "false") == "true":
        raise UsageError("this Spark session keeps its tables in a temporary folder that "
                         "goes when valueclock ends: name a warehouse in the engine URL, "
                         "as spark://local[2]?spark.sql.warehouse.dir=/path/to/warehouse")
    written = con.create_table(table, expr, database=database, overwrite=True)
    return int(written.count().to_pyarrow().as_py())


def open_tables(url: str | None, *, table: str | None = None,
                files: list[Path] | None = None, accounts: Path | None = None,
                accounts_table_name: str | None = None,
                timezone: str = "UTC") -> tuple[ir.Table, ir.Table | None]:
    """The events (and accounts) to measure on the engine at ``url``: those stored there
    as ``table``, or event ``files`` read by valueclock's reader and handed to it; the
    accounts stored as ``accounts_table_name`` or read from the file ``accounts``. What
    ``--engine``, ``--table`` and ``--accounts-table`` mean on the command line."""
    from valueclock.events import read_accounts

    if table and files:
        raise UsageError("give EVENTS files or --table, not both")
    if not table and not files:
        raise UsageError("with --engine, give EVENTS files or --table NAME (the events "
                         "stored in the engine)")
    if accounts_table_name and accounts is not None:
        raise UsageError("give --accounts FILE or --accounts-table, not both")
    con = connect(url)
    events = (events_table(con, table) if table
              else load_files(con, list(files or []), timezone=timezone))
    attrs = (accounts_table(con, accounts_table_name) if accounts_table_name
             else None if accounts is None else load(con, read_accounts(accounts), "accounts"))
    return events, attrs
