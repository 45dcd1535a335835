"""``valueclock import ...``: status logs and exports in, canonical events out.

Mounted by the main command line as ``app.add_typer(sources_app, name="import")``.
Errors are raised as :class:`~valueclock.errors.ValueclockError` (``InputError`` for a
file or column, ``UsageError`` for an option); the main command line prints them as one
line and exits with status 2.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from valueclock.errors import UsageError
from valueclock.sources.files import read_table, write_events
from valueclock.sources.helpdesk import HELPDESK_SMILES, helpdesk_to_events
from valueclock.sources.ocel import ocel_to_events
from valueclock.sources.servicenow import SERVICENOW_SMILES, servicenow_to_events
from valueclock.sources.status_log import ConversionResult, status_log_to_events
from valueclock.sources.xes import xes_to_events

__all__ = ["app"]

app = typer.Typer(
    help="Turn a status log or an export (ServiceNow, Helpdesk, XES, OCEL) into canonical "
         "events: interruption, handoff, smile, reopen.",
    no_args_is_help=True,
)

# Options shared by the commands.
Out = Annotated[Path | None, typer.Option(
    "--out", "-o", help="Events file to write: .csv (ISO 8601 UTC times) or .parquet.",
    dir_okay=False)]
Smile = Annotated[list[str] | None, typer.Option(
    "--smile", help="A status in which the customer is happy again (repeat for several).")]
Timezone = Annotated[str, typer.Option(
    "--timezone", help="Time zone of times written without an offset (IANA name).")]
TimeFormat = Annotated[str | None, typer.Option(
    "--time-format", help="strptime-style format of the times, e.g. '%d/%m/%Y %H:%M' "
                          "(default: ISO 8601).")]
Source = Annotated[str | None, typer.Option(
    "--source", help="Name of the source, part of every event id (keep it the same when "
                     "re-importing).")]
TeamPattern = Annotated[str | None, typer.Option(
    "--team-pattern", help="Regular expression: its first group (or match) becomes the team, "
                           "e.g. '(2nd|3rd)$' for BPI 2013 support lines.")]
TeamUnmatched = Annotated[str | None, typer.Option(
    "--team-unmatched", help="Team for the teams --team-pattern does not match (default: "
                             "kept as they are).")]
Keep = Annotated[list[str] | None, typer.Option(
    "--keep", help="A further column copied onto the events as an attribute (repeat).")]
Team = Annotated[str | None, typer.Option("--team", help="Column holding the team (group).")]
Account = Annotated[str | None, typer.Option(
    "--account", help="Column holding the account (customer, organisation).")]
InputFile = Annotated[Path, typer.Argument(help="The file to import.", dir_okay=False)]


def _need_out(out: Path | None) -> Path:
    if out is None:
        raise UsageError("say where the events go: --out EVENTS.csv (or .parquet); "
                         "writing into a workspace (-w) is not available yet")
    return out


def _need_smile(smile: list[str] | None) -> list[str]:
    if not smile:
        raise UsageError("give at least one --smile STATUS (a status in which the customer "
                         "is happy again, e.g. --smile Resolved)")
    return smile


def _finish(result: ConversionResult, out: Path, started: float) -> None:
    """Write the events and print what was done."""
    write_events(result.events, out)
    console = Console()
    seconds = _time.perf_counter() - started
    kinds = ", ".join(f"{k} {v:,}" for k, v in result.kind_counts().items()) or "none"
    console.print(f"[bold]{result.cases:,}[/] cases from {result.rows:,} rows: "
                  f"{result.events.num_rows:,} events ({kinds}) in {seconds:.1f} s")
    console.print(f"Wrote {out}")
    if result.problems:
        table = Table(title="Problems (nothing was dropped without being counted here)",
                      title_justify="left", show_lines=False)
        table.add_column("problem")
        table.add_column("count", justify="right")
        table.add_column("examples")
        for p in result.problems:
            table.add_row(p["problem"], f"{p['count']:,}", "; ".join(p["examples"][:3]))
        console.print(table)
    else:
        console.print("No problems found.")


@app.command("status-log")
def status_log(
    file: InputFile,
    case: Annotated[str, typer.Option("--case", help="Column holding the case id.")],
    time: Annotated[str, typer.Option("--time", help="Column holding the time of the row.")],
    status: Annotated[str, typer.Option("--status", help="Column holding the status.")],
    smile: Smile = None,
    team: Team = None,
    account: Account = None,
    start: Annotated[str | None, typer.Option(
        "--start", help="Column holding the case's start time (default: its first row's "
                        "time).")] = None,
    time_format: TimeFormat = None,
    timezone: Timezone = "UTC",
    null: Annotated[list[str] | None, typer.Option(
        "--null", help="Text that means empty, e.g. '?' or 'NULL' (repeat).")] = None,
    out: Out = None,
    source: Source = None,
    team_pattern: TeamPattern = None,
    team_unmatched: TeamUnmatched = None,
    keep: Keep = None,
) -> None:
    """Any status log (CSV, Parquet, JSON lines): one row per change of a case."""
    started = _time.perf_counter()
    out, smile = _need_out(out), _need_smile(smile)
    keep = keep or []
    columns = [c for c in (case, time, status, team, account, start) if c] + keep
    table = read_table(file, columns)
    result = status_log_to_events(
        table, case=case, time=time, status=status, smile=smile, team=team,
        account=account, start=start, time_format=time_format, timezone=timezone,
        null_tokens=null or (), source=source or "status-log", team_pattern=team_pattern,
        team_unmatched=team_unmatched, attributes=keep)
    _finish(result, out, started)


@app.command("servicenow")
def servicenow(
    file: InputFile,
    out: Out = None,
    smile: Smile = None,
    team: Team = "assignment_group",
    account: Account = "caller_id",
    time_format: TimeFormat = "%d/%m/%Y %H:%M",
    timezone: Timezone = "UTC",
    source: Source = None,
    team_pattern: TeamPattern = None,
    team_unmatched: TeamUnmatched = None,
    keep: Keep = None,
) -> None:
    """A ServiceNow incident export (CSV, or a zip with one CSV), e.g. the UCI incident log.

    The incident number is the case, opened_at its start, incident_state the status
    (Resolved and Closed are smiles), assignment_group the team, caller_id the account.
    """
    started = _time.perf_counter()
    out = _need_out(out)
    result = servicenow_to_events(
        file, smile=smile or SERVICENOW_SMILES, team=team or None, account=account or None,
        time_format=time_format, timezone=timezone, source=source or "servicenow",
        team_pattern=team_pattern, team_unmatched=team_unmatched, attributes=keep or ())
    _finish(result, out, started)


@app.command("helpdesk")
def helpdesk(
    file: InputFile,
    out: Out = None,
    smile: Smile = None,
    team: Team = "workgroup",
    account: Account = "customer",
    timezone: Timezone = "UTC",
    source: Source = None,
    team_pattern: TeamPattern = None,
    team_unmatched: TeamUnmatched = None,
    keep: Keep = None,
) -> None:
    """A Helpdesk-shaped ticket log (Case ID, Activity, Complete Timestamp, customer, ...).

    Smiles are 'Resolve ticket' and 'Closed'; the linked bug tracker's statuses
    (RESOLVED, VERIFIED, INVALID, DUPLICATE) do not change the ticket's status.
    """
    started = _time.perf_counter()
    out = _need_out(out)
    result = helpdesk_to_events(
        file, smile=smile or HELPDESK_SMILES, team=team or None, account=account or None,
        timezone=timezone, source=source or "helpdesk", team_pattern=team_pattern,
        team_unmatched=team_unmatched, attributes=keep or ())
    _finish(result, out, started)


def _progress_bar(console: Console) -> tuple[Progress, Callable[[int, int], None]]:
    bar = Progress(TextColumn("Reading XES"), BarColumn(), DownloadColumn(),
                   TimeRemainingColumn(), console=console, transient=True)
    task = bar.add_task("read", total=None)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return bar, update


@app.command("xes")
def xes(
    file: InputFile,
    out: Out = None,
    smile: Smile = None,
    status: Annotated[str, typer.Option(
        "--status", help="Event attribute holding the status (BPI 2013: "
                         "lifecycle:transition).")] = "concept:name",
    team: Annotated[str | None, typer.Option(
        "--team", help="Event attribute holding the team.")] = "org:group",
    account: Annotated[str | None, typer.Option(
        "--account", help="Event (or else trace) attribute holding the account.")] = None,
    case: Annotated[str, typer.Option(
        "--case", help="Trace attribute naming the case.")] = "concept:name",
    time: Annotated[str, typer.Option(
        "--time", help="Event attribute holding the time.")] = "time:timestamp",
    timezone: Timezone = "UTC",
    source: Source = None,
    team_pattern: TeamPattern = None,
    team_unmatched: TeamUnmatched = None,
    keep: Keep = None,
) -> None:
    """An XES event log (.xes or .xes.gz), streamed: a trace is a case, an event a row.

    For the BPI Challenge 2013 incidents: --status lifecycle:transition --smile Resolved
    --smile Closed; add --team-pattern '(2nd|3rd)$' --team-unmatched 1st for support lines.
    """
    started = _time.perf_counter()
    out, smile = _need_out(out), _need_smile(smile)
    bar, update = _progress_bar(Console(stderr=True))
    with bar:
        result = xes_to_events(
            file, smile=smile, status=status, team=team or None, account=account or None,
            case=case, time=time, timezone=timezone, source=source or "xes",
            team_pattern=team_pattern, team_unmatched=team_unmatched,
            attributes=keep or (), progress=update)
    _finish(result, out, started)


@app.command("ocel")
def ocel(
    file: InputFile,
    case_type: Annotated[str, typer.Option(
        "--case-type", help="Object type whose objects are the cases (e.g. ticket).")],
    out: Out = None,
    smile: Smile = None,
    status: Annotated[str | None, typer.Option(
        "--status", help="Event attribute holding the status (default: the event type).")
    ] = None,
    team: Annotated[str | None, typer.Option(
        "--team", help="Event attribute holding the team.")] = None,
    team_type: Annotated[str | None, typer.Option(
        "--team-type", help="Object type whose related object is the team (e.g. group).")
    ] = None,
    account: Annotated[str | None, typer.Option(
        "--account", help="Attribute of the case object holding the account.")] = None,
    account_type: Annotated[str | None, typer.Option(
        "--account-type", help="Object type whose related object is the account "
                               "(e.g. customer).")] = None,
    timezone: Timezone = "UTC",
    source: Source = None,
    team_pattern: TeamPattern = None,
    team_unmatched: TeamUnmatched = None,
) -> None:
    """An OCEL 2.0 JSON log: objects of --case-type are the cases."""
    started = _time.perf_counter()
    out, smile = _need_out(out), _need_smile(smile)
    result = ocel_to_events(
        file, case_type=case_type, smile=smile, status=status, team=team,
        team_type=team_type, account=account, account_type=account_type, timezone=timezone,
        source=source or "ocel", team_pattern=team_pattern, team_unmatched=team_unmatched)
    _finish(result, out, started)
