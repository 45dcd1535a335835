"""The report as text a manager can read in ten seconds."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from valueclock.render_stats import (
    add_unfinished_row,
    customer_total_line,
    slice_tables,
    spread_table,
)


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def _days(value: float | None, sign: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{value:+,.1f} days" if sign else f"{value:,.1f} days"


def _stat_words(stat: str) -> str:
    return {"median": "median", "mean": "mean"}.get(stat, f"{stat} (percentile)")


def _hours_note(s: dict[str, Any]) -> str:
    """How hours are counted, when not plain calendar hours (calendar and scale keys)."""
    note = ""
    if s.get("calendar"):
        note += f"; business hours of {s['calendar'].get('source') or 'a calendar'}"
    if s.get("scale"):
        note += "; what-if: " + ", ".join(f"{t} x{f:g}" for t, f in s["scale"].items())
    return note


def render_report(s: dict[str, Any], console: Console) -> None:
    """Print the summary of ``Measurement.summary()``."""
    total = s["ttcv_text"] or "not known yet (no account has reached value)"
    head = Text.assemble(("Time to Customer Value: ", "bold"), (total, "bold cyan"))
    as_of = s["as_of"].replace("T", " ").replace("Z", " UTC")
    lookback = s.get("lookback_days")
    sub = Text(f"{_stat_words(s['stat'])} of each part, as of {as_of}"
               + ("" if lookback is None else f", value before sale within {lookback:g} days"),
               style="dim")
    sub.append(_hours_note(s))

    parts = Table.grid(padding=(0, 2))
    parts.add_column()
    parts.add_column(justify="right")
    parts.add_column(style="dim")
    sold, reached = s["sold_accounts"], s["value_reached_accounts"]
    parts.add_row("Time to Value before sale", _days(s["ttv_before_days"], sign=True),
                  f"over {_plural(sold, 'sold account')}")
    parts.add_row("Time to Value after sale", _days(s["ttv_after_days"], sign=True),
                  f"{reached:,} of {sold:,} reached value; {s['waiting_accounts']:,} waiting")
    add_unfinished_row(parts, s, "ttv_after")
    smile = s["smile_hours"]
    parts.add_row("Time to Smile",
                  "n/a" if smile is None else f"{smile:+,.1f} hours",
                  f"over {_plural(s['resolved_cases'], 'resolved case')}; "
                  f"{s['open_cases']:,} open")
    add_unfinished_row(parts, s, "smile")
    parts.add_row(Text("= Time to Customer Value", style="bold"),
                  Text(_days(s["ttcv_days"], sign=True), style="bold"), total)

    counts = Text(
        f"{_plural(s['accounts'], 'account')} ({sold:,} sold, "
        f"{_plural(s['prospects'], 'prospect')}) · {_plural(s['cases'], 'case')} "
        f"({s['resolved_cases']:,} resolved, {s['open_cases']:,} open)")

    items: list[Any] = [head, sub, Text(""), parts, Text(""), counts]
    own = customer_total_line(s)
    if own is not None:
        items.append(own)
    spread = spread_table(s)
    if spread is not None:
        items += [Text(""), spread]
    items += slice_tables(s)
    if s["teams"]:
        teams = Table(box=None, padding=(0, 2))
        teams.add_column("team")
        teams.add_column("hours", justify="right")
        teams.add_column("share", justify="right")
        teams.add_column("cases", justify="right")
        all_hours = sum(t["hours"] for t in s["teams"]) or 1.0
        for t in s["teams"]:
            teams.add_row(t["team"], f"{t['hours']:,.1f}", f"{100 * t['hours'] / all_hours:.0f}%",
                          f"{t['cases']:,}")
        items += [Text(""), Text("Who holds the clock (hours held, in all cases)",
                                 style="bold"), teams]
    items.append(Text(""))
    if s["data_problems"]:
        items.append(Text("Data problems (counted, never dropped silently; details: "
                          "valueclock check)", style="bold yellow"))
        problems = Table(box=None, padding=(0, 2))
        problems.add_column("problem")
        problems.add_column("rows", justify="right")
        problems.add_column("example")
        for p in s["data_problems"]:
            problems.add_row(p["problem"], f"{p['count']:,}",
                             p["examples"][0] if p["examples"] else "")
        items.append(problems)
    else:
        items.append(Text("Data problems: none", style="green"))
    console.print(Panel(Group(*items), title="valueclock report", title_align="left",
                        expand=False))


def render_problems(problems: list[dict[str, Any]], console: Console) -> None:
    """Print every problem class with its count, meaning and examples."""
    if not problems:
        console.print(Text("No data problems found.", style="green"))
        return
    table = Table(title="Data problems", title_justify="left", show_lines=True)
    table.add_column("problem", style="bold")
    table.add_column("rows", justify="right")
    table.add_column("what it means")
    table.add_column("examples")
    for p in problems:
        table.add_row(p["problem"], f"{p['count']:,}", p["description"],
                      "\n".join(p["examples"]))
    console.print(table)
