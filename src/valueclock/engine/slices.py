"""The summary per slice (value of an attribute) and per period, and the report's new keys.

One grouped query per table, whatever the number of slices or periods: the accounts, the
cases, the accounts seen, the hours held, and the Kaplan-Meier counts are each aggregated
once by a group key ``_g``; the summary of each group is then put together in Python from
those few rows. Without a key the same code gives the report-wide figures, so a slice,
a period and the whole report are computed alike.

* **Slices** (``by``): an *account attribute* (a column of the accounts table) puts each
  account, its cases and the hours held in them in the slice of its value; a *case
  attribute* (a column of the log, taken from the case's interruption) slices the cases
  only, and the account figures of such a slice are ``None``. Accounts with no row in the
  accounts table, and null values, are the ``None`` slice: counts add up to the totals.
* **Periods** (``every``): Time to Value by sale cohort (the period of ``sale_at``), Time
  to Smile by the period of the case's ``started_at``; UTC calendar weeks (ISO, from
  Monday), months or quarters, every period from the first to the last that has any.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

import ibis.expr.types as ir

from valueclock.engine.journeys import ACCOUNT_COLUMNS, latest_attributes
from valueclock.engine.prepare import flag
from valueclock.engine.summary import Stat, days_text, law
from valueclock.engine.survival import KM_PARTS, curves
from valueclock.errors import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from valueclock.engine import Measurement

__all__ = ["DEFAULT_MIN_SIZE", "EVERY", "REPORT_WIDE", "SETTINGS", "account_attributes", "extras",
           "periods", "resolve_attribute", "slices"]

#: Periods ``every`` accepts, and the Ibis truncation unit of each.
EVERY = {"week": "W", "month": "M", "quarter": "Q"}

#: Slices (and periods) with fewer sold accounts or cases than this are flagged ``small``.
DEFAULT_MIN_SIZE = 30

#: Keys of a slice or period object that belong to the whole report: null inside them.
REPORT_WIDE = ("data_problems", "distributions", "slices", "periods")

#: Keys that say how the report was made: a slice or period has the report's values.
#: (Any other key of the report a slice does not compute is null in the slice.)
SETTINGS = ("as_of", "stat", "lookback_days", "target_days", "calendar", "scale")

_NO_GROUP = "__all__"


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def _groups(table: ir.Table, key: str | None, **aggs: ir.Value) -> dict[Hashable, dict]:
    grouped = table.group_by("_g").aggregate(**aggs) if key else table.aggregate(**aggs)
    return {(r.pop("_g") if key else _NO_GROUP): r
            for r in grouped.to_pyarrow().to_pylist()}


def _account_figures(a: ir.Table, stat: Stat, target_days: float,
                     key: str | None) -> dict[Hashable, dict[str, Any]]:
    reached = a.value_reached
    rows = _groups(
        a, key,
        sold=a.count(),
        reached=flag(reached).sum(),
        waiting=flag(~reached).sum(),
        before=stat.of(a.ttv_before_days),
        after=stat.of(a.ttv_after_days, where=reached),
        own=stat.of(a.ttcv_days, where=reached),
        meeting=flag(reached & (a.ttcv_days <= target_days)).sum(),
    )
    out = {}
    for g, r in rows.items():
        sold, n_reached = int(r["sold"] or 0), int(r["reached"] or 0)
        meeting = int(r["meeting"] or 0)
        out[g] = {
            "sold_accounts": sold,
            "value_reached_accounts": n_reached,
            "waiting_accounts": int(r["waiting"] or 0),
            "ttv_before_days": _num(r["before"]) if sold else None,
            "ttv_after_days": _num(r["after"]) if n_reached else None,
            "account_ttcv_days": _num(r["own"]) if n_reached else None,
            "accounts_meeting_target": meeting / n_reached if n_reached else None,
            "accounts_meeting_target_count": meeting,
            "accounts_unknown": int(r["waiting"] or 0),
        }
    return out


def _case_figures(c: ir.Table, stat: Stat, key: str | None) -> dict[Hashable, dict[str, Any]]:
    rows = _groups(c, key, n=c.count(), resolved=flag(c.resolved).sum(),
                   smile=stat.of(c.smile_hours))
    out = {}
    for g, r in rows.items():
        n, resolved = int(r["n"] or 0), int(r["resolved"] or 0)
        out[g] = {"cases": n, "resolved_cases": resolved, "open_cases": n - resolved,
                  "smile_hours": _num(r["smile"]) if resolved else None}
    return out


def _km(table: ir.Table, part: str, stat: Stat, key: str | None) -> dict[Hashable, Any]:
    if stat.quantile is None:
        return {}
    found = curves(table, KM_PARTS[part], table._g if key else None)
    return {(g if key else _NO_GROUP): c.quantile(stat.quantile) for g, c in found.items()}


def _teams(holds: ir.Table, key: str | None) -> dict[Hashable, list[dict[str, Any]]]:
    group = ["_g", "team"] if key else ["team"]
    t = holds.group_by(group).aggregate(hours=holds.hours.sum(),
                                        cases=holds.case_id.nunique())
    out: dict[Hashable, list[dict[str, Any]]] = {}
    for r in t.to_pyarrow().to_pylist():
        out.setdefault(r["_g"] if key else _NO_GROUP, []).append(
            {"team": r["team"], "hours": float(r["hours"]), "cases": int(r["cases"])})
    for rows in out.values():
        rows.sort(key=lambda r: (-r["hours"], r["team"]))
    return out


def extras(m: Measurement, stat: Stat, target_days: float = 0.0) -> dict[str, Any]:
    """The report-wide keys added by Kaplan-Meier and the customer's own total."""
    acc = _account_figures(m.accounts, stat, target_days, None).get(_NO_GROUP, {})
    km_after = _km(m.accounts, "ttv_after", stat, None).get(_NO_GROUP)
    km_smile = _km(m.cases, "smile", stat, None).get(_NO_GROUP)
    return {
        "ttv_after_days_km": km_after,
        "smile_hours_km": km_smile,
        "account_ttcv_days": acc.get("account_ttcv_days"),
        "target_days": float(target_days),
        "accounts_meeting_target": acc.get("accounts_meeting_target"),
        "accounts_meeting_target_count": acc.get("accounts_meeting_target_count", 0),
        "accounts_unknown": acc.get("accounts_unknown", 0),
    }


def _summary(base: dict[str, Any], acc: dict[str, Any] | None, cs: dict[str, Any],
             seen: int | None, teams: list[dict[str, Any]], km_after: float | None,
             km_smile: float | None) -> dict[str, Any]:
    """A summary object with every key of ``base``, from one group's figures."""
    figures: dict[str, Any] = {k: base[k] for k in SETTINGS if k in base}
    sold = acc["sold_accounts"] if acc is not None else None
    figures["accounts"] = seen
    figures["prospects"] = None if seen is None or sold is None else seen - sold
    account_keys = ("sold_accounts", "value_reached_accounts", "waiting_accounts",
                    "ttv_before_days", "ttv_after_days", "account_ttcv_days",
                    "accounts_meeting_target", "accounts_meeting_target_count",
                    "accounts_unknown")
    for k in account_keys:
        figures[k] = acc[k] if acc is not None else None
    figures.update(cs)
    smile = cs["smile_hours"]
    figures["smile_days"] = None if smile is None else smile / 24.0
    total = law(figures["ttv_before_days"], figures["ttv_after_days"], smile)
    figures["ttcv_days"] = total
    figures["ttcv_text"] = days_text(total)
    figures["teams"] = teams
    figures["ttv_after_days_km"] = km_after if acc is not None else None
    figures["smile_hours_km"] = km_smile
    out = {k: figures.get(k) for k in base}
    for k in figures:
        out.setdefault(k, figures[k])
    for k in REPORT_WIDE:
        out[k] = None
    return out


_EMPTY_ACC = {"sold_accounts": 0, "value_reached_accounts": 0, "waiting_accounts": 0,
              "ttv_before_days": None, "ttv_after_days": None, "account_ttcv_days": None,
              "accounts_meeting_target": None, "accounts_meeting_target_count": 0,
              "accounts_unknown": 0}
_EMPTY_CASES = {"cases": 0, "resolved_cases": 0, "open_cases": 0, "smile_hours": None}


def account_attributes(m: Measurement) -> list[str]:
    """Attributes of the accounts table that can slice (those the accounts table shows)."""
    return [c for c in m.accounts.columns if c not in ACCOUNT_COLUMNS]


def resolve_attribute(m: Measurement, name: str) -> tuple[str, str]:
    """``(level, column)`` of an attribute: ``account`` or ``case``.

    ``account:NAME`` and ``case:NAME`` choose when both have the name; a bare name is an
    account attribute when the accounts table has it, else a case attribute.
    """
    level, sep, column = name.partition(":")
    accounts, cases = account_attributes(m), list(m.case_attributes)
    if sep:
        if level not in ("account", "case"):
            raise UsageError(f"cannot read attribute {name!r}: use NAME, account:NAME or "
                             "case:NAME")
        known = accounts if level == "account" else cases
        if column not in known:
            raise UsageError(_unknown(name, accounts, cases))
        return level, column
    if name in accounts:
        return "account", name
    if name in cases:
        return "case", name
    raise UsageError(_unknown(name, accounts, cases))


def _unknown(name: str, accounts: list[str], cases: list[str]) -> str:
    return (f"no attribute {name!r} to slice by. Account attributes (from --accounts): "
            f"{', '.join(accounts) or 'none'}; case attributes (extra columns of the log): "
            f"{', '.join(cases) or 'none'}")


def _sort_key(value: Any) -> tuple:
    return (value is None, value if value is not None else 0)


def slices(m: Measurement, base: dict[str, Any], stat: Stat, by: str,
           target_days: float = 0.0, min_size: int = DEFAULT_MIN_SIZE) -> list[dict[str, Any]]:
    """The summary per value of ``by`` (see the module's docstring), nulls last.

    Each object has ``by``, ``level`` (``account`` or ``case``), ``value`` and ``small``
    (fewer than ``min_size`` sold accounts, or cases for a case attribute), then every key
    of ``base`` (the report-wide ones null).
    """
    level, column = resolve_attribute(m, by)
    if level == "account":
        attrs = latest_attributes(m._attributes_table)
        attrs = attrs.select(_acc=attrs.account_id, _g=attrs[column])
        a = m.accounts.mutate(_g=m.accounts[column])
        c = m.cases.left_join(attrs, m.cases.account_id == attrs._acc).drop("_acc")
        ev = m.events.select("account_id").distinct()
        seen_t = ev.left_join(attrs, ev.account_id == attrs._acc)
        seen = {r["_g"]: int(r["n"]) for r in
                seen_t.group_by("_g").aggregate(n=seen_t.count()).to_pyarrow().to_pylist()}
        acc = _account_figures(a, stat, target_days, "_g")
        km_after = _km(a, "ttv_after", stat, "_g")
    else:
        c = m.cases.mutate(_g=m.cases[column])
        seen, acc, km_after = {}, {}, {}
    cs = _case_figures(c, stat, "_g")
    km_smile = _km(c, "smile", stat, "_g")
    h = m.holds
    owners = c.select(_case=c.case_id, _g=c._g)
    teams = _teams(h.join(owners, h.case_id == owners._case), "_g")
    values = sorted(set(acc) | set(cs) | set(seen), key=_sort_key)
    out = []
    for v in values:
        g_acc = acc.get(v, _EMPTY_ACC) if level == "account" else None
        summary = _summary(base, g_acc, cs.get(v, _EMPTY_CASES),
                           seen.get(v, 0) if level == "account" else None,
                           teams.get(v, []), km_after.get(v), km_smile.get(v))
        size = g_acc["sold_accounts"] if g_acc is not None else summary["cases"]
        out.append({"by": column, "level": level, "value": v, "small": size < min_size,
                    **summary})
    return out


def _period_label(start: datetime, every: str) -> str:
    if every == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if every == "month":
        return f"{start.year}-{start.month:02d}"
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def _next_period(start: datetime, every: str) -> datetime:
    if every == "week":
        return start + timedelta(days=7)
    months = 1 if every == "month" else 3
    month = start.month - 1 + months
    return start.replace(year=start.year + month // 12, month=month % 12 + 1)


def parse_every(every: str) -> str:
    """``week``, ``month`` or ``quarter`` (case-insensitive; ``weekly`` and so on too)."""
    key = every.strip().lower()
    key = {"weekly": "week", "monthly": "month", "quarterly": "quarter"}.get(key, key)
    if key not in EVERY:
        raise UsageError(f"unknown period {every!r} (use {', '.join(EVERY)})")
    return key


def periods(m: Measurement, base: dict[str, Any], stat: Stat, every: str,
            target_days: float = 0.0, min_size: int = DEFAULT_MIN_SIZE) -> list[dict[str, Any]]:
    """The summary per period: accounts by sale cohort, cases by the period they started.

    Each object has ``period`` (``2025-W03``, ``2025-01``, ``2025-Q1``), ``start`` and
    ``end`` (UTC, end excluded) and ``small`` (fewer than ``min_size`` sold accounts or
    fewer than ``min_size`` cases), then every key of ``base``; ``accounts`` and
    ``prospects`` are null (a prospect has no sale, so no cohort), as are the report-wide
    keys.
    """
    every = parse_every(every)
    unit = EVERY[every]
    a = m.accounts.mutate(_g=m.accounts.sale_at.truncate(unit))
    c = m.cases.mutate(_g=m.cases.started_at.truncate(unit))
    acc = _account_figures(a, stat, target_days, "_g")
    cs = _case_figures(c, stat, "_g")
    km_after = _km(a, "ttv_after", stat, "_g")
    km_smile = _km(c, "smile", stat, "_g")
    h = m.holds
    owners = c.select(_case=c.case_id, _g=c._g)
    teams = _teams(h.join(owners, h.case_id == owners._case), "_g")
    starts = sorted(_naive(g) for g in set(acc) | set(cs) if g is not None)
    acc = {_naive(g): v for g, v in acc.items()}
    cs = {_naive(g): v for g, v in cs.items()}
    km_after = {_naive(g): v for g, v in km_after.items()}
    km_smile = {_naive(g): v for g, v in km_smile.items()}
    teams = {_naive(g): v for g, v in teams.items()}
    out = []
    if not starts:
        return out
    start, last = starts[0], starts[-1]
    while start <= last:
        end = _next_period(start, every)
        g_acc = acc.get(start, _EMPTY_ACC)
        g_cs = cs.get(start, _EMPTY_CASES)
        summary = _summary(base, g_acc, g_cs, None, teams.get(start, []),
                           km_after.get(start), km_smile.get(start))
        out.append({"period": _period_label(start, every), "start": _iso(start),
                     "end": _iso(end),
                     "small": g_acc["sold_accounts"] < min_size or g_cs["cases"] < min_size,
                     **summary})
        start = end
    return out


def _naive(moment: Any) -> Any:
    if isinstance(moment, datetime):
        return moment.replace(tzinfo=None)
    return moment


def _iso(moment: datetime) -> str:
    return moment.isoformat() + "Z"


def extend(m: Measurement, base: dict[str, Any], stat: Stat, *, target_days: float = 0.0,
           by: str | None = None, every: str | None = None,
           min_size: int = DEFAULT_MIN_SIZE, bins: int = 10) -> dict[str, Any]:
    """``base`` (the report's original keys) with every key this module adds.

    ``distributions`` always; ``slices`` and ``periods`` are null unless ``by`` / ``every``
    ask for them. The base keys are left as they are (a contract: extended, never renamed).
    """
    from valueclock.engine.distributions import distributions

    if min_size < 0:
        raise UsageError("min_size must be zero or more")
    view = _Materialised(m)
    try:
        out = dict(base)
        out.update(extras(view, stat, target_days))
        out["distributions"] = distributions(view.accounts, view.cases, bins)
        out["slices"] = None
        out["periods"] = None
        if by is not None:
            out["slices"] = slices(view, out, stat, by, target_days, min_size)
        if every is not None:
            out["periods"] = periods(view, out, stat, every, target_days, min_size)
    finally:
        view.release()
    return out


class _Materialised:
    """A measurement's tables, each materialised once on the backend while the report's
    many small queries run (unless the measurement caches them already): compiling the
    whole clock again for each query would cost more than the queries themselves."""

    def __init__(self, m: Measurement) -> None:
        self._m = m
        self._made: list[ir.Table] = []
        self.events = m.events
        self._attributes_table = m._attributes_table
        self.case_attributes = m.case_attributes

    def _materialise(self, table: ir.Table) -> ir.Table:
        if getattr(self._m, "_cache", False):
            return table
        try:
            cached = table.cache()
        except NotImplementedError:  # pragma: no cover - a backend without temp tables
            return table
        self._made.append(cached)
        return cached

    @cached_property
    def accounts(self) -> ir.Table:
        return self._materialise(self._m.accounts)

    @cached_property
    def cases(self) -> ir.Table:
        return self._materialise(self._m.cases)

    @cached_property
    def holds(self) -> ir.Table:
        return self._materialise(self._m.holds)

    def release(self) -> None:
        for table in self._made:
            table.release()
        self._made.clear()
