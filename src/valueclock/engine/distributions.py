"""Distributions of each part: percentiles, histogram bins, and who is inside a bin.

Each part is taken over the same rows as its summary statistic: ``ttv_before_days`` over
all sold accounts, ``ttv_after_days`` and ``ttcv_days`` over the accounts that reached
value, ``smile_hours`` over resolved cases. The unfinished ones (accounts still waiting,
open cases) have no value yet; they are counted beside each distribution as
``unfinished``, never dropped without a word.

Bins are chosen from the data (see :func:`valueclock.stats.nice_bins`); the counts and
:func:`in_bin` use the same comparisons ``lo <= value < hi`` (the last bin also holds
``hi``), so the rows of a bin always number its count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis.expr.types as ir

from valueclock.engine.prepare import flag
from valueclock.errors import UsageError
from valueclock.stats import PERCENTILES, nice_bins, percentile_name

__all__ = ["DIST_PARTS", "DistPart", "bins_of", "distributions", "in_bin", "parse_bin"]

#: Bins a distribution aims at when not told otherwise.
DEFAULT_BINS = 10


@dataclass(frozen=True)
class DistPart:
    """A part of the law whose values are distributed."""

    name: str      # the column, and the summary key
    table: str     # accounts or cases
    unit: str      # days or hours
    over: str      # the rows it is taken over, for people
    unfinished: str | None  # boolean column: true for rows that have no value yet


DIST_PARTS: dict[str, DistPart] = {
    "ttv_before_days": DistPart("ttv_before_days", "accounts", "days", "sold accounts", None),
    "ttv_after_days": DistPart("ttv_after_days", "accounts", "days",
                               "sold accounts that reached value", "_waiting"),
    "smile_hours": DistPart("smile_hours", "cases", "hours", "resolved cases", "_open"),
    "ttcv_days": DistPart("ttcv_days", "accounts", "days",
                          "sold accounts that reached value", "_waiting"),
}


def _flags(accounts: ir.Table, cases: ir.Table) -> dict[str, ir.Table]:
    return {"accounts": accounts.mutate(_waiting=~accounts.value_reached),
            "cases": cases.mutate(_open=~cases.resolved)}


def _stats(tables: dict[str, ir.Table]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for table_name, t in tables.items():
        parts = [p for p in DIST_PARTS.values() if p.table == table_name]
        aggs: dict[str, ir.Value] = {}
        for p in parts:
            x = t[p.name]
            aggs[f"{p.name}__count"] = x.count()
            aggs[f"{p.name}__min"] = x.min()
            aggs[f"{p.name}__max"] = x.max()
            if p.unfinished:
                aggs[f"{p.name}__unfinished"] = flag(t[p.unfinished]).sum()
            for i, q in enumerate(PERCENTILES):
                aggs[f"{p.name}__q{i}"] = x.quantile(q)
        row = t.aggregate(**aggs).to_pyarrow().to_pylist()[0]
        for p in parts:
            n = int(row[f"{p.name}__count"] or 0)
            out[p.name] = {
                "count": n,
                "unfinished": int(row.get(f"{p.name}__unfinished") or 0),
                "min": _num(row[f"{p.name}__min"]) if n else None,
                "max": _num(row[f"{p.name}__max"]) if n else None,
                "percentiles": {percentile_name(q): (_num(row[f"{p.name}__q{i}"]) if n
                                                     else None)
                                for i, q in enumerate(PERCENTILES)},
            }
    return out


def _num(v: Any) -> float | None:
    return None if v is None else float(v)


def _in(x: ir.NumericValue, lo: float, hi: float, first: bool, last: bool) -> ir.BooleanValue:
    """``lo <= x < hi`` (the last bin: ``x <= hi``), for a bin of a distribution.

    The first bin starts at the lowest value and the last ends at the highest, so neither
    compares with its outer edge: those edges are raw values, and an engine may read a
    17-digit literal as a decimal that does not round back to the same double (DuckDB 1.x
    does), which would leave the lowest or highest value out of every bin. Inner edges are
    round numbers, exact in any engine.
    """
    inside = x.notnull()
    if not first:
        inside &= x >= lo
    if not last:
        inside &= x < hi
    return inside


def bins_of(stats: dict[str, Any], target: int = DEFAULT_BINS) -> list[tuple[float, float]]:
    """The bins of one part from its statistics (``min``, ``max``, ``percentiles``)."""
    return nice_bins(stats["min"], stats["max"], stats["percentiles"]["p95"], target)


def distributions(accounts: ir.Table, cases: ir.Table,
                  bins: int = DEFAULT_BINS) -> dict[str, dict[str, Any]]:
    """Per part: ``unit, over, count, unfinished, min, max, percentiles, bins``.

    ``bins`` is a list of ``{"bin", "lo", "hi", "count"}``; ``bin`` numbers them from 0 and
    is what :func:`in_bin` takes.
    """
    if bins < 1:
        raise UsageError("bins must be 1 or more")
    tables = _flags(accounts, cases)
    stats = _stats(tables)
    edges = {name: bins_of(s, bins) for name, s in stats.items()}
    counts: dict[str, list[int]] = {}
    for table_name, t in tables.items():
        aggs: dict[str, ir.Value] = {}
        for p in DIST_PARTS.values():
            if p.table != table_name:
                continue
            for k, (lo, hi) in enumerate(edges[p.name]):
                last = k == len(edges[p.name]) - 1
                aggs[f"{p.name}__{k}"] = flag(_in(t[p.name], lo, hi, k == 0, last)).sum()
        if not aggs:
            continue
        row = t.aggregate(**aggs).to_pyarrow().to_pylist()[0]
        for p in DIST_PARTS.values():
            if p.table == table_name:
                counts[p.name] = [int(row[f"{p.name}__{k}"] or 0)
                                  for k in range(len(edges[p.name]))]
    out: dict[str, dict[str, Any]] = {}
    for name, p in DIST_PARTS.items():
        s = stats[name]
        out[name] = {
            "unit": p.unit,
            "over": p.over,
            **s,
            "bins": [{"bin": k, "lo": lo, "hi": hi, "count": c}
                     for k, ((lo, hi), c) in enumerate(zip(edges[name], counts.get(name, []),
                                                           strict=True))],
        }
    return out


def parse_bin(text: str) -> tuple[str, int]:
    """``PART:INDEX`` such as ``ttv_after_days:3``."""
    part, sep, index = text.rpartition(":")
    if not sep or part not in DIST_PARTS or not index.strip().isdigit():
        raise UsageError(f"cannot read bin {text!r}: use PART:INDEX, PART one of "
                         + ", ".join(DIST_PARTS) + " and INDEX the bin number of the "
                         "report's distributions (from 0)")
    return part, int(index)


def in_bin(accounts: ir.Table, cases: ir.Table, part: str, index: int,
           bins: int = DEFAULT_BINS) -> ir.Table:
    """The accounts (or, for ``smile_hours``, the cases) inside one bin of a distribution.

    ``bins`` must be the one the distribution was made with. Raises ``UsageError`` for a
    bin that does not exist.
    """
    if part not in DIST_PARTS:
        raise UsageError(f"unknown part {part!r} (use {', '.join(DIST_PARTS)})")
    p = DIST_PARTS[part]
    stats = _stats({p.table: _flags(accounts, cases)[p.table]})[part]
    edges = bins_of(stats, bins)
    if not 0 <= index < len(edges):
        raise UsageError(f"{part} has {len(edges)} bins (0 to {len(edges) - 1}); "
                         f"there is no bin {index}")
    t = accounts if p.table == "accounts" else cases
    lo, hi = edges[index]
    return t.filter(_in(t[part], lo, hi, index == 0, index == len(edges) - 1))
