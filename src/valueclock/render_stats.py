"""Text for the report's unfinished journeys, spreads, slices and periods, and survival curves.

Everything here only formats what the engine computed (``Measurement.summary()``,
``Measurement.survival()``); nothing is computed on the way.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from valueclock.engine.summary import days_text
from valueclock.stats import SurvivalCurve

__all__ = ["add_unfinished_row", "customer_total_line", "render_survival", "slice_tables",
           "spread_table"]


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def _signed(value: float | None, unit: str) -> str:
    return "n/a" if value is None else f"{value:+,.1f} {unit}"


def add_unfinished_row(parts: Table, s: dict[str, Any], part: str) -> None:
    """The Kaplan-Meier row under Time to Value after sale (``ttv_after``) or Time to
    Smile (``smile``) in the report's table of parts, when something is unfinished."""
    if part == "ttv_after":
        key, unit, n, who = "ttv_after_days_km", "days", s.get("waiting_accounts") or 0, \
            "waiting"
    else:
        key, unit, n, who = "smile_hours_km", "hours", s.get("open_cases") or 0, "open"
    if key not in s or not n or s.get("stat") == "mean":
        return
    value = s[key]
    shown = _signed(value, unit) if value is not None else "not reached"
    parts.add_row(Text("  counting the unfinished", style="dim"), Text(shown, style="dim"),
                  f"Kaplan-Meier, with the {n:,} {who}")


def customer_total_line(s: dict[str, Any]) -> Text | None:
    """Each account's own Time to Customer Value, and how many meet the target."""
    if "account_ttcv_days" not in s:
        return None
    reached = s.get("value_reached_accounts") or 0
    target = s.get("target_days") or 0.0
    words = [("Per account: ", "bold")]
    own = s["account_ttcv_days"]
    if own is None:
        words.append(("no account has reached value yet", ""))
    else:
        words.append((f"{s.get('stat', 'median')} {days_text(own)}", "cyan"))
        share = s.get("accounts_meeting_target")
        met = s.get("accounts_meeting_target_count") or 0
        pct = "" if share is None else f" ({100 * share:.0f}%)"
        words.append((f" · {met:,} of {reached:,}{pct} within {target:g} days (target)",
                      ""))
    unknown = s.get("accounts_unknown") or 0
    if unknown:
        words.append((f" · {unknown:,} unknown, not at value yet", "yellow"))
    return Text.assemble(*words)


_PART_NAMES = {"ttv_before_days": "TTV before",
               "ttv_after_days": "TTV after",
               "smile_hours": "Smile",
               "ttcv_days": "Own total"}
_UNFINISHED = {"ttv_after_days": "waiting", "smile_hours": "open", "ttcv_days": "waiting"}


def spread_table(s: dict[str, Any]) -> Table | None:
    """Percentiles of each part (``distributions``)."""
    dist = s.get("distributions")
    if not dist:
        return None
    names = list(next(iter(dist.values()))["percentiles"])
    table = Table(title="Spread of the finished journeys (histograms: --format json)",
                  title_justify="left", title_style="bold", box=None, padding=(0, 1))
    table.add_column("percentile", no_wrap=True)
    for name in names:
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("over", style="dim", overflow="fold")
    for key, d in dist.items():
        if not d["count"]:
            continue
        over = f"{d['count']:,}"
        if d["unfinished"]:
            over += f" +{d['unfinished']:,} {_UNFINISHED.get(key, 'unfinished')}"
        table.add_row(f"{_PART_NAMES.get(key, key)} ({d['unit'][0]})",
                      *[f"{d['percentiles'][n]:,.1f}" for n in names], over)
    return table


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+,.1f}"


def _km_cell(km: float | None, unfinished: int) -> str:
    """Kaplan-Meier only where something is unfinished (else it says nothing new)."""
    if not unfinished:
        return ""
    return "not reached" if km is None else f"{km:+,.1f}"


def _group_tables(titles: tuple[str, str], first: str, groups: list[dict[str, Any]],
                  label: Any, accounts: bool) -> list[Any]:
    """Two tables, one row per group: Time to Value (when there are account figures) and
    Time to Smile; narrow enough for an 80-column terminal."""

    def table(title: str) -> Table:
        t = Table(title=title, title_justify="left", title_style="bold", box=None,
                  padding=(0, 1), header_style="bold", min_width=len(title))
        t.add_column(first, overflow="fold")
        return t

    def number(t: Table, header: str, style: str | None = None) -> None:
        t.add_column(header, justify="right", no_wrap=True, style=style)

    def name(g: dict[str, Any]) -> Text:
        return Text(label(g) + (" *" if g.get("small") else ""))

    out: list[Any] = []
    if accounts:
        ttv = table(titles[0])
        for header in ("sold", "waiting", "before", "after"):
            number(ttv, header)
        number(ttv, "after KM", "cyan")
        number(ttv, "TTCV")
        for g in groups:
            ttv.add_row(name(g), f"{g['sold_accounts']:,}", f"{g['waiting_accounts']:,}",
                        _num(g["ttv_before_days"]), _num(g["ttv_after_days"]),
                        _km_cell(g.get("ttv_after_days_km"), g["waiting_accounts"]),
                        _num(g["ttcv_days"]), style="dim" if g.get("small") else None)
        out += [Text(""), ttv]
    smile = table(titles[1])
    for header in ("cases", "open", "Smile"):
        number(smile, header)
    number(smile, "Smile KM", "cyan")
    for g in groups:
        smile.add_row(name(g), f"{g['cases']:,}", f"{g['open_cases']:,}",
                      _num(g["smile_hours"]),
                      _km_cell(g.get("smile_hours_km"), g["open_cases"]),
                      style="dim" if g.get("small") else None)
    return out + [Text(""), smile]


def slice_tables(s: dict[str, Any]) -> list[Any]:
    """The tables of ``slices`` and ``periods``, with a note on what they mean."""
    items: list[Any] = []
    stat = s.get("stat", "median")
    slices = s.get("slices")
    if slices:
        by, level = slices[0]["by"], slices[0]["level"]
        items += _group_tables(
            (f"Time to Value by {by}, {stat} (days)",
             f"Time to Smile by {by}, {stat} (hours)"), by, slices,
            lambda g: "(none)" if g["value"] is None else str(g["value"]),
            accounts=level == "account")
    periods = s.get("periods")
    if periods:
        items += _group_tables(
            (f"Time to Value by sale cohort, {stat} (days)",
             f"Time to Smile by case start, {stat} (hours)"), "period",
            periods, lambda g: g["period"], accounts=True)
    if items:
        items.append(Text("KM: Kaplan-Meier, counting those still waiting or open. TTCV: "
                          "the law, Time to Value plus Time to Smile. *: small, fewer "
                          "accounts or cases than --min-size; read with care.", style="dim"))
    return items


def _thin(curve: SurvivalCurve, limit: int) -> list[int]:
    """Rows worth showing: the first, each 5% step of survival, the last."""
    n = len(curve.duration)
    if n <= limit:
        return list(range(n))
    keep = {0, n - 1}
    step = 0.05
    level = 1.0 - step
    for i, s in enumerate(curve.survival):
        if s <= level + 1e-12:
            keep.add(i)
            while level >= s - 1e-12:
                level -= step
    return sorted(keep)


def _bar(value: float, width: int = 12) -> str:
    filled = int(round(value * width))
    return "█" * filled + "·" * (width - filled)


def render_survival(curve: SurvivalCurve, info: dict[str, Any], console: Console,
                    show_all: bool = False, limit: int = 25) -> None:
    """Print a Kaplan-Meier curve: who finished, who is still unfinished, the quantiles,
    and the curve itself (thinned to the steps that matter unless ``show_all``)."""
    unit = info["unit"]
    head = Text.assemble((info["title"], "bold"))
    level = int(round(100 * (1 - curve.alpha)))
    sub = Text(f"{_plural(curve.subjects, info['subject'])}: {curve.total_events:,} "
               f"{info['event_words']}, {curve.total_censored:,} {info['censor_words']} "
               f"(censored at their time so far)\nas of {info['as_of']}; band: {level}% "
               "pointwise (exponential Greenwood)", style="dim")
    quant = Table.grid(padding=(0, 2))
    quant.add_column()
    quant.add_column(justify="right")
    quant.add_column(style="dim")
    for name, value in info["quantiles"].items():
        done = info["completed"].get(name)
        quant.add_row(f"{name} (Kaplan-Meier)",
                      (("not reached" if curve.subjects else "n/a") if value is None
                       else f"{value:,.2f} {unit}"),
                      "" if done is None else f"finished only: {done:,.2f} {unit}")
    rows = list(range(len(curve.duration))) if show_all else _thin(curve, limit)
    table = Table(box=None, padding=(0, 1), header_style="bold")
    for name in (f"{unit}", "at risk", "events", "censored", "survival",
                 f"{level}% band"):
        table.add_column(name, justify="right")
    table.add_column("", no_wrap=True)
    for i in rows:
        table.add_row(f"{curve.duration[i]:,.2f}", f"{curve.at_risk[i]:,}",
                      f"{curve.events[i]:,}", f"{curve.censored[i]:,}",
                      f"{curve.survival[i]:.3f}",
                      f"{curve.ci_lower[i]:.3f}-{curve.ci_upper[i]:.3f}",
                      Text(_bar(float(curve.survival[i])), style="cyan"))
    items: list[Any] = [head, sub, Text(""), quant, Text("")]
    if len(curve.duration):
        items.append(table)
        if len(rows) < len(curve.duration):
            items.append(Text(f"{len(rows)} of {len(curve.duration):,} rows shown (the "
                              "first, the last, and each 5% step of survival); --all for "
                              "every row, --format csv for the data.", style="dim"))
    else:
        items.append(Text("Nothing to estimate: no " + info["subject"] + " yet.",
                          style="yellow"))
    console.print(Panel(Group(*items), title="valueclock survival", title_align="left",
                        expand=False))
