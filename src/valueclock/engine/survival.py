"""Unfinished journeys, counted: the durations Kaplan-Meier needs, aggregated in Ibis.

Time to Value after sale: an account that reached value ended at ``ttv_after_days``; one
still waiting is censored at ``waiting_days``. Time to Smile: a resolved case ended at
``smile_hours``; an open one is censored at ``open_hours``. The engine counts events and
censored subjects per distinct duration (a group by, on any backend); the product-limit
estimate over those few rows is :func:`valueclock.stats.kaplan_meier`.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir

from valueclock.engine.prepare import flag
from valueclock.errors import UsageError
from valueclock.stats import SurvivalCurve, kaplan_meier, percentile_name

__all__ = ["KM_PARTS", "KMPart", "SURVIVAL_QUANTILES", "curves", "describe", "km_counts",
           "km_part"]


@dataclass(frozen=True)
class KMPart:
    """A part of the law that has unfinished subjects."""

    name: str          # ttv_after, smile
    table: str         # accounts, cases
    ended: str         # column of the finished duration
    so_far: str        # column of the unfinished duration
    observed: str      # boolean column: finished
    unit: str          # days, hours
    subject: str       # what one subject is, for people
    event_words: str   # what finishing means
    censor_words: str  # what being unfinished means

    @property
    def summary_key(self) -> str:
        """The summary key of its Kaplan-Meier figure."""
        return f"{self.ended}_km"


KM_PARTS: dict[str, KMPart] = {
    "ttv_after": KMPart("ttv_after", "accounts", "ttv_after_days", "waiting_days",
                        "value_reached", "days", "sold account", "reached value",
                        "still waiting"),
    "smile": KMPart("smile", "cases", "smile_hours", "open_hours", "resolved", "hours",
                    "case", "smiled", "still open"),
}


def km_part(name: str) -> KMPart:
    """``ttv_after`` or ``smile`` (also ``ttv_after_days``, ``smile_hours``)."""
    key = name.strip().lower()
    for part in KM_PARTS.values():
        if key in (part.name, part.ended):
            return part
    raise UsageError(f"unknown part {name!r} for Kaplan-Meier (use "
                     + " or ".join(KM_PARTS) + ")")


def km_counts(table: ir.Table, part: KMPart, key: ir.Value | None = None) -> ir.Table:
    """Events and censored subjects per distinct duration (and per ``key`` when given).

    Columns ``[_g,] duration, events, censored``. Every subject is counted once: those
    that finished at their duration, the others censored at their time so far.
    """
    observed = table[part.observed]
    duration = observed.ifelse(table[part.ended], table[part.so_far])
    t = table.mutate(_d=duration, _o=flag(observed))
    if key is not None:
        t = t.mutate(_g=key)
    groups = (["_g"] if key is not None else []) + ["_d"]
    agg = t.group_by(groups).aggregate(events=t._o.sum(), censored=(1 - t._o).sum())
    return agg.rename(duration="_d")


def curves(table: ir.Table, part: KMPart, key: ir.Value | None = None,
           alpha: float = 0.05) -> dict[Hashable, SurvivalCurve]:
    """One Kaplan-Meier curve per value of ``key`` (one, under ``None``, without a key)."""
    rows = km_counts(table, part, key).to_pyarrow().to_pylist()
    found: dict[Hashable, tuple[list, list, list]] = {}
    for r in rows:
        d, e, c = found.setdefault(r.get("_g") if key is not None else None, ([], [], []))
        d.append(r["duration"])
        e.append(int(r["events"] or 0))
        c.append(int(r["censored"] or 0))
    return {g: kaplan_meier(d, e, c, alpha) for g, (d, e, c) in found.items()}


#: The quantiles ``valueclock survival`` reports.
SURVIVAL_QUANTILES = (0.25, 0.5, 0.75, 0.9)

_TITLES = {"ttv_after": "Time to Value after sale, counting accounts still waiting",
           "smile": "Time to Smile, counting open cases"}


def describe(table: ir.Table, part: KMPart, curve: SurvivalCurve,
             quantiles: tuple[float, ...] = SURVIVAL_QUANTILES) -> dict[str, Any]:
    """What ``valueclock survival --format json`` prints, but the curve and ``as_of``.

    ``quantiles`` are read from the curve; ``completed`` are the same percentiles over the
    finished subjects only (linear interpolation), for comparison.
    """
    x = table[part.ended]
    aggs = {f"q{i}": x.quantile(q, where=table[part.observed]) for i, q in enumerate(quantiles)}
    row = table.aggregate(**aggs).to_pyarrow().to_pylist()[0] if curve.total_events else {}
    return {
        "part": part.name,
        "title": _TITLES[part.name],
        "unit": part.unit,
        "subject": part.subject,
        "event_words": part.event_words,
        "censor_words": part.censor_words,
        "alpha": curve.alpha,
        "subjects": curve.subjects,
        "events": curve.total_events,
        "censored": curve.total_censored,
        "quantiles": {percentile_name(q): curve.quantile(q) for q in quantiles},
        "completed": {percentile_name(q): (None if row.get(f"q{i}") is None
                                           else float(row[f"q{i}"]))
                      for i, q in enumerate(quantiles)},
    }
