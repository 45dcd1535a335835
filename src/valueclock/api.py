"""The Python API for notebooks and scripts: read a log, measure it, get tables back."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from valueclock.calendar import Calendar, load_calendar
from valueclock.engine import Measurement
from valueclock.engines import connect, default_connection, engine_name, load, load_files
from valueclock.events import parse_instant, parse_kind_map, read_accounts, read_events

EventsLike = ir.Table | pa.Table | pd.DataFrame | str | Path | Iterable[str | Path]


def _is_paths(data: Any) -> bool:
    return isinstance(data, (str, Path)) or (
        isinstance(data, Iterable) and not isinstance(data, (pa.Table, pd.DataFrame,
                                                             ir.Table)))


def _as_table(data: Any, con: Any, reader: Any, name: str) -> ir.Table:
    if isinstance(data, ir.Table):
        return data
    if _is_paths(data):
        data = reader(data)
    if isinstance(data, pd.DataFrame):
        data = pa.Table.from_pandas(data, preserve_index=False)
    if con is None:
        return ibis.memtable(data)
    return load(con, data, name)


def _utc(moment: datetime | str | None, timezone: str) -> datetime | None:
    if moment is None:
        return None
    if isinstance(moment, str):
        return parse_instant(moment, timezone)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def measure(events: EventsLike, *, accounts: ir.Table | pa.Table | pd.DataFrame | str | Path
            | None = None, as_of: datetime | str | None = None,
            lookback_days: float | None = None, timezone: str = "UTC",
            con: Any = None, cache: bool = False,
            calendar: Calendar | str | Path | Mapping[str, Any] | None = None,
            scale: Mapping[str, float] | None = None, time_format: str | None = None,
            columns: Mapping[str, str] | None = None,
            kinds: Mapping[str, str] | None = None) -> Measurement:
    """Measure Time to Customer Value.

    ``events`` is a path or list of paths (CSV, Parquet, JSON lines), an Arrow table or
    pandas DataFrame as :func:`read_events` returns it, or an Ibis table of canonical
    events with naive UTC timestamps, on any backend. ``as_of`` is a datetime (naive: in
    ``timezone``) or ISO 8601 text; it defaults to the latest usable timestamp. ``con``
    is the engine to compute on: an Ibis connection or an engine URL
    (``"postgres://..."``, ``"spark://local[2]"``; see :mod:`valueclock.engines`); files
    and tables are handed to it. Without it: in-memory DuckDB, or the backend of the Ibis
    table given. Events stored in an engine: ``measure(events_table(con, "events"))``.

    ``events`` can also be a :class:`~valueclock.workspace.Workspace`: its events, its
    accounts table (unless ``accounts`` is given) and its quarantine (among the data
    problems). Files written another way are read with ``time_format`` (strftime codes),
    ``columns`` (``{"account_id": "Company ID"}``) and ``kinds`` (``{"Closed Won":
    "sale"}``).

    ``cache=True`` materialises the intermediate tables once on the engine (cheaper when
    several outputs are taken); files are then read straight into DuckDB, batch by batch,
    so a log larger than memory can be measured.

    ``calendar`` (a TOML path, a parsed dict or a :class:`Calendar`) measures the clock in
    business hours; ``scale`` (``{team: factor}``) measures it as if each of those teams
    held each case for factor times as long. See ``docs/teams-calendar-whatif.md``.

    >>> m = measure("events.csv", as_of="2026-03-01")      # doctest: +SKIP
    >>> m.summary()["ttcv_text"], m.accounts.to_pandas()    # doctest: +SKIP
    """
    from valueclock.workspace import Workspace

    if isinstance(events, Workspace):
        return events.measure(accounts=accounts, as_of=as_of, lookback_days=lookback_days,
                              timezone=timezone, cache=cache,
                              calendar=load_calendar(calendar), scale=scale)
    if isinstance(con, str):
        con = connect(con)
    reading = {"time_format": time_format, "columns": columns,
               "kinds": parse_kind_map(kinds) if kinds else None}
    engine = con if con is not None else default_connection()
    if cache and _is_paths(events) and engine_name(engine) == "duckdb":
        # Files go straight into DuckDB, batch by batch (it holds, and spills, what does not
        # fit in memory); the measurement caches its own copy, so the loaded one goes.
        paths = [Path(events)] if isinstance(events, (str, Path)) else [Path(p) for p in
                                                                        events]
        table = load_files(engine, paths, timezone=timezone, **reading)
        m = _measurement(table, accounts, con, as_of, timezone, lookback_days, cache,
                         calendar, scale)
        engine.drop_table(table.get_name(), force=True)
        return m
    table = _as_table(events, con, lambda p: read_events(p, timezone=timezone, **reading),
                      "valueclock_events")
    return _measurement(table, accounts, con, as_of, timezone, lookback_days, cache,
                        calendar, scale)


def _measurement(table: ir.Table, accounts: Any, con: Any, as_of: Any, timezone: str,
                 lookback_days: float | None, cache: bool, calendar: Any,
                 scale: Any) -> Measurement:
    attrs = None if accounts is None else _as_table(accounts, con, read_accounts,
                                                    "valueclock_accounts")
    return Measurement(table, accounts=attrs, as_of=_utc(as_of, timezone),
                       lookback_days=lookback_days, cache=cache,
                       calendar=load_calendar(calendar), scale=scale)


__all__ = ["measure", "read_events", "read_accounts"]
