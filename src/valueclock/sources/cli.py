"""``valueclock import ...``: status logs and exports in, canonical events out.

Mounted by the main command line as ``app.add_typer(sources_app, name="import")``.
Errors are raised as :class:`~valueclock.errors.ValueclockError` (``InputError`` for a
file or column, ``UsageError`` for an option); the main command line prints them as one
line and exits with status 2.
"""

from __future__ import annotations

import time as _time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import click
import pyarrow as pa
import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from valueclock.errors import UsageError
from valueclock.sources.deliver import deliver
from valueclock.sources.files import read_table
from valueclock.sources.helpdesk import HELPDESK_SMILES, helpdesk_to_events
from valueclock.sources.ocel import ocel_to_events
from valueclock.sources.servicenow import SERVICENOW_SMILES, servicenow_to_events
from valueclock.sources.status_log import ConversionResult, status_log_to_events
from valueclock.sources.xes import xes_to_events

__all__ = ["app"]

app = typer.Typer(
    help="Turn where the data lives into canonical events: help desks and trackers (status "
         "logs, ServiceNow, Helpdesk, XES, OCEL, Zendesk, Jira) into interruption, handoff, "
         "smile, reopen; CRMs (Salesforce, HubSpot) into sale; analytics (Segment, Mixpanel, "
         "PostHog, GA4) into value. See docs/sources.md.",
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
Workspace = Annotated[Path | None, typer.Option(
    "--workspace", "-w", help="Workspace folder to add the events to (instead of --out).",
    file_okay=False)]


def _need_out(out: Path | None, workspace: Path | None = None) -> Path | None:
    if (out is None) == (workspace is None):
        raise UsageError("say where the events go: --out EVENTS.csv (or .parquet), or "
                         "-w WORKSPACE (one of them)")
    return out


def _need_smile(smile: list[str] | None) -> list[str]:
    if not smile:
        raise UsageError("give at least one --smile STATUS (a status in which the customer "
                         "is happy again, e.g. --smile Resolved)")
    return smile


def _finish(result: ConversionResult, out: Path | None, started: float,
            workspace: Path | None = None, *, events: pa.Table | None = None,
            unit: str = "cases", notes: Sequence[str] = ()) -> None:
    """Write the events (``events``, else the result's) and print what was done."""
    ctx = click.get_current_context(silent=True)
    done = deliver(result.events if events is None else events, out=out,
                   workspace=workspace, name=ctx.info_name if ctx else "import")
    console = Console()
    seconds = _time.perf_counter() - started
    kinds = ", ".join(f"{k} {v:,}" for k, v in result.kind_counts().items()) or "none"
    count = f"[bold]{result.cases:,}[/] {unit} from " if unit == "cases" else ""
    console.print(f"{count}{result.rows:,} rows: "
                  f"{result.events.num_rows:,} events ({kinds}) in {seconds:.1f} s")
    for note in notes:
        console.print(note)
    if "written" in done:
        console.print(f"Wrote {done['written']}")
    else:
        console.print(f"Workspace {done['workspace']}: {done['added'] or 0:,} events added, "
                      f"{done['already_present'] or 0:,} already there")
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
    workspace: Workspace = None,
    source: Source = None,
    team_pattern: TeamPattern = None,
    team_unmatched: TeamUnmatched = None,
    keep: Keep = None,
) -> None:
    """Any status log (CSV, Parquet, JSON lines): one row per change of a case."""
    started = _time.perf_counter()
    out, smile = _need_out(out, workspace), _need_smile(smile)
    keep = keep or []
    columns = [c for c in (case, time, status, team, account, start) if c] + keep
    table = read_table(file, columns)
    result = status_log_to_events(
        table, case=case, time=time, status=status, smile=smile, team=team,
        account=account, start=start, time_format=time_format, timezone=timezone,
        null_tokens=null or (), source=source or "status-log", team_pattern=team_pattern,
        team_unmatched=team_unmatched, attributes=keep)
    _finish(result, out, started, workspace)


@app.command("servicenow")
def servicenow(
    file: InputFile,
    out: Out = None,
    workspace: Workspace = None,
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
    out = _need_out(out, workspace)
    result = servicenow_to_events(
        file, smile=smile or SERVICENOW_SMILES, team=team or None, account=account or None,
        time_format=time_format, timezone=timezone, source=source or "servicenow",
        team_pattern=team_pattern, team_unmatched=team_unmatched, attributes=keep or ())
    _finish(result, out, started, workspace)


@app.command("helpdesk")
def helpdesk(
    file: InputFile,
    out: Out = None,
    workspace: Workspace = None,
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
    out = _need_out(out, workspace)
    result = helpdesk_to_events(
        file, smile=smile or HELPDESK_SMILES, team=team or None, account=account or None,
        timezone=timezone, source=source or "helpdesk", team_pattern=team_pattern,
        team_unmatched=team_unmatched, attributes=keep or ())
    _finish(result, out, started, workspace)


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
    workspace: Workspace = None,
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
    out, smile = _need_out(out, workspace), _need_smile(smile)
    bar, update = _progress_bar(Console(stderr=True))
    with bar:
        result = xes_to_events(
            file, smile=smile, status=status, team=team or None, account=account or None,
            case=case, time=time, timezone=timezone, source=source or "xes",
            team_pattern=team_pattern, team_unmatched=team_unmatched,
            attributes=keep or (), progress=update)
    _finish(result, out, started, workspace)


@app.command("ocel")
def ocel(
    file: InputFile,
    case_type: Annotated[str, typer.Option(
        "--case-type", help="Object type whose objects are the cases (e.g. ticket).")],
    out: Out = None,
    workspace: Workspace = None,
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
    out, smile = _need_out(out, workspace), _need_smile(smile)
    result = ocel_to_events(
        file, case_type=case_type, smile=smile, status=status, team=team,
        team_type=team_type, account=account, account_type=account_type, timezone=timezone,
        source=source or "ocel", team_pattern=team_pattern, team_unmatched=team_unmatched)
    _finish(result, out, started, workspace)


# --- API connectors -------------------------------------------------------------------

Files = Annotated[list[Path] | None, typer.Argument(
    help="Export files (JSON or JSON lines). Without them, the API is pulled.",
    dir_okay=False)]
Url = Annotated[str | None, typer.Option(
    "--url", help="Base URL of the API; valueclock calls no other host.")]


def _say(message: str) -> None:
    Console(stderr=True).print(f"[dim]{message}[/]")


@app.command("zendesk")
def zendesk(
    files: Files = None,
    subdomain: Annotated[str | None, typer.Option(
        "--subdomain", help="Your Zendesk subdomain: NAME for https://NAME.zendesk.com.")
    ] = None,
    url: Url = None,
    out: Out = None,
    workspace: Workspace = None,
    smile: Annotated[list[str] | None, typer.Option(
        "--smile", help="A status in which the customer is happy again (default: solved, "
                        "closed).")] = None,
    account_key: Annotated[str, typer.Option(
        "--account-key", help="What of the organisation is the account: name, id or "
                              "external_id.")] = "name",
    since: Annotated[str | None, typer.Option(
        "--since", help="First pull: tickets changed since this moment (ISO 8601; "
                        "default: all).")] = None,
    full: Annotated[bool, typer.Option(
        "--full", help="Ignore the saved cursor and pull everything since --since.")
    ] = False,
    source: Source = None,
) -> None:
    """Zendesk tickets and their audits: from the API (incremental) or export files.

    API credentials come from the environment: ZENDESK_EMAIL and ZENDESK_API_TOKEN (or
    ZENDESK_OAUTH_TOKEN). The cursor is saved beside --out (or in the workspace), so the
    next run pulls only the tickets changed since.
    """
    import os

    from valueclock.events import parse_instant
    from valueclock.sources import deliver as d
    from valueclock.sources import zendesk as z

    started = _time.perf_counter()
    _need_out(out, workspace)
    source = source or "zendesk"
    if files:
        if subdomain or url:
            raise UsageError("give export files or --subdomain/--url, not both")
        result = z.zendesk_to_events(z.read_zendesk(files), smile=smile or z.ZENDESK_SMILES,
                                     account_key=account_key, source=source)
        _finish(result, out, started, workspace, unit="cases")
        return
    client = z.zendesk_client(subdomain=subdomain, url=url, environ=os.environ)
    key = subdomain or client.base_url
    state_file = d.state_path("zendesk", key, out=out, workspace=workspace)
    state = {} if full else d.load_state(state_file)
    notes: list[str] = []
    if state and out is not None and not Path(out).exists():
        notes.append(f"{out} is gone: pulling everything again (the saved cursor is "
                     "for it)")
        state = {}
    start = 0
    if since:
        start = int(parse_instant(since).replace(tzinfo=UTC).timestamp())
    with client:
        try:
            data = z.fetch_zendesk(client, start_time=start, cursor=state.get("cursor"),
                                   progress=_say)
        except z.ExpiredCursor:
            restart = max(int(state.get("latest_epoch", start)) - 60, 0)
            notes.append("The saved cursor had expired: pulled the tickets changed since "
                         f"{datetime.fromtimestamp(restart, UTC).isoformat()} instead.")
            data = z.fetch_zendesk(client, start_time=restart, progress=_say)
    result = z.zendesk_to_events(data, smile=smile or z.ZENDESK_SMILES,
                                 account_key=account_key, source=source)
    events = result.events
    if state and out is not None:
        events = d.merge_events(Path(out), events, data.tickets)
        notes.append(f"Incremental pull: {len(data.tickets):,} tickets changed since the "
                     f"last pull; {events.num_rows:,} events in {out} now.")
    _finish(result, out, started, workspace, events=events, notes=notes)
    latest = data.latest or (datetime.fromtimestamp(int(state["latest_epoch"]), UTC)
                             if state.get("latest_epoch") else None)
    d.save_state(state_file, {
        "source": "zendesk", "base_url": client.base_url,
        "cursor": data.cursor or state.get("cursor"),
        "latest_epoch": int(latest.timestamp()) if latest else start,
        "latest": latest.isoformat() if latest else None})


def _pairs(path: Path, firsts: Sequence[str], second: str) -> list[tuple[str, str]]:
    """(first, second) text pairs from a two-column table; the first column is the first
    of ``firsts`` the file has."""
    from valueclock.errors import InputError

    for i, first in enumerate(firsts):
        try:
            table = read_table(path, [first, second])
        except InputError as exc:
            if exc.column == first and i < len(firsts) - 1:
                continue
            raise
        a = table.column(first).cast(pa.string()).to_pylist()
        b = table.column(second).cast(pa.string()).to_pylist()
        return [(str(x).strip(), str(y).strip()) for x, y in zip(a, b, strict=True)
                if x and y and str(x).strip() and str(y).strip()]
    return []


@app.command("jira")
def jira(
    files: Files = None,
    url: Annotated[str | None, typer.Option(
        "--url", help="Your Jira site, e.g. https://acme.atlassian.net (the only host "
                      "called).")] = None,
    jql: Annotated[str | None, typer.Option(
        "--jql", help="Which issues, e.g. 'project = ENG AND updated >= -90d'.")] = None,
    team_field: Annotated[str | None, typer.Option(
        "--team-field", help="Field holding the team: a custom field id or name, "
                             "'components' or 'assignee' (default: components, or assignee "
                             "with --team-map).")] = None,
    team_map: Annotated[Path | None, typer.Option(
        "--team-map", help="CSV with columns assignee (or value) and team: maps assignees "
                           "(account id, name or email) or field values to teams.",
        dir_okay=False)] = None,
    account_field: Annotated[str | None, typer.Option(
        "--account-field", help="Field holding the account (issues as cases).")] = None,
    smile: Annotated[list[str] | None, typer.Option(
        "--smile", help="Status in which the case is done (default: Done, Resolved, "
                        "Closed).")] = None,
    cases: Annotated[Path | None, typer.Option(
        "--cases", help="The help desk's events file: put linked issues' engineering time "
                        "inside these cases.", dir_okay=False)] = None,
    case_field: Annotated[str | None, typer.Option(
        "--case-field", help="Issue field naming the linked case ids (e.g. the Zendesk "
                             "Ticket IDs custom field).")] = None,
    links: Annotated[Path | None, typer.Option(
        "--links", help="Table of links: columns case_id and issue_key (see --link-case, "
                        "--link-key).", dir_okay=False)] = None,
    link_case: Annotated[str, typer.Option("--link-case", help="Case column of --links.")
                         ] = "case_id",
    link_key: Annotated[str, typer.Option("--link-key", help="Issue key column of --links.")
                        ] = "issue_key",
    in_progress: Annotated[list[str] | None, typer.Option(
        "--in-progress", help="Status in which a linked issue holds the case's clock "
                              "(default: In Progress; repeat).")] = None,
    out: Out = None,
    workspace: Workspace = None,
    source: Source = None,
) -> None:
    """Jira issues with their changelogs: as cases, or inside linked help-desk cases.

    API credentials come from the environment: JIRA_EMAIL and JIRA_API_TOKEN (Cloud) or
    JIRA_TOKEN (Data Center). With --cases and --case-field or --links, a linked issue's
    team holds the case's clock while the issue is in progress.
    """
    import os

    from valueclock.events import read_events
    from valueclock.sources import jira as j

    started = _time.perf_counter()
    _need_out(out, workspace)
    mapping = dict(_pairs(team_map, ["assignee", "value", "component"], "team")) \
        if team_map else None
    fields = [f for f in (team_field or ("assignee" if mapping else "components"),
                          account_field, case_field) if f]
    if files:
        if url or jql:
            raise UsageError("give export files or --url/--jql, not both")
        issues = j.read_jira(files)
    else:
        if not jql:
            raise UsageError("give --jql to say which issues to pull (or export files)")
        with j.jira_client(url, environ=os.environ) as client:
            issues = j.fetch_jira(client, jql, fields=fields, progress=_say)
    if cases is None:
        if case_field or links:
            raise UsageError("linking needs the help desk's events: --cases EVENTS.csv")
        result = j.jira_to_events(issues, smile=smile or j.JIRA_SMILES, team_field=team_field,
                                  team_map=mapping, account_field=account_field,
                                  source=source or "jira")
        _finish(result, out, started, workspace)
        return
    if not (case_field or links):
        raise UsageError("say how issues link to cases: --case-field FIELD or --links FILE")
    linked = j.jira_links(issues, case_field=case_field,
                          pairs=_pairs(links, [link_case], link_key) if links else ())
    result = j.link_jira_to_cases(issues, linked, read_events(cases),
                                  in_progress=in_progress or j.JIRA_IN_PROGRESS,
                                  team_field=team_field, team_map=mapping,
                                  source=source or "jira")
    _finish(result, out, started, workspace, unit="links",
            notes=[f"{len(linked):,} linked issues, {result.cases:,} cases touched."])


Won = Annotated[list[str] | None, typer.Option(
    "--won", help="A stage that means won (repeat). Default: Closed Won (Salesforce), "
                  "closedwon (HubSpot).")]
SaleTeam = Annotated[str | None, typer.Option(
    "--team", help="Team named on the sale events (e.g. Sales).")]


@app.command("salesforce")
def salesforce(
    files: Files = None,
    url: Annotated[str | None, typer.Option(
        "--url", help="Your instance, e.g. https://acme.my.salesforce.com (the only host "
                      "called).")] = None,
    won: Won = None,
    account_key: Annotated[str, typer.Option(
        "--account-key", help="The account: its id (AccountId) or name.")] = "id",
    where: Annotated[str | None, typer.Option(
        "--where", help="SOQL condition on OpportunityHistory, e.g. "
                        "\"CreatedDate = LAST_N_DAYS:365\".")] = None,
    opportunity_col: Annotated[str, typer.Option("--opportunity-col")] = "OpportunityId",
    stage_col: Annotated[str, typer.Option(
        "--stage-col", help="Stage column of a file (NewValue for field history).")
    ] = "StageName",
    time_col: Annotated[str, typer.Option("--time-col")] = "CreatedDate",
    account_col: Annotated[str, typer.Option("--account-col")] = "AccountId",
    name_col: Annotated[str | None, typer.Option("--name-col")] = None,
    field_col: Annotated[str | None, typer.Option(
        "--field-col", help="Field column of an OpportunityFieldHistory export (Field): only "
                            "StageName rows count.")] = None,
    team: SaleTeam = None,
    out: Out = None,
    workspace: Workspace = None,
    source: Source = None,
) -> None:
    """Salesforce opportunities: won at the stage change to Closed Won, from the history.

    API: the access token comes from SALESFORCE_ACCESS_TOKEN. Files: an export of
    OpportunityHistory (or OpportunityFieldHistory with --stage-col NewValue --field-col
    Field) as CSV, Parquet or JSON lines, or saved query responses.
    """
    import os

    from valueclock.sources import crm

    started = _time.perf_counter()
    _need_out(out, workspace)
    if account_key not in ("id", "name"):
        raise UsageError("--account-key must be id or name")
    if files:
        if url:
            raise UsageError("give export files or --url, not both")
        changes, rows = [], 0
        for file in files:
            found, n = crm.read_salesforce(file, opportunity=opportunity_col,
                                           stage=stage_col, time=time_col,
                                           account=account_col, name=name_col,
                                           field=field_col)
            changes += found
            rows += n
    else:
        with crm.salesforce_client(url, environ=os.environ) as client:
            changes = crm.fetch_salesforce(client, account_key=account_key, where=where,
                                           progress=_say)
        rows = len(changes)
    result = crm.sales_from_history(changes, won=won or crm.SALESFORCE_WON,
                                    source=source or "salesforce", team=team, rows=rows)
    _finish(result, out, started, workspace, unit="rows")


@app.command("hubspot")
def hubspot(
    files: Files = None,
    url: Annotated[str, typer.Option(
        "--url", help="HubSpot's API (the only host called).")] = "https://api.hubapi.com",
    won: Won = None,
    team: SaleTeam = None,
    out: Out = None,
    workspace: Workspace = None,
    source: Source = None,
) -> None:
    """HubSpot deals: won when dealstage entered closedwon, from the property history.

    Without files, the deals are pulled with HUBSPOT_TOKEN (a private app token) from the
    environment. The account is the deal's associated company id.
    """
    import os

    from valueclock.sources import crm

    started = _time.perf_counter()
    _need_out(out, workspace)
    if files:
        deals = crm.read_hubspot(files)
    else:
        with crm.hubspot_client(url, environ=os.environ) as client:
            deals = crm.fetch_hubspot(client, progress=_say)
    result = crm.hubspot_to_events(deals, won=won or crm.HUBSPOT_WON,
                                   source=source or "hubspot", team=team)
    _finish(result, out, started, workspace, unit="rows")


@app.command("analytics")
def analytics(
    files: Annotated[list[Path], typer.Argument(
        help="Export files: JSON lines or a JSON array (.gz too).", dir_okay=False)],
    fmt: Annotated[str, typer.Option(
        "--format", "-f", help="segment, mixpanel, posthog or ga4 (BigQuery export rows).")],
    event: Annotated[list[str] | None, typer.Option(
        "--event", help="A milestone event name that is value, e.g. 'Report Created' "
                        "(repeat).")] = None,
    page: Annotated[list[str] | None, typer.Option(
        "--page", help="A content page that is value: a path or URL pattern, e.g. "
                       "'/guides/*' (repeat).")] = None,
    users: Annotated[Path | None, typer.Option(
        "--users", help="User-to-account map: a CSV with the user and account columns.",
        dir_okay=False)] = None,
    user_col: Annotated[str, typer.Option("--user-col", help="User column of --users.")
                        ] = "user_id",
    account_col: Annotated[str, typer.Option(
        "--account-col", help="Account column of --users.")] = "account_id",
    team: Annotated[str | None, typer.Option(
        "--team", help="Team named on milestone events (e.g. Product).")] = None,
    page_team: Annotated[str | None, typer.Option(
        "--page-team", help="Team named on content page events (e.g. Marketing).")] = None,
    out: Out = None,
    workspace: Workspace = None,
    source: Source = None,
) -> None:
    """Segment, Mixpanel, PostHog or GA4 events: the milestones and pages you list are value.

    People are joined to accounts by --users (and, for Segment, its group calls).
    """
    from valueclock.sources.analytics import analytics_to_events

    started = _time.perf_counter()
    _need_out(out, workspace)
    mapping = dict(_pairs(users, [user_col], account_col)) if users else None
    result = analytics_to_events(files, fmt=fmt.strip().lower(), milestones=event or (),
                                 pages=page or (), users=mapping, team=team,
                                 page_team=page_team, source=source)
    _finish(result, out, started, workspace, unit="rows")
