"""The ``valueclock`` command line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from valueclock import __version__
from valueclock.api import measure
from valueclock.calendar import Calendar
from valueclock.engine import Measurement, iso
from valueclock.errors import UsageError, ValueclockError
from valueclock.options import AccountsTableOpt, EngineOpt, IntoOpt, TableOpt
from valueclock.output import FORMATS, dumps, err, write_table
from valueclock.output import working as _working
from valueclock.render import render_problems, render_report
from valueclock.web.command import register as _register_serve
from valueclock.workspace_cli import WorkspaceOpt, command_params, measure_workspace
from valueclock.workspace_cli import register as _register_workspace_commands

app = typer.Typer(
    name="valueclock",
    help=(
        "Measure Time to Customer Value (Klever's Law) from the event logs you already "
        "have.\n\n"
        "Time to Customer Value = Time to Value before sale (days, negative) + Time to "
        "Value after sale (days) + Time to Smile (hours from an interruption until the "
        "customer is happy again). Zero or negative is excellent.\n\n"
        "EVENTS are canonical event logs (CSV with a header, Parquet, or JSON lines) with "
        "columns account_id, timestamp, kind, and optionally case_id, team, label, "
        "event_id. Try `valueclock demo` first."
    ),
    no_args_is_help=True,
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


Events = Annotated[list[Path] | None, typer.Argument(
    metavar="[EVENTS]...",
    help="Event log files: CSV (header row), Parquet, or JSON lines. Several files are "
         "read as one log. Without them, the workspace is read (-w PATH, or the current "
         "folder's).", show_default=False)]
AccountsOpt = Annotated[Path | None, typer.Option(
    "--accounts", help="Accounts table (account_id plus attributes such as segment, "
                       "region) to add to each account.")]
TimezoneOpt = Annotated[str, typer.Option(
    "--timezone", help="Time zone of timestamps written without an offset (IANA name).")]
AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", help="Moment the report is made for (ISO 8601; without an offset it is in "
                    "--timezone). Events after it are left out. Default: the latest "
                    "timestamp in the data.")]
LookbackOpt = Annotated[float | None, typer.Option(
    "--lookback-days", min=0, help="Only value events at most this many days before the "
                                   "sale count as value before the sale.")]
FormatOpt = Annotated[str, typer.Option(
    "--format", "-f", help=f"Output format: {', '.join(FORMATS)}.")]
OutOpt = Annotated[Path | None, typer.Option(
    "--out", "-o", help="Write to this file instead of standard output.")]
CalendarOpt = Annotated[Path | None, typer.Option(
    "--calendar", help="Business hours (TOML: timezone, holidays, [hours], [teams.NAME]; see "
                       "docs/calendar.md): Time to Smile, holds, elapsed and open hours are "
                       "counted in business hours. Default: calendar hours.")]
BinsOpt = Annotated[int, typer.Option(
    "--bins", min=1, help="About how many histogram bins each distribution has (use the "
                          "same number with --where-bin as with the report).")]


def _where_bin_opt(parts: str) -> object:
    return typer.Option(
        "--where-bin", metavar="PART:BIN",
        help=f"Only the rows inside one bin of the report's distributions ({parts}), such "
             "as ttv_after_days:3; bins are numbered from 0 in `report --format json`.")


def _measure(events: list[Path], accounts: Path | None, timezone: str, as_of: str | None,
             lookback_days: float | None, calendar: Path | None = None,
             scale: dict[str, float] | None = None) -> Measurement:
    cal = None if calendar is None else Calendar.load(calendar)
    on_engine = _measure_on_engine(events, accounts, timezone, as_of, lookback_days,
                                   calendar=cal, scale=scale)
    if on_engine is not None:
        return on_engine
    from_workspace = measure_workspace(events, accounts, timezone, as_of, lookback_days,
                                       calendar=cal, scale=scale)
    if from_workspace is not None:
        return from_workspace
    with _working(f"Reading {len(events)} file(s)..."):
        return measure(events, accounts=accounts, as_of=as_of, lookback_days=lookback_days,
                       timezone=timezone, cache=True, calendar=cal, scale=scale)


def _engine_options() -> dict[str, str | None]:
    params = command_params()
    return {k: params.get(k) for k in ("engine", "table", "accounts_table", "workspace")}


def _measure_on_engine(events: list[Path] | None, accounts: Path | None, timezone: str,
                       as_of: str | None, lookback_days: float | None,
                       **options) -> Measurement | None:
    """Measure on the engine of --engine (events of --table or EVENTS files), or None when
    none of --engine, --table, --accounts-table is given."""
    from valueclock.engines import open_tables

    opts = _engine_options()
    if not any(opts[k] for k in ("engine", "table", "accounts_table")):
        return None
    if opts["workspace"] is not None:
        raise UsageError("give a workspace (-w) or --engine/--table, not both")
    with _working("Reading the events into the engine..."):
        table, attrs = open_tables(opts["engine"], table=opts["table"], files=events,
                                   accounts=accounts,
                                   accounts_table_name=opts["accounts_table"],
                                   timezone=timezone)
    return measure(table, accounts=attrs, as_of=as_of, lookback_days=lookback_days,
                   timezone=timezone, cache=True, **options)


def _table_command(which: str, events, accounts, timezone, as_of, lookback_days, fmt, out,
                   where_bin: str | None = None, bins: int = 10,
                   calendar: Path | None = None, into: str | None = None):
    if into is not None and not _engine_options()["engine"]:
        raise UsageError("--into writes to a table of the engine: give --engine URL too "
                         "(duckdb:///FILE.db, postgres://..., spark://...)")
    m = _measure(events, accounts, timezone, as_of, lookback_days, calendar=calendar)
    if into is not None:
        import ibis

        from valueclock import engines

        expr = getattr(m, which) if where_bin is None else m.in_bin(
            *_bin_of(which, where_bin), bins)
        con = ibis.get_backend(expr)
        with _working(f"Writing {which} to {into}..."):
            rows = engines.write_table(con, expr, into)
        err.print(f"Wrote {rows:,} row{'' if rows == 1 else 's'} of {which} to table {into} "
                  f"({engines.engine_name(con)}).",
                  highlight=False)
        return
    title = f"{which} (as of {m.as_of:%Y-%m-%d %H:%M} UTC)"
    with _working(f"Measuring {which}..."):
        if where_bin is None:
            table = getattr(m, which).to_pyarrow()
        else:
            table, title = _in_bin(m, which, where_bin, bins, title)
    write_table(table, fmt, out, title=title)


def _bin_of(which: str, where_bin: str) -> tuple[str, int]:
    from valueclock.engine.distributions import DIST_PARTS, parse_bin

    part, index = parse_bin(where_bin)
    if DIST_PARTS[part].table != which:
        fits = [p for p, d in DIST_PARTS.items() if d.table == which]
        raise UsageError(f"{part} is a distribution of {DIST_PARTS[part].table}, not of "
                         f"{which}: use `valueclock {DIST_PARTS[part].table} --where-bin` "
                         f"(here: {', '.join(fits)})")
    return part, index


def _in_bin(m: Measurement, which: str, where_bin: str, bins: int, title: str):
    part, index = _bin_of(which, where_bin)
    table = m.in_bin(part, index, bins).to_pyarrow()
    edges = m.distributions(bins)[part]["bins"][index]
    return table, (f"{title}, {part} bin {index}: {edges['lo']:g} to {edges['hi']:g} "
                   f"({table.num_rows:,} rows)")


@app.command()
def accounts(events: Events = None, workspace: WorkspaceOpt = None,
             engine: EngineOpt = None, table: TableOpt = None,
             accounts_table: AccountsTableOpt = None,
             accounts: AccountsOpt = None, timezone: TimezoneOpt = "UTC",
             as_of: AsOfOpt = None, lookback_days: LookbackOpt = None,
             format: FormatOpt = "csv", out: OutOpt = None,
             where_bin: Annotated[str | None, _where_bin_opt(
                 "ttv_before_days, ttv_after_days or ttcv_days")] = None,
             bins: BinsOpt = 10, calendar: CalendarOpt = None,
             into: IntoOpt = None) -> None:
    """One row per sold account: its Time to Value before and after the sale, its cases,
    its Time to Smile and its own Time to Customer Value.

    Columns: account_id, sale_at, first_value_before_at, ttv_before_days,
    first_value_after_at, ttv_after_days, value_reached, waiting_days, cases, open_cases,
    smile_hours, ttcv_days, then the attributes of --accounts.
    """
    _table_command("accounts", events, accounts, timezone, as_of, lookback_days, format, out,
                   where_bin, bins, calendar=calendar, into=into)


@app.command()
def cases(events: Events = None, workspace: WorkspaceOpt = None,
          engine: EngineOpt = None, table: TableOpt = None,
          timezone: TimezoneOpt = "UTC", as_of: AsOfOpt = None,
          format: FormatOpt = "csv", out: OutOpt = None,
          where_bin: Annotated[str | None, _where_bin_opt("smile_hours")] = None,
          bins: BinsOpt = 10, calendar: CalendarOpt = None,
          into: IntoOpt = None) -> None:
    """One row per measured case (an interruption of the customer's use) and its clock.

    Columns: case_id, account_id, started_at, smiled_at, resolved, smile_hours,
    elapsed_hours, open_hours, reopens, handoffs, then the attributes of the case's
    interruption event (extra columns of the log, such as priority).
    """
    _table_command("cases", events, None, timezone, as_of, None, format, out, where_bin, bins,
                   calendar=calendar, into=into)


@app.command()
def holds(events: Events = None, workspace: WorkspaceOpt = None,
          engine: EngineOpt = None, table: TableOpt = None,
          timezone: TimezoneOpt = "UTC", as_of: AsOfOpt = None,
          format: FormatOpt = "csv", out: OutOpt = None,
          calendar: CalendarOpt = None, into: IntoOpt = None) -> None:
    """Who held each case's clock: one row per case and team, with the hours it held.

    Columns: case_id, account_id, team, hours. A case's hours add up to its smile_hours
    (open cases: to its open_hours).
    """
    _table_command("holds", events, None, timezone, as_of, None, format, out,
                   calendar=calendar, into=into)


@app.command()
def report(events: Events = None, workspace: WorkspaceOpt = None,
           engine: EngineOpt = None, table: TableOpt = None,
           accounts_table: AccountsTableOpt = None,
           accounts: AccountsOpt = None, timezone: TimezoneOpt = "UTC",
           as_of: AsOfOpt = None, lookback_days: LookbackOpt = None,
           calendar: CalendarOpt = None,
           stat: Annotated[str, typer.Option(
               "--stat", help="Statistic of each part: median, mean, or a percentile "
                              "such as p90.")] = "median",
           format: Annotated[str, typer.Option(
               "--format", "-f", help="text, json, or html (one self-contained page with "
                                      "charts; see docs/dashboard.md).")] = "text",
           out: OutOpt = None,
           target_days: Annotated[float, typer.Option(
               "--target-days", help="Target for each account's own Time to Customer Value "
                                     "(accounts_meeting_target: share of accounts at value "
                                     "with ttcv_days at or under it).")] = 0.0,
           by: Annotated[str | None, typer.Option(
               "--by", metavar="ATTR",
               help="Summary per value of an attribute: an account attribute of "
                    "--accounts (segment, region...) or a case attribute (priority...); "
                    "account:NAME or case:NAME when both have it.")] = None,
           every: Annotated[str | None, typer.Option(
               "--every", help="Summary per period: week, month or quarter (Time to Value "
                               "by sale cohort, Time to Smile by case start; UTC).")] = None,
           min_size: Annotated[int, typer.Option(
               "--min-size", min=0, help="Slices and periods with fewer accounts or cases "
                                         "than this are flagged small.")] = 30,
           bins: BinsOpt = 10,
           charts: Annotated[Path | None, typer.Option(
               "--charts", metavar="DIR",
               help="With --format html: also write the main charts to DIR as SVG and "
                    "PNG, for slides.")] = None) -> None:
    """The summary: the three parts of the law, the total, who holds the clock, and the
    data problems found.

    The total adds the statistic of each part, as the law does: Time to Value before sale
    over sold accounts, after sale over accounts that reached value, Time to Smile over
    resolved cases. Beside it: the same counting the unfinished (Kaplan-Meier), each
    account's own total against --target-days, the spread of each part, and with --by
    or --every the summary per slice or period. Every JSON key: docs/report-json.md.
    """
    if format not in ("text", "json", "html"):
        raise UsageError(f"unknown format {format!r} for report (use text, json or html)")
    if charts is not None and format != "html":
        raise UsageError("--charts needs --format html")
    m = _measure(events, accounts, timezone, as_of, lookback_days, calendar=calendar)
    if format == "html":
        from valueclock.report import write_report

        with _working("Drawing the report..."):
            html = write_report(m, out, stat=stat, target_days=target_days, by=by,
                                every=every, min_size=min_size, bins=bins, charts_dir=charts)
        if out is None:
            sys.stdout.write(html)
        return
    with _working("Measuring..."):
        summary = m.summary(stat, target_days=target_days, by=by, every=every,
                            min_size=min_size, bins=bins)
    if format == "json":
        _write_text(dumps(summary) + "\n", out)
        return
    console = Console(file=out.open("w", encoding="utf-8"), width=100) if out else Console()
    render_report(summary, console)


@app.command()
def check(events: Events = None, workspace: WorkspaceOpt = None,
          engine: EngineOpt = None, table: TableOpt = None,
          accounts_table: AccountsTableOpt = None,
          accounts: AccountsOpt = None, timezone: TimezoneOpt = "UTC",
          as_of: AsOfOpt = None,
          format: Annotated[str, typer.Option("--format", "-f",
                                              help="text or json.")] = "text",
          strict: Annotated[bool, typer.Option(
              "--strict", help="Exit with status 1 when any problem is found.")] = False,
          examples: Annotated[int, typer.Option(
              "--examples", min=0, help="Examples to show per problem.")] = 5) -> None:
    """List every data problem in the event log, with counts and examples.

    Nothing is dropped silently: rows that cannot be measured (unknown kind, missing ids,
    unreadable time, after as_of, case events before the case started...) are counted
    here and in the report.
    """
    m = _measure(events, accounts, timezone, as_of, None)
    problems = m.problem_summary(examples)
    if format == "json":
        sys.stdout.write(dumps({"as_of": m.summary("median")["as_of"],
                                "data_problems": problems}) + "\n")
    else:
        render_problems(problems, Console())
    if strict and problems:
        raise typer.Exit(1)


@app.command()
def survival(events: Events = None, workspace: WorkspaceOpt = None,
             engine: EngineOpt = None, table: TableOpt = None,
             timezone: TimezoneOpt = "UTC", as_of: AsOfOpt = None,
             part: Annotated[str, typer.Option(
                 "--part", help="ttv_after: sold accounts until value, those still waiting "
                                "censored at waiting_days; smile: cases until the smile, "
                                "open ones censored at open_hours.")] = "ttv_after",
             format: Annotated[str, typer.Option(
                 "--format", "-f", help="text, csv, json or parquet.")] = "text",
             alpha: Annotated[float, typer.Option(
                 "--alpha", min=0.0001, max=0.5,
                 help="The band is the 1 - alpha pointwise confidence interval.")] = 0.05,
             all_rows: Annotated[bool, typer.Option(
                 "--all", help="Text: show every row of the curve, not only each 5% "
                               "step.")] = False,
             out: OutOpt = None) -> None:
    """The Kaplan-Meier curve of Time to Value after sale or of Time to Smile: unfinished
    journeys counted, not dropped.

    Columns: duration (days or hours), at_risk, events (finished there), censored (still
    unfinished there), survival (estimated share not finished yet), ci_lower, ci_upper
    (exponential Greenwood band, as lifelines). The quantile q is the smallest duration at
    which survival falls to 1 - q or below.
    """
    from valueclock.engine import iso
    from valueclock.engine.survival import describe, km_part
    from valueclock.render_stats import render_survival

    if format not in ("text", "csv", "json", "parquet"):
        raise UsageError(f"unknown format {format!r} for survival (use text, csv, json or "
                         "parquet)")
    p = km_part(part)
    m = _measure(events, None, timezone, as_of, None)
    with _working("Estimating..."):
        curve = m.survival(p.name, alpha=alpha)
        info = describe(m.accounts if p.table == "accounts" else m.cases, p, curve)
    info["as_of"] = iso(m.as_of)
    if format in ("csv", "parquet"):
        write_table(curve.to_arrow(), format, out)
        return
    if format == "json":
        data = {k: info[k] for k in ("part", "unit", "as_of", "alpha", "subjects", "events",
                                     "censored", "quantiles", "completed")}
        data["curve"] = curve.rows()
        _write_text(dumps(data) + "\n", out)
        return
    console = Console(file=out.open("w", encoding="utf-8"), width=100) if out else Console()
    info["as_of"] = f"{m.as_of:%Y-%m-%d %H:%M} UTC"
    render_survival(curve, info, console, show_all=all_rows)


@app.command()
def demo(seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the "
                                                "same company.")] = 7,
         out: Annotated[Path, typer.Option(
             "--out", "-o", help="Folder to write events.csv and accounts.csv to.")]
         = Path("valueclock-demo"),
         n_accounts: Annotated[int, typer.Option(
             "--accounts", min=10, help="How many accounts the company has.")] = 3000,
         format: Annotated[str, typer.Option("--format", "-f",
                                             help="Report as text or json.")] = "text") -> None:
    """Generate a believable company's event log and accounts table, and report on it.

    The company sells software to SMB, Mid-Market and Enterprise accounts: free content
    and demos before the sale, onboarding by Professional Services, Training and Customer
    Success after it, and support cases handed between Support, Engineering and Billing,
    some reopened, some still open.
    """
    from valueclock import demo as demo_module

    with _working("Generating the demo company..."):
        company = demo_module.generate(seed=seed, accounts=n_accounts)
        paths = demo_module.write(company, out)
    err.print(f"Wrote {paths['events']} ({company.events.num_rows:,} events) and "
              f"{paths['accounts']} ({company.accounts.num_rows:,} accounts).")
    report(events=[paths["events"]], accounts=paths["accounts"], timezone="UTC", as_of=None,
           lookback_days=None, stat="median", format=format, out=None)
    if format == "text":
        err.print(f"Next: valueclock accounts {paths['events']} --accounts "
                  f"{paths['accounts']} --format table")


@app.command()
def teams(events: Events = None, workspace: WorkspaceOpt = None,
          engine: EngineOpt = None, table: TableOpt = None,
          accounts_table: AccountsTableOpt = None,
          accounts: AccountsOpt = None, timezone: TimezoneOpt = "UTC",
          as_of: AsOfOpt = None, lookback_days: LookbackOpt = None,
          calendar: CalendarOpt = None,
          format: Annotated[str, typer.Option(
              "--format", "-f", help="text, csv or json.")] = "text",
          out: OutOpt = None) -> None:
    """Per team: who holds the clock, who passes it on, who gets it back, who delivers value.

    Holding the clock: cases touched, hours held (open cases to as_of), share of all hours
    and of the Time to Smile hours of resolved cases, median hours per case, passes of the
    clock in and out, and ping-pong cases (the clock came back to the team after another
    team held it). Delivering value: value events before and after the sale, and the
    accounts whose first value before / after the sale the team delivered, with the median
    days. Columns and keys: docs/teams-calendar-whatif.md.
    """
    if format not in ("text", "csv", "json"):
        raise UsageError(f"unknown format {format!r} for teams (use text, csv or json)")
    m = _measure(events, accounts, timezone, as_of, lookback_days, calendar=calendar)
    with _working("Measuring teams..."):
        table = m.team_stats.to_pyarrow()
    if format == "csv":
        write_table(table, "csv", out)
        return
    from valueclock.output import rows as _rows

    data = {"as_of": iso(m.as_of), "lookback_days": m.lookback_days, **m.hours_keys(),
            "teams": _rows(table)}
    if format == "json":
        _write_text(dumps(data) + "\n", out)
        return
    from valueclock.render_teams import render_teams

    render_teams(data, _console(out))


@app.command()
def whatif(team: Annotated[list[str], typer.Option(
               "--team", help="A team whose hours holding each case change (repeat with "
                              "--scale for several teams).", show_default=False)],
           scale: Annotated[list[float], typer.Option(
               "--scale", min=0, help="The factor for the --team in the same position: 0.5 "
                                      "halves its hours, 0 removes them, 2 doubles them.",
               show_default=False)],
           events: Events = None, workspace: WorkspaceOpt = None,
           engine: EngineOpt = None, table: TableOpt = None,
           accounts_table: AccountsTableOpt = None,
           accounts: AccountsOpt = None, timezone: TimezoneOpt = "UTC",
           as_of: AsOfOpt = None, lookback_days: LookbackOpt = None,
           calendar: CalendarOpt = None,
           stat: Annotated[str, typer.Option(
               "--stat", help="Statistic of each part: median, mean, or a percentile "
                              "such as p90.")] = "median",
           format: Annotated[str, typer.Option("--format", "-f",
                                               help="text or json.")] = "text",
           out: OutOpt = None) -> None:
    """What if a team held each case for F times as long? Every number recomputed.

    Each case's Time to Smile (and open hours) becomes the sum of its holds with the
    team's hours multiplied by F; accounts and the summary follow. Prints Time to Customer
    Value today and in the what-if, part by part. With --format json: {"today": ...,
    "whatif": ...}, each the object `valueclock report --format json` prints.

        valueclock whatif events.csv --team Engineering --scale 0.5
    """
    if format not in ("text", "json"):
        raise UsageError(f"unknown format {format!r} for whatif (use text or json)")
    if len(team) != len(scale):
        raise UsageError(f"give one --scale for each --team ({len(team)} --team, "
                         f"{len(scale)} --scale)")
    factors = dict(zip(team, scale, strict=True))
    m = _measure(events, accounts, timezone, as_of, lookback_days, calendar=calendar)
    with _working("Measuring today and the what-if..."):
        today = m.summary(stat)
        changed = m.what_if(factors).summary(stat)
    if format == "json":
        _write_text(dumps({"today": today, "whatif": changed}) + "\n", out)
        return
    from valueclock.render_teams import render_whatif

    render_whatif(today, changed, _console(out))


def _write_text(text: str, out: Path | None) -> None:
    if out:
        out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


def _console(out: Path | None) -> Console:
    return Console(file=out.open("w", encoding="utf-8"), width=120) if out else Console()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"valueclock {__version__}")
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True, help="Show the version and exit.")]
        = False) -> None:
    pass


def _mount_sources() -> None:
    try:
        from valueclock.sources.cli import app as sources_app
    except ImportError:  # pragma: no cover - sources are part of the package
        return
    app.add_typer(sources_app, name="import",
                  help="Turn help-desk, tracker and process-mining exports into the "
                       "canonical event log.")


_mount_sources()
_register_workspace_commands(app)
_register_serve(app)


def main() -> None:
    """Entry point: run the app, print expected errors as one line with exit status 2."""
    import ibis

    from valueclock.engines import default_connection

    # Tables built in memory run on valueclock's DuckDB (no progress bar on stdout).
    ibis.set_backend(default_connection())
    try:
        app(prog_name="valueclock")
    except ValueclockError as exc:
        err.print(f"valueclock: error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        err.print("valueclock: interrupted", highlight=False)
        sys.exit(130)


if __name__ == "__main__":
    main()
