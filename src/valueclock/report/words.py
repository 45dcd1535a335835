"""What the numbers mean, in one line each, and how they are written for people.

Shared by the HTML report and the dashboard so both explain themselves the same way to
someone who never read the article. Nothing here computes a figure: it only formats what
the engine returned.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from valueclock.engine.summary import days_text

__all__ = ["EXPLAIN", "FILTERS", "PARTS", "TEAM_COLUMNS_EXPLAINED", "days", "fmt_moment",
           "hours", "number", "pct", "stat_words", "team_palette", "total_text"]

#: The three parts of the law and the total: key, name, unit, one-line explanation.
PARTS: list[dict[str, str]] = [
    {"key": "ttv_before_days", "name": "Time to Value before sale", "unit": "days",
     "short": "Before sale",
     "explain": "How long before signing customers first got something useful from you "
                "(free content, a demo that answered their question). Negative days: the "
                "more negative, the earlier the value."},
    {"key": "ttv_after_days", "name": "Time to Value after sale", "unit": "days",
     "short": "After sale",
     "explain": "Days from signing until the customer first got value from what they "
                "bought (a first report, go-live). Lower is better."},
    {"key": "smile_hours", "name": "Time to Smile", "unit": "hours", "short": "Smile",
     "explain": "Hours from an interruption (a ticket, an incident) until the customer is "
                "happy again; it is added to the total as hours / 24."},
    {"key": "ttcv_days", "name": "Time to Customer Value", "unit": "days", "short": "Total",
     "explain": "The three parts added: how long it takes a customer to get value from "
                "you. Zero or negative is excellent."},
]

#: One-line explanations of the other words the report and dashboard use.
EXPLAIN: dict[str, str] = {
    "law": "Time to Customer Value = Time to Value before sale (negative days) + Time to "
           "Value after sale (days) + Time to Smile (hours / 24). It is Klever's Law: one "
           "number that marketing, sales, onboarding, support and engineering all move.",
    "stat": "Each part is summarised by this statistic over its own rows, and the three are "
            "added as the law adds them.",
    "as_of": "The moment the numbers are made for: events after it are left out, so the "
             "same data always gives the same numbers.",
    "holds": "While a case is open, the team that has it holds the clock: the hours it holds "
             "are its share of Time to Smile.",
    "km": "Customers still waiting for value and cases still open are counted, not dropped: "
          "the curve is the share not there yet after each number of days or hours "
          "(Kaplan-Meier). Ticks mark the unfinished ones, at their time so far.",
    "km_figure": "The same statistic counting the unfinished (Kaplan-Meier): higher than "
                 "the plain figure when many are still waiting.",
    "distributions": "How the values of each part spread: most customers are in the tall "
                     "bars; the long tail on the right is where the slowest journeys are.",
    "trend": "Each part per period: Time to Value by the month (week, quarter) of the sale, "
             "Time to Smile by the period the case started. Hollow points: fewer than "
             "min_size accounts or cases, read with care.",
    "slices": "The same figures for each value of an attribute (segment, region, priority "
              "...). Small slices (fewer than min_size) are flagged.",
    "problems": "Rows that could not be measured as they are, counted by kind. Nothing is "
                "dropped silently; `valueclock check` lists examples.",
    "prospects": "accounts with events but no sale yet, not part of the total",
    "waiting": "Sold accounts that have not reached value yet (still waiting).",
    "open": "Cases whose clock still runs (no smile yet): their hours so far count for the "
            "team holding them.",
    "team_parts": "Who moves each part: the share of accounts whose first value before / "
                  "after the sale the team delivered, and the share of Time to Smile hours "
                  "(resolved cases) it held.",
    "reopen": "A reopen starts the clock again after a smile that did not hold.",
    "calendar": "Hours are counted in business hours of this calendar.",
    "no_calendar": "Hours are calendar hours (around the clock).",
    "account_ttcv": "Each account's own total (its before + after + its cases' mean Time to "
                    "Smile), summarised; target: share of accounts at or under target_days.",
}

#: The columns of the teams table, explained.
TEAM_COLUMNS_EXPLAINED: dict[str, str] = {
    "team": "the team",
    "cases": "cases whose clock it held",
    "open_cases": "of them still open",
    "hours": "hours it held the clock (open cases to as_of)",
    "hours_share": "its share of all hours held",
    "smile_share": "its share of the Time to Smile hours of resolved cases",
    "median_hours_per_case": "median hours it held a case",
    "passes_in": "times the clock was passed to it",
    "passes_out": "times it passed the clock on",
    "ping_pong_cases": "cases where the clock came back to it after another team",
    "value_events_before": "value it delivered before sales",
    "value_events_after": "value it delivered after sales",
    "first_value_before_accounts": "accounts whose first value before the sale it delivered",
    "first_value_after_accounts": "accounts whose first value after the sale it delivered",
}

#: Colours for teams (colour-blind friendly, Okabe-Ito first, then Tableau 10).
_PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442",
            "#4E79A7", "#F28E2B", "#76B7B2", "#59A14F", "#EDC948", "#B07AA1", "#FF9DA7",
            "#9C755F", "#BAB0AC")
_UNASSIGNED_COLOUR = "#999999"


def team_palette(teams: list[str]) -> dict[str, str]:
    """One colour per team, the same in every chart: teams in name order take the palette
    in turn; ``Unassigned`` is grey."""
    out: dict[str, str] = {}
    i = 0
    for team in sorted({t for t in teams if t is not None}):
        if team == "Unassigned":
            out[team] = _UNASSIGNED_COLOUR
            continue
        out[team] = _PALETTE[i % len(_PALETTE)]
        i += 1
    return out


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def days(value: Any, sign: bool = True, digits: int = 1) -> str:
    """``-8.9 days``; ``n/a`` when missing."""
    if _missing(value):
        return "n/a"
    text = f"{value:+,.{digits}f}" if sign else f"{value:,.{digits}f}"
    return f"{text} days"


def hours(value: Any, sign: bool = False, digits: int = 1) -> str:
    """``6.3 hours``; ``n/a`` when missing."""
    if _missing(value):
        return "n/a"
    text = f"{value:+,.{digits}f}" if sign else f"{value:,.{digits}f}"
    return f"{text} hours"


def number(value: Any, digits: int = 1) -> str:
    """A number for a table cell: integers with separators, floats with ``digits``."""
    if _missing(value):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    if isinstance(value, datetime):
        return fmt_moment(value)
    return str(value)


def pct(value: Any) -> str:
    """``47%``; empty when missing."""
    return "" if _missing(value) else f"{100 * value:.0f}%"


def fmt_moment(value: Any) -> str:
    """``2025-12-31 22:38 UTC`` from a datetime or ISO text."""
    if _missing(value):
        return ""
    if isinstance(value, str):
        value = value.replace("T", " ").replace("Z", "")
        return (value[:16] if len(value) >= 16 else value) + " UTC"
    return f"{value:%Y-%m-%d %H:%M} UTC"


def stat_words(stat: str) -> str:
    """What the statistic means, for people."""
    if stat == "median":
        return "median (half of the customers are faster, half slower)"
    if stat == "mean":
        return "mean (the average)"
    return f"{stat} (percentile: {stat[1:]}% of the customers are at or under it)"


def total_text(summary: dict[str, Any]) -> str:
    """``ttcv_text`` or why there is none."""
    return summary.get("ttcv_text") or "not known yet (no account has reached value)"


FILTERS = {"days": days, "hours": hours, "number": number, "pct": pct,
           "moment": fmt_moment, "stat_words": stat_words, "days_text": days_text,
           "total_text": total_text}
