"""Statistics over the few rows the engine has already aggregated: Kaplan-Meier and bins.

The engine (Ibis, on any backend) reduces a table of durations to one row per distinct
duration with how many ended there (``events``) and how many were still unfinished there
(``censored``). The product-limit estimate over those rows is done here, in numpy, the
same way `lifelines <https://lifelines.readthedocs.io>`_ does it by default:

* survival ``S(t) = prod over durations u <= t of (1 - d_u / n_u)``, with ``n_u`` the
  subjects still at risk at ``u`` (those whose duration is ``u`` or more: a subject censored
  at ``u`` is at risk at ``u``) and ``d_u`` the events at ``u``;
* a pointwise confidence band by the exponential Greenwood formula (log(-log) transform),
  lifelines' default: with ``V(t) = sum d_u / (n_u (n_u - d_u))`` (terms with
  ``n_u = d_u`` count 0), ``S(t) ** exp(+-z sqrt(V(t)) / log S(t))``; the band is 1 where
  ``S`` is 1 and 0 where ``S`` is 0;
* the quantile ``q`` is the smallest duration with an event at which ``S`` falls to
  ``1 - q`` or below (``None`` when it never does). Equality counts, up to a relative
  floating-point tolerance of ``1e-9``; lifelines' ``qth_survival_time`` compares the
  floating values as they are. Without censoring this is the smallest value whose share of
  values at or below it is at least ``q`` (numpy's ``inverted_cdf`` method).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pyarrow as pa

__all__ = ["CURVE_COLUMNS", "PERCENTILES", "SurvivalCurve", "kaplan_meier",
           "kaplan_meier_observations", "nice_bins", "percentile_name"]

#: Columns of a survival curve, in order.
CURVE_COLUMNS = ("duration", "at_risk", "events", "censored", "survival", "ci_lower",
                 "ci_upper")

#: The percentiles every distribution reports.
PERCENTILES = (0.10, 0.25, 0.50, 0.75, 0.90, 0.95)

#: Relative tolerance when comparing a survival estimate with ``1 - q``.
TOLERANCE = 1e-9


def percentile_name(q: float) -> str:
    """``0.1`` is ``p10``, ``0.995`` is ``p99.5``."""
    return "p" + f"{q * 100:.6f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class SurvivalCurve:
    """A Kaplan-Meier curve: one entry per distinct duration, in increasing order.

    ``survival[i]`` is the estimated share still unfinished just after ``duration[i]``;
    ``ci_lower``/``ci_upper`` its pointwise confidence band at level ``1 - alpha``.
    """

    duration: np.ndarray
    at_risk: np.ndarray
    events: np.ndarray
    censored: np.ndarray
    survival: np.ndarray
    ci_lower: np.ndarray
    ci_upper: np.ndarray
    alpha: float = 0.05

    @property
    def subjects(self) -> int:
        """How many durations the curve is made of (finished and unfinished)."""
        return int(self.events.sum() + self.censored.sum())

    @property
    def total_events(self) -> int:
        """How many of them finished (were observed to end)."""
        return int(self.events.sum())

    @property
    def total_censored(self) -> int:
        """How many of them were still unfinished (censored)."""
        return int(self.censored.sum())

    def quantile(self, q: float) -> float | None:
        """The smallest duration with an event where survival is ``1 - q`` or below."""
        if not 0 <= q <= 1:
            raise ValueError("q must be between 0 and 1")
        level = 1.0 - q
        reached = (self.events > 0) & (self.survival <= level * (1 + TOLERANCE))
        hits = np.flatnonzero(reached)
        return float(self.duration[hits[0]]) if hits.size else None

    def survival_at(self, t: float) -> float:
        """The estimated survival just after duration ``t`` (1 before the first event)."""
        i = int(np.searchsorted(self.duration, t, side="right")) - 1
        return 1.0 if i < 0 else float(self.survival[i])

    def to_arrow(self) -> pa.Table:
        """The curve as an Arrow table with :data:`CURVE_COLUMNS`."""
        return pa.table({
            "duration": pa.array(self.duration, pa.float64()),
            "at_risk": pa.array(self.at_risk, pa.int64()),
            "events": pa.array(self.events, pa.int64()),
            "censored": pa.array(self.censored, pa.int64()),
            "survival": pa.array(self.survival, pa.float64()),
            "ci_lower": pa.array(self.ci_lower, pa.float64()),
            "ci_upper": pa.array(self.ci_upper, pa.float64()),
        })

    def rows(self) -> list[dict[str, Any]]:
        """The curve as a list of dicts (JSON-ready)."""
        return self.to_arrow().to_pylist()


def kaplan_meier(durations: Sequence[float] | np.ndarray, events: Sequence[int] | np.ndarray,
                 censored: Sequence[int] | np.ndarray, alpha: float = 0.05) -> SurvivalCurve:
    """The product-limit estimate from counts per duration.

    ``durations`` need not be sorted or distinct: counts of equal durations are added.
    A subject censored at a duration is at risk at that duration (events come first).
    """
    d = np.asarray(durations, dtype=float)
    e = np.asarray(events, dtype=np.int64)
    c = np.asarray(censored, dtype=np.int64)
    if not (d.shape == e.shape == c.shape):
        raise ValueError("durations, events and censored must have the same length")
    if d.size and (np.isnan(d).any() or (e < 0).any() or (c < 0).any()):
        raise ValueError("durations must be numbers and counts zero or more")
    uniq, inverse = np.unique(d, return_inverse=True)
    ev = np.bincount(inverse, weights=e, minlength=uniq.size).astype(np.int64)
    ce = np.bincount(inverse, weights=c, minlength=uniq.size).astype(np.int64)
    keep = (ev + ce) > 0
    uniq, ev, ce = uniq[keep], ev[keep], ce[keep]
    removed = ev + ce
    at_risk = removed[::-1].cumsum()[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(at_risk > 0, 1.0 - ev / np.maximum(at_risk, 1), 1.0)
        survival = np.cumprod(factor)
        n = at_risk.astype(float)
        term = np.where(n > ev, ev / (n * (n - ev)), 0.0)
        var = np.cumsum(term)
        z = NormalDist().inv_cdf(1 - alpha / 2)
        log_s = np.log(survival)
        spread = z * np.sqrt(var) / log_s
        lower = np.exp(-np.exp(np.log(-log_s) - spread))
        upper = np.exp(-np.exp(np.log(-log_s) + spread))
    one = survival >= 1.0
    zero = survival <= 0.0
    lower = np.where(one, 1.0, np.where(zero, 0.0, lower))
    upper = np.where(one, 1.0, np.where(zero, 0.0, upper))
    return SurvivalCurve(duration=uniq, at_risk=at_risk.astype(np.int64), events=ev,
                         censored=ce, survival=survival, ci_lower=lower, ci_upper=upper,
                         alpha=alpha)


def kaplan_meier_observations(durations: Sequence[float] | np.ndarray,
                              observed: Sequence[bool] | np.ndarray,
                              alpha: float = 0.05) -> SurvivalCurve:
    """The product-limit estimate from one duration and one observed flag per subject."""
    o = np.asarray(observed, dtype=bool)
    return kaplan_meier(durations, o.astype(np.int64), (~o).astype(np.int64), alpha)


def _nice_width(raw: float) -> tuple[float, int]:
    """The smallest 1, 2 or 5 times a power of ten at least ``raw``, and that power."""
    exponent = math.floor(math.log10(raw))
    for step in (1, 2, 5, 10):
        if step * 10.0 ** exponent >= raw * (1 - 1e-12):
            if step == 10:
                return 10.0 ** (exponent + 1), exponent + 1
            return step * 10.0 ** exponent, exponent
    return 10.0 ** (exponent + 1), exponent + 1  # pragma: no cover


def nice_bins(low: float | None, high: float | None, upto: float | None,
              target: int = 10) -> list[tuple[float, float]]:
    """Histogram bins ``(lo, hi)`` for values from ``low`` to ``high``.

    Equal bins of a round width (1, 2 or 5 times a power of ten) cover ``low`` up to just
    past ``upto`` (a high percentile, so one extreme value does not squash every other bar
    into the first bin) in about ``target`` bins; values beyond them go into one last,
    wider bin that ends at ``high``. A value belongs to the bin with ``lo <= value < hi``;
    the last bin also holds ``hi``. All values equal: one bin ``(low, low)``.
    """
    if low is None or high is None:
        return []
    if target < 1:
        raise ValueError("target must be 1 or more")
    if high <= low:
        return [(float(low), float(low))]
    top_of_body = upto if upto is not None and low < upto <= high else high
    width, exponent = _nice_width((top_of_body - low) / target)
    digits = max(0, -exponent) + 2
    first = math.floor(low / width + 1e-9)
    count = math.floor((top_of_body - first * width) / width + 1e-9) + 1
    edges = [round((first + k) * width, digits) for k in range(count + 1)]
    # Never let rounding push the first edge above the lowest value.
    edges[0] = min(edges[0], float(low))
    bins = list(zip(edges[:-1], edges[1:], strict=True))
    if edges[-1] <= high:
        bins.append((edges[-1], float(high)))
    return bins
