"""The workspace commands: ``init``, ``ingest``, ``sources``, ``forget``.

:func:`register` adds them to the main app; :func:`measure_workspace` lets the reading
commands (``report``, ``accounts``, ``check``...) measure a workspace instead of files, when
``-w PATH`` is given or when no EVENTS are given and the current folder is a workspace.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from valueclock.engine import Measurement
from valueclock.errors import UsageError
from valueclock.events import parse_column_map, parse_kind_map
from valueclock.output import err
from valueclock.output import working as _working
from valueclock.workspace import IngestResult, Workspace, find_workspace, is_workspace

__all__ = ["register", "measure_workspace", "WorkspaceOpt"]

try:  # Typer 0.2x+ carries its own click; older ones use click itself.
    from typer._click.globals import get_current_context as _current_context
except ImportError:  # pragma: no cover
    from click import get_current_context as _current_context


#: Inputs at least this large get a progress bar (in a terminal).
PROGRESS_BYTES = 20_000_000

WorkspaceOpt = Annotated[Path | None, typer.Option(
    "--workspace", "-w", metavar="PATH",
    help="Workspace folder to use (made by `valueclock init`). Default: the current folder "
         "when it is a workspace and no EVENTS are given.", show_default=False)]
MapOpt = Annotated[list[str] | None, typer.Option(
    "--map", metavar='COLUMN="Name"',
    help='Read a column under another name: --map account_id="Company ID". Repeat for '
         "each column; also for attributes (--map segment=Tier).", show_default=False)]
KindMapOpt = Annotated[list[str] | None, typer.Option(
    "--kind-map", metavar='"Value=kind"',
    help='Read a value of the kind column as a kind: --kind-map "Closed Won=sale". Letter '
         "case and spaces around are ignored. Repeat for each value.", show_default=False)]
TimeFormatOpt = Annotated[str | None, typer.Option(
    "--time-format", metavar="FORMAT",
    help='How timestamps are written when not ISO 8601, in strftime codes: '
         '"%d/%m/%Y %H:%M". Default: ISO 8601.', show_default=False)]
IngestTimezoneOpt = Annotated[str | None, typer.Option(
    "--timezone", help="Time zone of timestamps written without an offset (IANA name). "
                       "Default: the workspace's (UTC unless set).", show_default=False)]


def _workspace_folder(path: Path | None) -> Path:
    if path is not None:
        return path
    found = find_workspace()
    if found is None:
        raise UsageError("no workspace in the current folder: make one with `valueclock "
                         "init`, or give its folder with -w PATH")
    return found


# ------------------------------------------------------------------------------------------
# Reading commands on a workspace
# ------------------------------------------------------------------------------------------

def command_params() -> dict[str, Any]:
    """The parameters of the running command, as given (empty outside a command)."""
    ctx = _current_context(silent=True)
    return dict(ctx.params) if ctx is not None else {}


def chosen_workspace(events: list[Path] | None) -> Path | None:
    """The workspace the running command reads, or None when it reads EVENTS files.

    ``-w PATH`` (the command's ``workspace`` parameter) wins; an EVENTS argument that is a
    workspace folder counts as ``-w``; without either and without EVENTS, the current
    folder's workspace is used.
    """
    ctx = _current_context(silent=True)
    given = ctx.params.get("workspace") if ctx is not None else None
    if given is None and events and len(events) == 1 and is_workspace(events[0]):
        return Path(events[0])
    if given is not None:
        if events:
            raise UsageError("give EVENTS files or a workspace (-w), not both")
        return Path(given)
    if events:
        return None
    found = find_workspace()
    if found is None:
        raise UsageError("no EVENTS given and no workspace in the current folder: give "
                         "event files, or a workspace with -w PATH (make one with "
                         "`valueclock init`)")
    return found


def _given(name: str) -> bool:
    ctx = _current_context(silent=True)
    if ctx is None or name not in ctx.params:
        return False
    source = ctx.get_parameter_source(name)
    return source is not None and source.name != "DEFAULT"


def measure_workspace(events: list[Path] | None, accounts: Path | None, timezone: str,
                      as_of: str | None, lookback_days: float | None,
                      **options: Any) -> Measurement | None:
    """Measure the workspace the running command reads, or None when it reads files.

    ``--timezone`` given on the command line wins over the workspace's; ``--accounts FILE``
    replaces the workspace's accounts table for this command.
    """
    folder = chosen_workspace(events)
    if folder is None:
        return None
    ws = Workspace.open(folder, read_only=True)
    tz = timezone if _given("timezone") else ws.config.timezone
    with _working(f"Reading the workspace {folder}..."):
        return ws.measure(accounts=accounts, as_of=as_of, lookback_days=lookback_days,
                          timezone=tz, cache=True, **options)


# ------------------------------------------------------------------------------------------
# The commands
# ------------------------------------------------------------------------------------------

def init(path: Annotated[Path, typer.Argument(
             help="Folder of the new workspace (created when missing).")] = Path("."),
         timezone: Annotated[str, typer.Option(
             "--timezone", help="Time zone of timestamps written without an offset "
                                "(IANA name).")] = "UTC",
         time_format: TimeFormatOpt = None, map: MapOpt = None,
         kind_map: KindMapOpt = None) -> None:
    """Make a workspace: a folder with one DuckDB file (valueclock.duckdb) where events
    accumulate safely, and its settings (valueclock.toml: column and kind mappings, time
    format, time zone), which you can edit.

    Then `valueclock ingest FILES...` in that folder, and `valueclock report` there.
    """
    ws = Workspace.init(path, timezone=timezone, time_format=time_format,
                        columns=parse_column_map(map), kinds=parse_kind_map(kind_map))
    ws.close()
    where = "" if path == Path(".") else f" -w {path}"
    err.print(f"Made the workspace {path} (valueclock.duckdb, valueclock.toml).",
              highlight=False)
    err.print(f"Next: valueclock ingest{where} EVENTS.csv [--accounts ACCOUNTS.csv]",
              highlight=False)


class _Bar:
    """Progress on standard error, fed by Workspace.ingest: a bar for big inputs in a
    terminal; with ``lines=True`` (``--progress``), plain lines anywhere (logs, CI)."""

    def __init__(self, lines: bool = False) -> None:
        self.lines = lines
        self.progress: Progress | None = None
        self.task: Any = None
        self.status: Any = None
        self._said = -1

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if self.lines:
            self._line(stage, done, total)
            return
        if stage == "read" and total and total >= PROGRESS_BYTES and err.is_terminal:
            if self.status is not None:
                self.status.stop()
                self.status = None
            if self.progress is None:
                self.progress = Progress(
                    TextColumn("Reading"), BarColumn(), DownloadColumn(),
                    TransferSpeedColumn(), TimeRemainingColumn(), console=err,
                    transient=True)
                self.progress.start()
                self.task = self.progress.add_task("read", total=total)
            self.progress.update(self.task, completed=done)
        elif stage == "save":
            self.stop()
            if err.is_terminal:
                self.status = err.status("Checking for duplicates and saving...")
                self.status.start()
        elif stage == "done":
            self.stop()

    def _line(self, stage: str, done: int, total: int | None) -> None:
        if stage == "read" and total:
            percent = min(100, done * 100 // total)
            if percent // 10 > self._said:
                self._said = percent // 10
                print(f"valueclock: reading {percent}% ({done / 1e6:,.1f} of "
                      f"{total / 1e6:,.1f} MB)", file=sys.stderr, flush=True)
        elif stage == "save":
            print("valueclock: checking for duplicates and saving...", file=sys.stderr,
                  flush=True)

    def stop(self) -> None:
        if self.progress is not None:
            self.progress.stop()
            self.progress = None
        if self.status is not None:
            self.status.stop()
            self.status = None


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _ingest_text(r: IngestResult, folder: Path) -> str:
    lines = []
    if r.files:
        read = ", ".join(f"{f} ({layout})" if layout != "CSV" else f
                         for f, layout in zip(r.files, r.layouts, strict=True))
        lines.append(f"Ingest {r.ingest_id} into {folder}: read {_plural(r.rows_read, 'row')} "
                     f"from {read}.")
        lines.append(f"  {_plural(r.added, 'event')} added, {r.already_present:,} already "
                     "in the workspace.")
        if r.quarantined or r.already_quarantined:
            lines.append(f"  {_plural(r.quarantined, 'row')} quarantined (cannot be used)"
                         + (f", {r.already_quarantined:,} already quarantined"
                            if r.already_quarantined else "")
                         + ": see `valueclock check`.")
        if r.resolved:
            lines.append(f"  {_plural(r.resolved, 'quarantined row')} came back usable "
                         "and left the quarantine.")
    else:
        lines.append(f"Ingest {r.ingest_id} into {folder}:")
    if r.accounts_read:
        lines.append(f"  Accounts: {r.accounts_read:,} rows read, {r.accounts_added:,} "
                     "added or updated" + (f", {r.accounts_repeated:,} repeated in the "
                                           "file (its last row is used)"
                                           if r.accounts_repeated else "") + ".")
    return "\n".join(lines)


def ingest(files: Annotated[list[Path] | None, typer.Argument(
               metavar="FILES...", help="Event log files (CSV, TSV, Parquet, JSON lines; "
                                        "compressed too).", show_default=False)] = None,
           accounts: Annotated[Path | None, typer.Option(
               "--accounts", metavar="FILE",
               help="Accounts table to add (account_id plus attributes); for each account "
                    "the latest attributes win.")] = None,
           map: MapOpt = None, kind_map: KindMapOpt = None,
           time_format: TimeFormatOpt = None, timezone: IngestTimezoneOpt = None,
           save: Annotated[bool, typer.Option(
               "--save", help="Remember --map, --kind-map, --time-format and --timezone "
                              "in the workspace's valueclock.toml for the next ingests.")]
           = False,
           workspace: WorkspaceOpt = None,
           format: Annotated[str, typer.Option(
               "--format", "-f", help="text or json.")] = "text",
           progress: Annotated[bool, typer.Option(
               "--progress", help="Report progress as plain lines on standard error, "
                                  "also when it is not a terminal (logs, CI). Default: a "
                                  "progress bar for big inputs in a terminal.")]
           = False) -> None:
    """Add event files (and an accounts table) to the workspace: all or nothing.

    An error, Ctrl-C or a killed process leaves the workspace as it was. Rows already in
    the workspace are not added again (the same event_id; without one, the same content),
    so overlapping exports can be ingested as they come. Rows that cannot be used (no
    account, a time that cannot be read, an unknown kind, a case event without a case)
    are kept in quarantine: see `valueclock check`.
    """
    if format not in ("text", "json"):
        raise UsageError(f"unknown format {format!r} for ingest (use text or json)")
    folder = _workspace_folder(workspace)
    columns = parse_column_map(map)
    kinds = parse_kind_map(kind_map)
    bar = _Bar(lines=progress)
    with Workspace.open(folder) as ws:
        try:
            result = ws.ingest(files or [], accounts=accounts, columns=columns, kinds=kinds,
                               time_format=time_format, timezone=timezone, save=save,
                               progress=bar)
        except KeyboardInterrupt:
            bar.stop()
            err.print("valueclock: interrupted: nothing was ingested (the workspace is as "
                      "it was)", highlight=False)
            raise typer.Exit(130) from None
        finally:
            bar.stop()
    if format == "json":
        sys.stdout.write(json.dumps(result.as_dict()) + "\n")
    else:
        typer.echo(_ingest_text(result, folder))


def sources(workspace: WorkspaceOpt = None,
            format: Annotated[str, typer.Option(
                "--format", "-f", help="table or json.")] = "table") -> None:
    """List the ingests of the workspace: id, time (UTC), files, rows read, events added,
    already present, quarantined, and the events each still holds. The table names the
    files; `--format json` has their full paths and the options each ingest used."""
    if format not in ("table", "json"):
        raise UsageError(f"unknown format {format!r} for sources (use table or json)")
    folder = _workspace_folder(workspace)
    with Workspace.open(folder, read_only=True) as ws:
        rows = ws.sources()
    if format == "json":
        for r in rows:
            r["ingested_at"] = r["ingested_at"].isoformat() + "Z"
        sys.stdout.write(json.dumps(rows) + "\n")
        return
    if not rows:
        typer.echo("No ingests yet: valueclock ingest FILES...")
        return
    table = Table(title=f"Ingests of {folder}", title_justify="left")
    for name, justify in (("id", "right"), ("ingested (UTC)", "left"), ("files", "left"),
                          ("rows", "right"), ("added", "right"), ("present", "right"),
                          ("quarantined", "right"), ("events now", "right")):
        table.add_column(name, justify=justify,  # type: ignore[arg-type]
                         overflow="fold", ratio=4 if name == "files" else None,
                         no_wrap=name not in ("files", "ingested (UTC)"))
    for r in rows:
        rows_read = r["rows_read"] + r["accounts_read"]
        added = f"{r['added']:,}" + (f" (+{r['accounts_added']:,} acc.)"
                                     if r["accounts_read"] else "")
        table.add_row(str(r["ingest_id"]), f"{r['ingested_at']:%Y-%m-%d %H:%M:%S}",
                      "\n".join(Path(f).name for f in r["files"]), f"{rows_read:,}", added,
                      f"{r['already_present']:,}", f"{r['quarantined']:,}",
                      f"{r['events']:,}")
    Console(width=max(Console().width, 120)).print(table)


def forget(ingest_id: Annotated[str, typer.Argument(
               metavar="INGEST", help="The ingest's id, as `valueclock sources` lists it.")],
           workspace: WorkspaceOpt = None) -> None:
    """Remove what one ingest added: its events, quarantined rows and account rows.

    Each event is stored once, under the first ingest that brought it: an event that a
    later ingest also had goes with the first; ingest that later file again to bring it
    back.
    """
    folder = _workspace_folder(workspace)
    with Workspace.open(folder) as ws:
        removed = ws.forget(ingest_id)
    typer.echo(f"Forgot ingest {ingest_id.lstrip('#')}: removed "
               f"{_plural(removed['events'], 'event')}, "
               f"{_plural(removed['quarantine'], 'quarantined row')} and "
               f"{_plural(removed['accounts'], 'account row')}.")


def register(app: typer.Typer) -> None:
    """Add ``init``, ``ingest``, ``sources`` and ``forget`` to ``app``."""
    app.command("init")(init)
    app.command("ingest")(ingest)
    app.command("sources")(sources)
    app.command("forget")(forget)
