"""``valueclock serve``: measure once, then serve the dashboard (loopback by default)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from valueclock.errors import UsageError
from valueclock.options import AccountsTableOpt, EngineOpt, TableOpt
from valueclock.output import err
from valueclock.output import working as _working

__all__ = ["register", "run", "load"]



def load(events: list[Path] | None = None, workspace: Path | None = None, *,
         accounts: Path | None = None, timezone: str | None = None,
         as_of: str | None = None, lookback_days: float | None = None,
         calendar: Path | None = None, engine: str | None = None, table: str | None = None,
         accounts_table: str | None = None) -> Any:
    """The :class:`~valueclock.web.data.Dashboard` of event files or of a workspace (an
    EVENTS argument that is a workspace folder counts as ``-w``), or of the events on an
    engine (``engine``, ``table``, ``accounts_table`` as ``--engine`` and ``--table``)."""
    from valueclock.web.data import Dashboard, load_files, load_tables, load_workspace
    from valueclock.workspace import find_workspace, is_workspace

    if engine or table or accounts_table:
        from valueclock.engines import open_tables

        if workspace is not None:
            raise UsageError("give a workspace (-w) or --engine/--table, not both")
        tables = open_tables(engine, table=table, files=list(events or []) or None,
                             accounts=accounts, accounts_table_name=accounts_table,
                             timezone=timezone or "UTC")
        label = (f"table {table}" if table else ", ".join(p.name for p in events or []))
        return Dashboard(load_tables(*tables, label=f"{label} on {engine or 'duckdb://'}",
                                     timezone=timezone or "UTC", as_of=as_of,
                                     lookback_days=lookback_days, calendar=calendar))
    events = list(events or [])
    if workspace is None and len(events) == 1 and events[0].is_dir() \
            and is_workspace(events[0]):
        workspace, events = events[0], []
    if workspace is not None and events:
        raise UsageError("give EVENTS files or a workspace (-w), not both")
    if workspace is None and not events:
        workspace = find_workspace()
        if workspace is None:
            raise UsageError("no EVENTS given and no workspace in the current folder: give "
                             "event files, or a workspace with -w PATH")
    if workspace is not None:
        source = load_workspace(workspace, accounts=accounts, timezone=timezone, as_of=as_of,
                                lookback_days=lookback_days, calendar=calendar)
    else:
        source = load_files(events, accounts=accounts, timezone=timezone or "UTC",
                            as_of=as_of, lookback_days=lookback_days, calendar=calendar)
    return Dashboard(source)


def run(dashboard: Any, host: str = "127.0.0.1", port: int = 8000,
        token: str | None = None, warm: bool = True, log_level: str = "warning") -> None:
    """Serve ``dashboard`` with uvicorn until interrupted."""
    import uvicorn

    from valueclock.web.app import create_app
    from valueclock.web.security import check_bind

    check_bind(host, token)
    if warm:  # the first visitor should not wait for the default view
        dashboard.warm()
    app = create_app(dashboard, token=token)
    shown = f"[{host}]" if ":" in host else host
    err.print(f"valueclock dashboard on http://{shown}:{port}/ "
              f"({dashboard.source.label}, as of {dashboard.base.as_of:%Y-%m-%d %H:%M} UTC)"
              + ("; token required" if token else "; loopback only, no token")
              + ". Ctrl-C stops it.", highlight=False)
    uvicorn.run(app, host=host, port=port, log_level=log_level, access_log=False)


def serve(events: Annotated[list[Path] | None, typer.Argument(
              metavar="[EVENTS]...",
              help="Event log files (CSV, Parquet, JSON lines), or a workspace folder. "
                   "Without them: -w PATH, or the current folder's workspace.",
              show_default=False)] = None,
          workspace: Annotated[Path | None, typer.Option(
              "--workspace", "-w", metavar="PATH",
              help="Workspace folder to serve (opened read-only).",
              show_default=False)] = None,
          accounts: Annotated[Path | None, typer.Option(
              "--accounts", help="Accounts table (account_id plus attributes such as "
                                 "segment, region) to slice by.")] = None,
          timezone: Annotated[str | None, typer.Option(
              "--timezone", help="Time zone of timestamps written without an offset. "
                                 "Default: UTC (a workspace: its own).",
              show_default=False)] = None,
          as_of: Annotated[str | None, typer.Option(
              "--as-of", help="Moment to measure for (ISO 8601). Default: the latest "
                              "timestamp in the data.")] = None,
          lookback_days: Annotated[float | None, typer.Option(
              "--lookback-days", min=0, help="Only value events at most this many days "
                                             "before the sale count.")] = None,
          calendar: Annotated[Path | None, typer.Option(
              "--calendar", help="Business hours (TOML) to count hours in.")] = None,
          engine: EngineOpt = None, table: TableOpt = None,
          accounts_table: AccountsTableOpt = None,
          host: Annotated[str, typer.Option(
              "--host", help="Address to listen on. Anything but loopback (127.0.0.1, "
                             "::1, localhost) needs a token.")] = "127.0.0.1",
          port: Annotated[int, typer.Option("--port", min=0, max=65535,
                                            help="Port to listen on.")] = 8000,
          token: Annotated[str | None, typer.Option(
              "--token", envvar="VALUECLOCK_TOKEN", show_envvar=True,
              help="Access token required on every request (Authorization: Bearer TOKEN, "
                   "or the sign-in page). Prefer the environment variable: a command "
                   "line is visible to other users of the machine.",
              show_default=False)] = None) -> None:
    """Serve the web dashboard: the headline and its parts with the trend, filters kept in
    the address, lists of accounts and cases, each account's timeline and each case's
    clock, the teams, and a JSON API under /api (OpenAPI at /api/openapi.json).

    The data is measured once at startup and never written to. It listens on 127.0.0.1
    unless told otherwise; any other address needs --token (or VALUECLOCK_TOKEN).
    See docs/dashboard.md.
    """
    from valueclock.web.security import check_bind

    token = token or os.environ.get("VALUECLOCK_TOKEN") or None
    check_bind(host, token)  # before the minutes a large log may take to measure
    started = time.perf_counter()
    with _working("Measuring..."):
        dashboard = load(events, workspace, accounts=accounts, timezone=timezone,
                         as_of=as_of, lookback_days=lookback_days, calendar=calendar,
                         engine=engine, table=table, accounts_table=accounts_table)
        dashboard.warm()
    err.print(f"Measured in {time.perf_counter() - started:.1f}s.", highlight=False)
    run(dashboard, host=host, port=port, token=token, warm=False)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to the command line."""
    app.command("serve")(serve)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: valueclock serve")
