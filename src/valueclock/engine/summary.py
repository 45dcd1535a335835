"""The summary: one statistic per part of the law, added as the law adds them."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import ibis.expr.types as ir

from valueclock.errors import UsageError


@dataclass(frozen=True)
class Stat:
    """A summary statistic: ``median``, ``mean`` or a percentile ``pNN``."""

    name: str
    quantile: float | None  # None for the mean

    @classmethod
    def parse(cls, text: str) -> Stat:
        """Read ``median``, ``mean``, ``p90``, ``p99.9`` (case-insensitive)."""
        name = text.strip().lower()
        if name == "median":
            return cls("median", 0.5)
        if name in ("mean", "average"):
            return cls("mean", None)
        match = re.fullmatch(r"p(\d+(?:\.\d+)?)", name)
        if match and 0 <= float(match.group(1)) <= 100:
            return cls(name, float(match.group(1)) / 100)
        raise UsageError(f"unknown statistic {text!r} (use median, mean or a percentile "
                         "such as p90)")

    def of(self, column: ir.NumericColumn,
           where: ir.BooleanValue | None = None) -> ir.NumericScalar:
        """This statistic of a column's non-null values (percentiles interpolate linearly
        between closest ranks, as numpy does by default)."""
        if self.quantile is None:
            return column.mean(where=where)
        return column.quantile(self.quantile, where=where)


def law(ttv_before_days: float | None, ttv_after_days: float | None,
        smile_hours: float | None) -> float | None:
    """Time to Customer Value in days from the three parts.

    No resolved case: Time to Smile adds 0. No account at value: the total is empty.
    """
    if ttv_after_days is None:
        return None
    return (ttv_before_days or 0.0) + ttv_after_days + (smile_hours or 0.0) / 24.0


def days_text(days: float | None) -> str | None:
    """Days written for people, from the hours rounded to the nearest hour.

    ``11.2083`` is ``11 days, 5 hours``; ``-10`` is ``-10 days``; ``29/24`` is
    ``1 day, 5 hours``; ``0`` is ``0 hours``; ``-0.25`` is ``-6 hours``. Halves round away
    from zero.
    """
    if days is None or (isinstance(days, float) and math.isnan(days)):
        return None
    hours = days * 24.0
    rounded = int(math.floor(abs(hours) + 0.5))
    sign = "-" if hours < 0 and rounded > 0 else ""
    d, h = divmod(rounded, 24)
    parts = []
    if d:
        parts.append(f"{d} day" + ("" if d == 1 else "s"))
    if h or not d:
        parts.append(f"{h} hour" + ("" if h == 1 else "s"))
    return sign + ", ".join(parts)
