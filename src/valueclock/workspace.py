"""The workspace: a folder where events accumulate safely, in one embedded DuckDB file.

A workspace is a folder holding ``valueclock.duckdb`` (the data) and ``valueclock.toml``
(settings people can read and edit: how to read their files). No server runs.

What it promises:

- **All or nothing.** One :meth:`Workspace.ingest` call is one DuckDB transaction: an
  error, Ctrl-C, or the process being killed leaves the workspace exactly as before.
- **Idempotent.** Ingesting rows already there adds nothing. An event with an
  ``event_id`` is that id; one without is the hash of its canonical content (account,
  moment, kind, case, team, label) and how many times that content occurred before it in
  the same call, so overlapping exports add each event once, and two identical events in
  one export stay two.
- **Provenance.** Every event, quarantined row and account row keeps its source file,
  row, and the ingest that added it; :meth:`Workspace.sources` lists the ingests and
  :meth:`Workspace.forget` removes what one added.
- **Quarantine, not loss.** Rows that cannot be used (no account, a time that cannot be
  read, an unknown kind, a case event without a case, a repeated ``event_id``) go to the
  ``quarantine`` table with the reason, source and row; reports count them.

Reading files is :mod:`valueclock.events`' job (formats, encodings, delimiters, column and
kind mappings, time formats and zones); this module only stores what it reads.

    >>> ws = Workspace.init("northbeam")                          # doctest: +SKIP
    >>> ws.ingest(["events.csv"], accounts="accounts.csv")        # doctest: +SKIP
    >>> ws.measure().summary()["ttcv_text"]                       # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import tempfile
import threading
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.types as ir
import pyarrow as pa

from valueclock import __version__
from valueclock.engine import Measurement
from valueclock.engines import QUIET_DUCKDB, duckdb_connect, sql_text
from valueclock.errors import InputError, UsageError
from valueclock.events import (
    FileLayout,
    inspect_file,
    iter_events,
    parse_instant,
    parse_kind_map,
    read_accounts,
    zone,
)
from valueclock.schema import CASE_KINDS, EVENT_COLUMNS, KINDS

__all__ = ["Workspace", "IngestResult", "Config", "SCHEMA_VERSION", "find_workspace",
           "is_workspace"]

#: The version of the workspace's layout. A workspace made by a newer valueclock (a higher
#: number) is refused rather than misread.
SCHEMA_VERSION = 1
DB_NAME = "valueclock.duckdb"
CONFIG_NAME = "valueclock.toml"

#: ``progress(stage, done, total)``: ``stage`` is ``"read"`` (``done`` and ``total`` in
#: bytes of the input files), ``"save"`` (checking and writing; no total) or ``"done"``.
Progress = Callable[[str, int, int | None], None]

_INTERNAL = ("_source", "_row", "_seq", "_timestamp_raw")
_EVENT_SQL_TYPES = {"timestamp": "TIMESTAMP"}

_REASONS = {
    "missing_account_id": "no account_id",
    "unparseable_timestamp": "the timestamp cannot be read",
    "unknown_kind": "the kind is not one of " + ", ".join(KINDS),
    "missing_case_id": "a case event without a case_id",
    "duplicate_event_id": "the event_id is already used by another row",
}


def _q(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'



# ------------------------------------------------------------------------------------------
# The configuration file
# ------------------------------------------------------------------------------------------

@dataclass
class Config:
    """The settings of ``valueclock.toml``: how files are read into the workspace.

    ``columns`` maps canonical column names to the names in your files
    (``account_id = "Company ID"``); ``kinds`` maps values of the kind column to kinds
    (``"Closed Won" = "sale"``); ``time_format`` (strftime codes such as
    ``%d/%m/%Y %H:%M``) reads timestamps that are not ISO 8601; ``timezone`` is the zone of
    timestamps written without an offset.
    """

    schema_version: int = SCHEMA_VERSION
    timezone: str = "UTC"
    time_format: str | None = None
    columns: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Config:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError("the workspace has no valueclock.toml (create the workspace "
                             "with `valueclock init`)", path=str(path)) from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the settings: {exc}", path=str(path)) from None
        version = data.get("schema_version", SCHEMA_VERSION)
        if not isinstance(version, int):
            raise InputError(f"schema_version must be a whole number, not {version!r}",
                             path=str(path))
        if version > SCHEMA_VERSION:
            raise _newer(path.parent, version)

        def text(key: str, default: str | None) -> str | None:
            value = data.get(key, default)
            if value is not None and not isinstance(value, str):
                raise InputError(f"{key} must be text, not {value!r}", path=str(path))
            return value

        def table(key: str) -> dict[str, str]:
            value = data.get(key, {})
            if not isinstance(value, dict) or not all(
                    isinstance(v, str) for v in value.values()):
                raise InputError(f"[{key}] must map names to text", path=str(path))
            return {str(k): v for k, v in value.items()}

        config = cls(schema_version=version, timezone=text("timezone", "UTC") or "UTC",
                     time_format=text("time_format", None) or None,
                     columns=table("columns"), kinds=table("kinds"))
        try:
            zone(config.timezone)
            config.kinds = parse_kind_map(config.kinds)
        except UsageError as exc:
            raise InputError(str(exc), path=str(path)) from None
        return config

    def dumps(self) -> str:
        def s(value: str) -> str:
            return json.dumps(value, ensure_ascii=False)

        def key(name: str) -> str:
            return name if re.fullmatch(r"[A-Za-z0-9_-]+", name) else s(name)

        lines = [
            "# valueclock workspace settings: how files are read into this workspace.",
            "# Edit freely; options given to `valueclock ingest` override them for one call,",
            "# and `valueclock ingest --save` writes those options here.",
            "",
            "# The layout of this workspace. Do not change it by hand.",
            f"schema_version = {self.schema_version}",
            "",
            "# Time zone of timestamps written without an offset (an IANA name).",
            f"timezone = {s(self.timezone)}",
            "",
            "# How timestamps are written when they are not ISO 8601 (strftime codes),",
            '# e.g. time_format = "%d/%m/%Y %H:%M".',
        ]
        lines.append(f"time_format = {s(self.time_format)}" if self.time_format
                     else "# time_format = \"%d/%m/%Y %H:%M\"")
        lines += ["", "# Column names in your files, for each canonical column.",
                  "[columns]"]
        lines += [f"{key(k)} = {s(v)}" for k, v in self.columns.items()] or [
            '# account_id = "Company ID"']
        lines += ["", "# Values of the kind column in your files, and the kind each one is.",
                  "[kinds]"]
        lines += [f"{s(k)} = {s(v)}" for k, v in self.kinds.items()] or [
            '# "Closed Won" = "sale"']
        return "\n".join(lines) + "\n"

    def save(self, path: Path) -> None:
        """Write the file atomically: a reader sees the old one or the new one, never half."""
        _atomic_write(path, self.dumps())


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _newer(folder: Path, version: int) -> InputError:
    return InputError(f"this workspace was made by a newer valueclock (workspace format "
                      f"{version}; valueclock {__version__} reads format {SCHEMA_VERSION} "
                      "and older): upgrade valueclock to use it", path=str(folder))


# ------------------------------------------------------------------------------------------
# Finding and opening
# ------------------------------------------------------------------------------------------

def is_workspace(path: str | Path) -> bool:
    """True when ``path`` is a folder holding a workspace."""
    return (Path(path) / DB_NAME).is_file()


def find_workspace(path: str | Path | None = None) -> Path | None:
    """The workspace folder ``path`` names (or the current folder's), or None."""
    folder = Path(path) if path is not None else Path.cwd()
    if folder.name == DB_NAME:
        folder = folder.parent
    return folder if is_workspace(folder) else None


def _database_error(exc: Exception, folder: Path) -> InputError:
    """A DuckDB error met while opening or writing, as one line for people."""
    text = str(exc)
    lock = re.search(r"Conflicting lock is held in .*?\(PID (\d+)\)", text)
    if "Could not set lock" in text or lock:
        pid = f" (PID {lock.group(1)})" if lock else ""
        return InputError(f"the workspace is locked by another process{pid}, probably an "
                          "ingest still running: try again when it ends", path=str(folder))
    if "different configuration than existing connections" in text:
        return InputError("the workspace is already open in this process in another mode "
                          "(read-only or not): close it first", path=str(folder))
    if re.search(r"No space left on device|File too large|Disk quota", text, re.I):
        return InputError("no space left to write the workspace (the disk is full, or a "
                          "file size limit was reached): nothing was changed; free some "
                          "space and try again", path=str(folder))
    if re.search(r"newer version|version number|storage version", text, re.I):
        return InputError("the workspace's database was written by a newer DuckDB than "
                          f"this one ({duckdb.__version__}): upgrade valueclock and DuckDB "
                          "to use it", path=str(folder))
    if re.search(r"not a valid DuckDB database|database file", text, re.I):
        return InputError(f"{DB_NAME} is not a valueclock database (or is damaged): "
                          f"{text.splitlines()[0]}", path=str(folder))
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return InputError(f"cannot use the workspace: {first}", path=str(folder))


def _is_disk_error(exc: BaseException) -> bool:
    return bool(re.search(r"No space left on device|File too large|Disk quota",
                          str(exc), re.I))


# ------------------------------------------------------------------------------------------
# Ingest results
# ------------------------------------------------------------------------------------------

@dataclass
class IngestResult:
    """What one ingest did."""

    ingest_id: int
    files: list[str]
    layouts: list[str]
    rows_read: int = 0
    added: int = 0
    already_present: int = 0
    quarantined: int = 0
    already_quarantined: int = 0
    resolved: int = 0
    accounts_read: int = 0
    accounts_added: int = 0
    accounts_repeated: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) while the block runs; raise it afterwards.

    Used around COMMIT, so an interrupt cannot leave Python unsure whether the transaction
    was committed. (SIGKILL cannot be held: DuckDB's write-ahead log covers that.)
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


@contextlib.contextmanager
def _python_ctrl_c() -> Iterator[None]:
    """Let Ctrl-C reach Python as KeyboardInterrupt while files are read.

    PyArrow's readers install their own SIGINT handler, and a signal arriving at the
    wrong moment can be lost with it (the ingest then runs to the end); without it the
    interrupt is raised as soon as the reader hands back a batch.
    """
    pa.enable_signal_handlers(False)
    try:
        yield
    finally:
        pa.enable_signal_handlers(True)


# ------------------------------------------------------------------------------------------
# The workspace
# ------------------------------------------------------------------------------------------

_SCHEMA = f"""
CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE ingests (
    ingest_id INTEGER PRIMARY KEY,
    ingested_at TIMESTAMP,
    what VARCHAR,
    files VARCHAR,
    options VARCHAR,
    rows_read BIGINT,
    added BIGINT,
    already_present BIGINT,
    quarantined BIGINT,
    resolved BIGINT,
    accounts_read BIGINT,
    accounts_added BIGINT,
    valueclock_version VARCHAR
);
CREATE TABLE events (
    event_id VARCHAR, account_id VARCHAR, timestamp TIMESTAMP, kind VARCHAR,
    case_id VARCHAR, team VARCHAR, label VARCHAR,
    _source VARCHAR, _row BIGINT, _seq BIGINT, _timestamp_raw VARCHAR,
    _ingest INTEGER, _key UHUGEINT
);
CREATE TABLE quarantine (
    reason VARCHAR, detail VARCHAR,
    event_id VARCHAR, account_id VARCHAR, timestamp VARCHAR, kind VARCHAR,
    case_id VARCHAR, team VARCHAR, label VARCHAR,
    _source VARCHAR, _row BIGINT, _seq BIGINT, _ingest INTEGER, _key UHUGEINT
);
CREATE TABLE accounts (
    account_id VARCHAR,
    _source VARCHAR, _row BIGINT, _seq BIGINT, _ingest INTEGER, _key UHUGEINT
);
INSERT INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}'), ('next_seq', '0'),
    ('next_ingest', '1'), ('created_with', 'valueclock {__version__}');
"""

# The canonical content of a row, as one 128-bit number (stable across DuckDB versions:
# md5 of text built from exact values; the moment in microseconds since 1970).
_NUL = "chr(30)"
_CONTENT = (
    "md5_number(concat_ws(chr(31), "
    + ", ".join(
        f"coalesce({c}, {_NUL})" if c != "timestamp" else
        f"coalesce(CAST(epoch_us(timestamp) AS VARCHAR), "
        f"'raw' || chr(29) || coalesce(_timestamp_raw, {_NUL}))"
        for c in ("account_id", "timestamp", "kind", "case_id", "team", "label", "event_id"))
    + "))"
)


class Workspace:
    """A workspace folder: ``valueclock.duckdb`` plus ``valueclock.toml``.

    Open one with :meth:`open` (or make one with :meth:`init`); close it with
    :meth:`close` or use it as a context manager. A workspace opened for writing is
    locked: other processes can neither read nor write it until it is closed; several
    readers (``read_only=True``) can share it.
    """

    def __init__(self, folder: Path, con: duckdb.DuckDBPyConnection, config: Config,
                 read_only: bool) -> None:
        self.folder = folder
        self.config = config
        self.read_only = read_only
        self._con = con

    # -- making and opening ----------------------------------------------------------------

    @classmethod
    def init(cls, path: str | Path = ".", *, timezone: str = "UTC",
             time_format: str | None = None, columns: Mapping[str, str] | None = None,
             kinds: Mapping[str, str] | Iterable[str] | None = None) -> Workspace:
        """Make a new workspace in folder ``path`` (created when missing) and open it.

        Raises :class:`InputError` when ``path`` is a file or already a workspace.
        """
        folder = Path(path)
        if folder.exists() and not folder.is_dir():
            raise InputError("is a file, not a folder: a workspace is a folder",
                             path=str(folder))
        if is_workspace(folder):
            raise InputError("is already a valueclock workspace", path=str(folder))
        zone(timezone)
        config = Config(timezone=timezone, time_format=time_format or None,
                        columns=dict(columns or {}), kinds=parse_kind_map(kinds))
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".valueclock-init-", suffix=".duckdb",
                                       dir=folder)
            os.close(fd)
            os.unlink(tmp)  # DuckDB makes the file itself
            try:
                con = duckdb_connect(tmp)
                con.execute(_SCHEMA)
                con.execute("CHECKPOINT")
                con.close()
                config.save(folder / CONFIG_NAME)
                os.replace(tmp, folder / DB_NAME)  # the workspace exists from here on
            finally:
                for leftover in (Path(tmp), Path(tmp + ".wal")):
                    leftover.unlink(missing_ok=True)
        except OSError as exc:
            if _is_disk_error(exc):
                raise _database_error(exc, folder) from None
            raise InputError(f"cannot make the workspace: {exc.strerror or exc}",
                             path=str(folder)) from None
        except duckdb.Error as exc:
            raise _database_error(exc, folder) from None
        return cls.open(folder)

    @classmethod
    def open(cls, path: str | Path = ".", *, read_only: bool = False) -> Workspace:
        """Open the workspace in folder ``path`` (or the ``valueclock.duckdb`` in it).

        Raises :class:`InputError` when there is no workspace there, when another process
        holds it, or when a newer valueclock made it.
        """
        folder = Path(path)
        if folder.name == DB_NAME and folder.is_file():
            folder = folder.parent
        if not folder.exists():
            raise InputError("no such folder (make a workspace with `valueclock init "
                             f"{folder}`)", path=str(folder))
        if not is_workspace(folder):
            raise InputError(f"not a valueclock workspace (no {DB_NAME}; make one with "
                             f"`valueclock init {folder}`)", path=str(folder))
        config = Config.load(folder / CONFIG_NAME)
        try:
            con = duckdb_connect(str(folder / DB_NAME), read_only=read_only)
        except duckdb.Error as exc:
            raise _database_error(exc, folder) from None
        try:
            version = int(con.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'").fetchall()[0][0])
        except (duckdb.Error, TypeError, ValueError) as exc:
            con.close()
            raise _database_error(exc, folder) from None
        if version > SCHEMA_VERSION:
            con.close()
            raise _newer(folder, version)
        return cls(folder, con, config, read_only)

    def close(self) -> None:
        """Close the database (and release the lock)."""
        if "backend" in self.__dict__:
            with contextlib.suppress(Exception):
                self.backend.disconnect()
            del self.__dict__["backend"]
        with contextlib.suppress(duckdb.Error):
            self._con.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Workspace({str(self.folder)!r}{', read_only=True' if self.read_only else ''})"

    # -- reading ----------------------------------------------------------------------------

    @cached_property
    def backend(self) -> Any:
        """The Ibis backend over the workspace's DuckDB connection."""
        # A cursor: a connection of its own to the same database, so that Ibis's results
        # and the workspace's own statements never wait on each other.
        cursor = self._con.cursor()
        cursor.execute(QUIET_DUCKDB)
        return ibis.duckdb.from_connection(cursor)

    def _columns(self, table: str) -> list[str]:
        result = self._con.execute(f"SELECT * FROM {table} LIMIT 0")
        names = [d[0] for d in result.description]
        result.fetchall()
        return names

    def events(self) -> ir.Table:
        """The events as an Ibis table in the canonical shape the engine measures: the
        canonical columns, the attributes, then ``_source``, ``_row``, ``_seq`` and
        ``_timestamp_raw`` (so problems name their file and row, and ties keep the order
        the rows were ingested in)."""
        cols = [c for c in self._columns("events") if c not in ("_ingest", "_key")]
        order = list(EVENT_COLUMNS) + [c for c in cols if c not in EVENT_COLUMNS
                                       and c not in _INTERNAL] + list(_INTERNAL)
        return self.backend.table("events").select(*order)

    def accounts(self) -> ir.Table | None:
        """The accounts table (``account_id``, attributes, ``_source``, ``_row``, ``_seq``):
        for each account the row of the latest ingest that had it; None when no accounts
        table was ingested."""
        if not self._con.execute("SELECT count(*) FROM accounts").fetchall()[0][0]:
            return None
        t = self.backend.table("accounts")
        w = ibis.window(group_by=t.account_id, order_by=ibis.desc(t._seq))
        latest = t.mutate(_n=ibis.row_number().over(w))
        latest = latest.filter(latest._n == 0)
        keep = [c for c in t.columns if c not in ("_ingest", "_key")]
        return latest.select(*keep)

    def quarantine(self) -> ir.Table:
        """The rows set aside: ``reason, detail``, the row's canonical values as written,
        ``_source``, ``_row``, ``_seq`` and ``_ingest``."""
        t = self.backend.table("quarantine")
        return t.drop("_key")

    def problems(self) -> ir.Table:
        """The quarantine as data problems (``problem, source, row, detail``), problem
        ``quarantined``; the detail names the reason (``unknown kind 'closed won'``)."""
        q = self.backend.table("quarantine")
        return q.select(problem=ibis.literal("quarantined"), source=q._source,
                        row=q._row.cast("int64"), detail=q.detail)

    def quarantine_summary(self, examples: int = 3) -> list[dict[str, Any]]:
        """Each reason rows were quarantined for, with its count and a few examples, in
        the shape of :meth:`Measurement.problem_summary`."""
        rows = self._con.execute(f"""
            SELECT reason, count(*) AS n,
                   list(_source || ' line ' || _row || ': ' || detail ORDER BY _seq)
                       [1:{int(examples)}] AS examples
            FROM quarantine GROUP BY reason
        """).fetchall()
        order = list(_REASONS)
        out = [{"problem": r[0], "description": _REASONS.get(r[0], ""), "count": int(r[1]),
                "examples": list(r[2] or []) if examples else []} for r in rows]
        return sorted(out, key=lambda d: order.index(d["problem"]) if d["problem"] in order
                      else len(order))

    def measure(self, *, accounts: ir.Table | pa.Table | str | Path | None = None,
                as_of: datetime | str | None = None, lookback_days: float | None = None,
                timezone: str | None = None, cache: bool = False,
                **options: Any) -> Measurement:
        """Measure the workspace's events, with its accounts table (or ``accounts``); the
        quarantined rows are counted among the data problems (``quarantined``). Other
        keyword options go to :class:`~valueclock.engine.Measurement`."""
        tz = timezone or self.config.timezone
        if isinstance(as_of, str):
            as_of = parse_instant(as_of, tz)
        elif isinstance(as_of, datetime) and as_of.tzinfo is not None:
            as_of = as_of.astimezone(UTC).replace(tzinfo=None)
        elif isinstance(as_of, datetime):
            as_of = as_of.replace(tzinfo=zone(tz)).astimezone(UTC).replace(tzinfo=None)
        attrs: ir.Table | None
        if accounts is None:
            attrs = self.accounts()
        elif isinstance(accounts, ir.Table):
            attrs = accounts
        else:
            if hasattr(accounts, "to_dict") and not isinstance(accounts, pa.Table):
                accounts = pa.Table.from_pandas(accounts, preserve_index=False)
            table = accounts if isinstance(accounts, pa.Table) else read_accounts(
                accounts, columns=self.config.columns)
            attrs = self.backend.create_table("valueclock_accounts_file", table, temp=True,
                                              overwrite=True)
        return _WorkspaceMeasurement(self.events(), accounts=attrs, as_of=as_of,
                                     lookback_days=lookback_days, cache=cache,
                                     workspace=self, **options)

    def sources(self) -> list[dict[str, Any]]:
        """The ingests, oldest first: id, time (UTC), what (``events`` or ``accounts``),
        files, how many rows were read, added, already present, quarantined, resolved
        (quarantined rows an ingest brought in fixed), and the events each still holds."""
        rows = self._con.execute("""
            SELECT i.ingest_id, i.ingested_at, i.what, i.files, i.options, i.rows_read,
                   i.added, i.already_present, i.quarantined, i.resolved, i.accounts_read,
                   i.accounts_added, i.valueclock_version,
                   (SELECT count(*) FROM events e WHERE e._ingest = i.ingest_id) AS events,
                   (SELECT count(*) FROM quarantine q WHERE q._ingest = i.ingest_id)
                       AS in_quarantine
            FROM ingests i ORDER BY i.ingest_id
        """).fetchall()
        names = ("ingest_id", "ingested_at", "what", "files", "options", "rows_read",
                 "added", "already_present", "quarantined", "resolved", "accounts_read",
                 "accounts_added", "valueclock_version", "events", "in_quarantine")
        out = []
        for r in rows:
            d = dict(zip(names, r, strict=True))
            d["files"] = [f["path"] for f in json.loads(d["files"] or "[]")]
            d["options"] = json.loads(d["options"] or "{}")
            out.append(d)
        return out

    def counts(self) -> dict[str, int]:
        """How many events, quarantined rows, account rows and ingests the workspace holds."""
        return {name: int(self._con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0])
                for name in ("events", "quarantine", "accounts", "ingests")}

    # -- writing ----------------------------------------------------------------------------

    def _writable(self) -> None:
        if self.read_only:
            raise UsageError("the workspace is open read-only: open it with "
                             "read_only=False to change it")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One transaction: committed when the block ends, rolled back on any error or
        interrupt. Disk and lock errors become one-line :class:`InputError`\\ s."""
        self._writable()
        con = self._con
        con.execute("BEGIN TRANSACTION")
        try:
            yield con
            with _interrupts_deferred():
                con.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            if isinstance(exc, (duckdb.Error, OSError)) and not isinstance(exc, InputError):
                raise _database_error(exc, self.folder) from None
            raise

    def _meta(self, con: duckdb.DuckDBPyConnection, key: str) -> int:
        return int(con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()[0][0])

    def _add_columns(self, con: duckdb.DuckDBPyConnection, table: str,
                     names: Iterable[str]) -> None:
        have = set(self._columns(table))
        for name in names:
            if name not in have:
                con.execute(f"ALTER TABLE {table} ADD COLUMN {_q(name)} VARCHAR")
                have.add(name)

    def ingest(self, files: Iterable[str | Path] = (), *,
               accounts: str | Path | None = None, columns: Mapping[str, str] | None = None,
               kinds: Mapping[str, str] | Iterable[str] | None = None,
               time_format: str | None = None, timezone: str | None = None,
               save: bool = False, progress: Progress | None = None,
               batch_rows: int | None = None) -> IngestResult:
        """Add event files (and an accounts table) to the workspace, all or nothing.

        ``columns``, ``kinds``, ``time_format`` and ``timezone`` add to (and override)
        the workspace's settings for this call; with ``save=True`` they are written to
        ``valueclock.toml`` once the ingest is saved. ``progress`` hears how far reading
        has come (see :data:`Progress`). Raises :class:`InputError` (nothing written)
        when a file cannot be read or the workspace cannot be written.
        """
        self._writable()
        paths = [Path(f) for f in files]
        if not paths and accounts is None:
            raise UsageError("nothing to ingest: give event files and/or --accounts FILE")
        merged_columns = {**self.config.columns, **dict(columns or {})}
        merged_kinds = {**self.config.kinds, **parse_kind_map(kinds)}
        tz = timezone or self.config.timezone
        fmt = time_format if time_format is not None else self.config.time_format
        zone(tz)
        # Look at every file before writing anything: a bad one fails the call at once.
        layouts: list[FileLayout] = [inspect_file(p) for p in paths]
        accounts_path = Path(accounts) if accounts is not None else None
        accounts_layout = inspect_file(accounts_path) if accounts_path else None
        total = sum(p.stat().st_size for p in paths) + (
            accounts_path.stat().st_size if accounts_path else 0)
        done = 0

        def advance(n: int) -> None:
            nonlocal done
            done += n
            if progress is not None:
                progress("read", done, total)

        options = {"timezone": tz, "time_format": fmt, "columns": merged_columns,
                   "kinds": merged_kinds}
        with _python_ctrl_c(), self._transaction() as con:
            ingest_id = self._meta(con, "next_ingest")
            seq = self._meta(con, "next_seq")
            result = IngestResult(ingest_id=ingest_id, files=[str(p) for p in paths],
                                  layouts=[layout.describe() for layout in layouts])
            file_info = []
            # File by file: a file is settled against what the workspace holds, earlier
            # files of this call included, as if each were ingested on its own; only
            # rows repeated within one file are counted as repeated.
            for path, layout in zip(paths, layouts, strict=True):
                seq = self._stage_events(con, [path], [layout], seq, tz, fmt,
                                         merged_columns, merged_kinds, advance, batch_rows)
                if progress is not None:
                    progress("save", done, None)
                self._store_events(con, ingest_id, result)
            file_info += [{"path": str(p), "absolute": str(p.resolve()),
                           "size": p.stat().st_size, "layout": layout.describe()}
                          for p, layout in zip(paths, layouts, strict=True)]
            if accounts_path is not None:
                assert accounts_layout is not None
                seq = self._store_accounts(con, accounts_path, ingest_id, seq,
                                           merged_columns, result)
                advance(accounts_path.stat().st_size)
                file_info.append({"path": str(accounts_path),
                                  "absolute": str(accounts_path.resolve()),
                                  "size": accounts_path.stat().st_size,
                                  "layout": accounts_layout.describe(), "accounts": True})
            what = "+".join(w for w, on in (("events", paths), ("accounts", accounts_path))
                            if on)
            con.execute(
                "INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [ingest_id, datetime.now(UTC).replace(tzinfo=None, microsecond=0), what,
                 json.dumps(file_info), json.dumps(options), result.rows_read, result.added,
                 result.already_present, result.quarantined, result.resolved,
                 result.accounts_read, result.accounts_added, __version__])
            con.execute("UPDATE meta SET value = ? WHERE key = 'next_ingest'",
                        [str(ingest_id + 1)])
            con.execute("UPDATE meta SET value = ? WHERE key = 'next_seq'", [str(seq)])
            for temp in ("_stage", "_known"):
                con.execute(f"DROP TABLE IF EXISTS {temp}")
        if save:
            self.config = Config(timezone=tz, time_format=fmt, columns=merged_columns,
                                 kinds=merged_kinds)
            self.config.save(self.folder / CONFIG_NAME)
        if progress is not None:
            progress("done", total, total)
        return result

    def _stage_events(self, con: duckdb.DuckDBPyConnection, paths: list[Path],
                      layouts: list[FileLayout], seq: int, tz: str, fmt: str | None,
                      columns: Mapping[str, str], kinds: Mapping[str, str],
                      advance: Callable[[int], None], batch_rows: int | None) -> int:
        """Read every file into the temporary table ``_stage``; return the next ``_seq``.

        Each row gets its problem (named as the engine names it), its content (a 128-bit
        hash), ``_nth`` (1 here; see :meth:`_store_events`) and, when usable, its key: the
        event_id's hash, or its content.
        """
        con.execute("DROP TABLE IF EXISTS _stage")
        base = ", ".join(f"{_q(c)} {_EVENT_SQL_TYPES.get(c, 'VARCHAR')}"
                         for c in EVENT_COLUMNS)
        con.execute(f"CREATE TEMP TABLE _stage ({base}, _source VARCHAR, _row BIGINT, "
                    "_seq BIGINT, _timestamp_raw VARCHAR, _problem VARCHAR, "
                    "_content UHUGEINT, _nth BIGINT, _key UHUGEINT)")
        staged = set(self._columns("_stage"))
        kinds_sql = ", ".join(sql_text(k) for k in KINDS)
        case_kinds = ", ".join(sql_text(k) for k in CASE_KINDS)
        select = f"""
            SELECT *, 1 AS _nth, CASE WHEN _problem IS NULL THEN
                CASE WHEN event_id IS NOT NULL THEN md5_number('e' || chr(31) || event_id)
                     ELSE _content END END AS _key
            FROM (
                SELECT *,
                    CASE WHEN account_id IS NULL THEN 'missing_account_id'
                         WHEN timestamp IS NULL THEN 'unparseable_timestamp'
                         WHEN kind IS NULL OR kind NOT IN ({kinds_sql}) THEN 'unknown_kind'
                         WHEN kind IN ({case_kinds}) AND case_id IS NULL
                              THEN 'missing_case_id'
                    END AS _problem,
                    {_CONTENT} AS _content
                FROM _batch)
        """
        extra = {"batch_rows": batch_rows} if batch_rows else {}
        for path, layout in zip(paths, layouts, strict=True):
            for batch in iter_events(path, timezone=tz, time_format=fmt, columns=columns,
                                     kinds=kinds, first_seq=seq, progress=advance,
                                     layout=layout, **extra):
                for name in batch.column_names:
                    if name not in staged:
                        con.execute(f"ALTER TABLE _stage ADD COLUMN {_q(name)} VARCHAR")
                        staged.add(name)
                con.register("_batch", batch)
                try:
                    con.execute(f"INSERT INTO _stage BY NAME {select}")
                finally:
                    con.unregister("_batch")
                seq += batch.num_rows
        return seq

    def _store_events(self, con: duckdb.DuckDBPyConnection, ingest_id: int,
                      result: IngestResult) -> None:
        """Settle the staged rows and add the new ones to ``events`` and ``quarantine``.

        Whole-table passes are kept to the few that are needed (a big ingest is mostly
        new, or mostly already there); the rare rows (a content repeated in this call, an
        event_id repeated, an event_id already used by another event) are fixed one
        small set at a time.
        """
        # 1. Rows whose content occurs more than once in this call: the nth occurrence is
        #    its own event (two identical rows in one export are two events).
        con.execute("""
            UPDATE _stage SET _nth = r._nth,
                _key = CASE WHEN _stage._key = _stage._content
                            THEN md5_number(CAST(_stage._content AS VARCHAR) || '#'
                                            || CAST(r._nth AS VARCHAR))
                            ELSE _stage._key END
            FROM (SELECT _seq, row_number() OVER (PARTITION BY _content ORDER BY _seq) AS _nth
                  FROM _stage WHERE _content IN (
                      SELECT _content FROM _stage GROUP BY _content HAVING count(*) > 1)) r
            WHERE _stage._seq = r._seq AND r._nth > 1
        """)
        # 2. A usable row repeating the event_id of an earlier row of this call is a
        #    problem, as when reading files (the first row stands for the event).
        con.execute("""
            UPDATE _stage SET _problem = 'duplicate_event_id'
            FROM (SELECT _seq, row_number() OVER (PARTITION BY event_id ORDER BY _seq) AS n
                  FROM _stage WHERE event_id IN (
                      SELECT event_id FROM _stage WHERE event_id IS NOT NULL
                      GROUP BY event_id HAVING count(*) > 1)) r
            WHERE _stage._seq = r._seq AND r.n > 1 AND _stage._problem IS NULL
        """)
        # 3. What the workspace has already: the same key. Under an event_id, it must be
        #    the same event too; another event under that id is quarantined (the one
        #    already there is kept).
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _known AS
            SELECT e._key, CASE WHEN e.event_id IS NULL THEN e._key ELSE {_CONTENT} END
                       AS _known
            FROM events e
            WHERE e._key IN (SELECT _key FROM _stage WHERE _problem IS NULL)
        """)
        con.execute("""
            UPDATE _stage SET _problem = 'duplicate_event_id'
            FROM _known k
            WHERE _stage._key = k._key AND _stage._problem IS NULL
              AND _stage.event_id IS NOT NULL AND k._known <> _stage._content
        """)
        con.execute("""
            UPDATE _stage SET _key = md5_number('q' || chr(31) || _problem || chr(31)
                || CAST(_content AS VARCHAR) || '#' || CAST(_nth AS VARCHAR))
            WHERE _problem IS NOT NULL
        """)
        # 4. Store. New attribute columns first (DDL is part of the transaction too).
        skip = {"_problem", "_content", "_nth", "_key"}
        cols = [c for c in self._columns("_stage") if c not in skip]
        self._add_columns(con, "events", [c for c in cols if c not in _INTERNAL])
        names = ", ".join(_q(c) for c in cols)
        added = con.execute(f"""
            INSERT INTO events ({names}, _ingest, _key)
            SELECT {names}, {int(ingest_id)}, _key FROM _stage s
            WHERE _problem IS NULL AND NOT EXISTS (SELECT 1 FROM _known k
                                                   WHERE k._key = s._key)
        """).fetchall()[0][0]
        reasons = " ".join(
            f"WHEN {sql_text(k)} THEN {sql_text(k.replace('_', ' ') + ' ')} || " + v
            for k, v in {
                "missing_account_id": "'(account_id empty)'",
                "unparseable_timestamp": "chr(39) || coalesce(_timestamp_raw, '') || chr(39)",
                "unknown_kind": "chr(39) || coalesce(kind, '') || chr(39)",
                "missing_case_id": "'(kind ' || coalesce(kind, '') || ')'",
                "duplicate_event_id": "chr(39) || coalesce(event_id, '') || chr(39)",
            }.items())
        quarantined = con.execute(f"""
            INSERT INTO quarantine
            SELECT _problem, CASE _problem {reasons} END,
                   event_id, account_id, _timestamp_raw, kind, case_id, team, label,
                   _source, _row, _seq, {int(ingest_id)}, _key
            FROM _stage
            WHERE _problem IS NOT NULL AND _key NOT IN (SELECT _key FROM quarantine)
        """).fetchall()[0][0]
        # 5. Quarantined rows that came back usable (the same file and row, the same
        #    timestamp as written) are resolved: the event stands for them now.
        resolved = con.execute("""
            SELECT count(*) FROM quarantine q SEMI JOIN _stage r
            ON r._problem IS NULL AND q._source = r._source AND q._row = r._row
               AND q.timestamp IS NOT DISTINCT FROM r._timestamp_raw
        """).fetchall()[0][0]
        if resolved:
            con.execute("""
                DELETE FROM quarantine q USING _stage r
                WHERE r._problem IS NULL AND q._source = r._source AND q._row = r._row
                  AND q.timestamp IS NOT DISTINCT FROM r._timestamp_raw
            """)
        total, problems = con.execute(
            "SELECT count(*), count(_problem) FROM _stage").fetchall()[0]
        result.rows_read += int(total)
        result.added += int(added)
        result.already_present += int(total) - int(problems) - int(added)
        result.quarantined += int(quarantined)
        result.already_quarantined += int(problems) - int(quarantined)
        result.resolved += int(resolved)
        con.execute("DROP TABLE _known")

    def _store_accounts(self, con: duckdb.DuckDBPyConnection, path: Path, ingest_id: int,
                        seq: int, columns: Mapping[str, str], result: IngestResult) -> int:
        """Add an accounts table: for each account its last row in the file, unless the
        account's latest attributes are already exactly these."""
        table = read_accounts(path, columns=columns)
        n = table.num_rows
        table = table.set_column(table.column_names.index("_seq"), "_seq",
                                 pa.array(range(seq, seq + n), pa.int64()))
        attrs = [c for c in table.column_names if not c.startswith("_") and c != "account_id"]
        self._add_columns(con, "accounts", attrs)
        pairs = ", ".join(f"{sql_text(a)}, {_q(a)}" for a in sorted(attrs))
        content = (f"md5_number(account_id || chr(31) || "
                   f"CAST(json_object({pairs}) AS VARCHAR))" if attrs
                   else "md5_number(account_id)")
        con.register("_accounts_file", table)
        try:
            con.execute(f"""
                CREATE OR REPLACE TEMP TABLE _acc AS
                SELECT *, {content} AS _key,
                       row_number() OVER (PARTITION BY account_id ORDER BY _seq DESC) AS _n
                FROM _accounts_file
            """)
        finally:
            con.unregister("_accounts_file")
        missing = con.execute("""
            INSERT INTO quarantine
            SELECT 'missing_account_id', 'missing account id (accounts table)',
                   NULL, NULL, NULL, NULL, NULL, NULL, NULL, _source, _row, _seq, ?,
                   md5_number('a' || chr(31) || _source || chr(31) || CAST(_row AS VARCHAR))
            FROM _acc WHERE account_id IS NULL
              AND md5_number('a' || chr(31) || _source || chr(31) || CAST(_row AS VARCHAR))
                  NOT IN (SELECT _key FROM quarantine)
            RETURNING 1
        """, [ingest_id]).fetchall()
        names = ", ".join(_q(c) for c in ["account_id", *attrs, "_source", "_row", "_seq"])
        added = con.execute(f"""
            INSERT INTO accounts ({names}, _ingest, _key)
            SELECT {names}, {int(ingest_id)}, _key FROM _acc a
            WHERE account_id IS NOT NULL AND _n = 1
              AND _key IS DISTINCT FROM (
                  SELECT arg_max(b._key, b._seq) FROM accounts b
                  WHERE b.account_id = a.account_id)
            RETURNING 1
        """).fetchall()
        repeated = con.execute(
            "SELECT count(*) FROM _acc WHERE account_id IS NOT NULL AND _n > 1").fetchall()[0]
        con.execute("DROP TABLE _acc")
        result.accounts_read = n
        result.accounts_added = len(added)
        result.accounts_repeated = int(repeated[0])
        result.quarantined += len(missing)
        return seq + n

    def forget(self, ingest_id: int | str) -> dict[str, int]:
        """Remove what one ingest added (events, quarantined rows, account rows) and its
        record, in one transaction. Returns how many of each were removed.

        Events are stored once, under the first ingest that brought them: an event that a
        later ingest also had goes with the first one; ingest that later file again to
        bring such events back.
        """
        try:
            number = int(str(ingest_id).lstrip("#"))
        except ValueError:
            raise UsageError(f"an ingest is a number (see `valueclock sources`), not "
                             f"{ingest_id!r}") from None
        with self._transaction() as con:
            if not con.execute("SELECT count(*) FROM ingests WHERE ingest_id = ?",
                               [number]).fetchall()[0][0]:
                raise InputError(f"no ingest {number} in this workspace (see `valueclock "
                                 "sources`)", path=str(self.folder))
            removed = {}
            for table in ("events", "quarantine", "accounts"):
                removed[table] = int(con.execute(
                    f"SELECT count(*) FROM {table} WHERE _ingest = ?", [number]).fetchall()[0][0])
                con.execute(f"DELETE FROM {table} WHERE _ingest = ?", [number])
            con.execute("DELETE FROM ingests WHERE ingest_id = ?", [number])
        return removed


class _WorkspaceMeasurement(Measurement):
    """A measurement whose data problems also count the workspace's quarantine."""

    def __init__(self, events: ir.Table, *, workspace: Workspace, **options: Any) -> None:
        self._workspace = workspace
        super().__init__(events, **options)

    @cached_property
    def problems(self) -> ir.Table:
        return ibis.union(self._workspace.problems(), super().problems)

    def problem_summary(self, examples: int = 3) -> list[dict[str, Any]]:
        """As :meth:`Measurement.problem_summary`; the ``quarantined`` class also says
        how many rows each reason set aside (``reasons``)."""
        out = super().problem_summary(examples)
        for p in out:
            if p["problem"] == "quarantined":
                reasons = {r["problem"]: r["count"]
                           for r in self._workspace.quarantine_summary(0)}
                p["reasons"] = reasons
                p["description"] = (
                    "rows set aside when they were ingested, because they cannot be used "
                    "(not measured): " + ", ".join(f"{n:,} {reason}"
                                                   for reason, n in reasons.items()))
        return out
