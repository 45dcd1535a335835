"""Text for people: the ``teams`` table and the ``whatif`` comparison."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from valueclock.engine import days_text


def _num(value: float | None, fmt: str = "{:,.1f}") -> str:
    return "" if value is None else fmt.format(value)


def _pct(value: float | None) -> str:
    return "" if value is None else f"{100 * value:.0f}%"


def hours_words(calendar: dict[str, Any] | None) -> str:
    """How hours are counted, in words."""
    if calendar is None:
        return "calendar hours"
    where = calendar.get("source") or "calendar"
    return f"business hours of {where} ({calendar['timezone']})"


def _as_of(text: str) -> str:
    return text.replace("T", " ").replace("Z", " UTC")


def render_teams(data: dict[str, Any], console: Console) -> None:
    """Print the ``teams`` report: who holds the clock, and who delivers value."""
    rows = data["teams"]
    items: list[Any] = [Text(f"as of {_as_of(data['as_of'])}; {hours_words(data['calendar'])}",
                             style="dim")]
    holders = [r for r in rows if r["cases"]]
    if holders:
        t = Table(title="Who holds the clock (hours held in all cases, open ones to as_of)",
                  title_justify="left",
                  title_style="bold", box=None, padding=(0, 1))
        t.add_column("team", no_wrap=True)
        for name in ("cases", "open", "hours", "smile\nshare", "median\nh/case",
                     "passes\nin", "passes\nout", "ping-\npong"):
            t.add_column(name, justify="right", no_wrap=True)
        for r in holders:
            t.add_row(r["team"], f"{r['cases']:,}", f"{r['open_cases']:,}",
                      _num(r["hours"]), _pct(r["smile_share"]),
                      _num(r["median_hours_per_case"]), f"{r['passes_in']:,}",
                      f"{r['passes_out']:,}", f"{r['ping_pong_cases']:,}")
        items += [Text(""), t, Text(
            "smile share: of the Time to Smile hours of resolved cases; passes: handoffs "
            "that moved the clock to or from the team; ping-pong: cases where the clock came "
            "back to the team after another team held it.", style="dim")]
    else:
        items += [Text(""), Text("No case has been held by any team yet.")]
    givers = sorted((r for r in rows if r["value_events_before"] or r["value_events_after"]
                     or r["prospect_value_events"]),
                    key=lambda r: (-r["first_value_after_accounts"],
                                   -r["first_value_before_accounts"], -r["value_events_after"],
                                   -r["value_events_before"], r["team"]))
    if givers:
        v = Table(title="Who delivers value (value events, and whose was the account's first)",
                  title_justify="left", title_style="bold", box=None, padding=(0, 1))
        v.add_column("team", no_wrap=True)
        for name in ("before\nsale", "after\nsale", "pros-\npects", "first\nbefore",
                     "median\ndays", "first\nafter", "median\ndays "):
            v.add_column(name, justify="right", no_wrap=True)
        for r in givers:
            v.add_row(r["team"], f"{r['value_events_before']:,}",
                      f"{r['value_events_after']:,}", f"{r['prospect_value_events']:,}",
                      f"{r['first_value_before_accounts']:,}",
                      _num(r["median_ttv_before_days"], "{:+,.1f}"),
                      f"{r['first_value_after_accounts']:,}",
                      _num(r["median_ttv_after_days"], "{:+,.1f}"))
        items += [Text(""), v, Text(
            "first before / first after: accounts whose first value before / after the sale "
            "the team delivered; median days: from the sale to that value.", style="dim")]
    console.print(Text("valueclock teams", style="bold"))
    console.print(Group(*items))


def _change_days(today: float | None, whatif: float | None) -> str:
    if today is None or whatif is None:
        return ""
    delta = whatif - today
    text = days_text(delta) or ""
    return text if text.startswith("-") or text == "0 hours" else "+" + text


def render_whatif(today: dict[str, Any], whatif: dict[str, Any], console: Console) -> None:
    """Print Time to Customer Value today and in the what-if, part by part."""
    scale = whatif["scale"]
    change = ", ".join(f"{team} x{factor:g}" for team, factor in scale.items())
    head = Text.assemble(("What if ", "bold"), (change or "nothing changed", "bold cyan"),
                         ("?", "bold"))
    sub = Text(f"each team's hours holding each case multiplied by its factor; "
               f"{today['stat']} of each part, as of {_as_of(today['as_of'])}; "
               f"{hours_words(today['calendar'])}", style="dim")
    t = Table(box=None, padding=(0, 1), pad_edge=False)
    t.add_column("", no_wrap=True)
    t.add_column("today", justify="right", no_wrap=True)
    t.add_column("what-if", justify="right", no_wrap=True)
    t.add_column("change", justify="right", no_wrap=True)

    def days(v: float | None) -> str:
        return "n/a" if v is None else f"{v:+,.1f} days"

    def hours(v: float | None) -> str:
        return "n/a" if v is None else f"{v:+,.1f} hours"

    def diff(a: float | None, b: float | None, unit: str) -> str:
        return "" if a is None or b is None else f"{b - a:+,.1f} {unit}"

    t.add_row("Time to Value before sale", days(today["ttv_before_days"]),
              days(whatif["ttv_before_days"]),
              diff(today["ttv_before_days"], whatif["ttv_before_days"], "days"))
    t.add_row("Time to Value after sale", days(today["ttv_after_days"]),
              days(whatif["ttv_after_days"]),
              diff(today["ttv_after_days"], whatif["ttv_after_days"], "days"))
    t.add_row("Time to Smile", hours(today["smile_hours"]), hours(whatif["smile_hours"]),
              diff(today["smile_hours"], whatif["smile_hours"], "hours"))
    t.add_row(Text("= Time to Customer Value", style="bold"),
              Text(today["ttcv_text"] or "n/a", style="bold"),
              Text(whatif["ttcv_text"] or "n/a", style="bold cyan"),
              Text(_change_days(today["ttcv_days"], whatif["ttcv_days"]), style="bold"))
    change_text = _change_days(today["ttcv_days"], whatif["ttcv_days"])
    verdict = Text.assemble(
        "Time to Customer Value: ", (today["ttcv_text"] or "not known yet", "bold"),
        " today, ", (whatif["ttcv_text"] or "not known yet", "bold cyan"), " in the what-if",
        (f" ({change_text})" if change_text else ""))
    items: list[Any] = [head, verdict, sub, Text(""), t]
    before = {r["team"]: r["hours"] for r in today["teams"]}
    after = {r["team"]: r["hours"] for r in whatif["teams"]}
    if before or after:
        teams = Table(title="Hours held in all cases", title_justify="left",
                      title_style="bold", box=None, padding=(0, 1), pad_edge=False)
        teams.add_column("team")
        teams.add_column("today", justify="right")
        teams.add_column("what-if", justify="right")
        teams.add_column("change", justify="right")
        for team in sorted(set(before) | set(after), key=lambda n: (-before.get(n, 0.0), n)):
            a, b = before.get(team, 0.0), after.get(team, 0.0)
            teams.add_row(team, f"{a:,.1f}", f"{b:,.1f}", f"{b - a:+,.1f}")
        items += [Text(""), teams]
    unknown = [team for team in scale if team not in before]
    if unknown:
        items += [Text(""), Text("No case was held by " + ", ".join(unknown)
                                 + ": nothing changes for them.", style="yellow")]
    console.print(Text("valueclock whatif", style="bold"))
    console.print(Group(*items))
