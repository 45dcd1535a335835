"""The engine: canonical events in, Ibis tables of accounts, cases, holds and a summary out.

Pure Ibis expressions, so the same definitions run on DuckDB (the default), Spark, or a
warehouse. Nothing here reads files or prints; :func:`measure` is the entry point.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir

from valueclock.engine import business as _business
from valueclock.engine import cases as _cases
from valueclock.engine import distributions as _distributions
from valueclock.engine import journeys as _journeys
from valueclock.engine import slices as _slices
from valueclock.engine import survival as _survival
from valueclock.engine import teams as _teams
from valueclock.engine import whatif as _whatif
from valueclock.engine.prepare import PROBLEMS, flag, prepare
from valueclock.engine.summary import Stat, days_text, law
from valueclock.schema import EVENT_COLUMNS
from valueclock.stats import SurvivalCurve, kaplan_meier

if TYPE_CHECKING:
    from valueclock.calendar import Calendar

__all__ = ["Measurement", "measure", "Stat", "days_text", "law", "PROBLEMS"]


def _where(source: str | None, row: int | None) -> str:
    if source is None:
        return ""
    if row is None:
        return f"{source}: "
    word = "row" if source.lower().endswith((".parquet", ".pq")) else "line"
    return f"{source} {word} {row}: "


class Measurement:
    """Everything valueclock measures from one event log, for one ``as_of``.

    The tables are Ibis expressions: call ``.to_pyarrow()``, ``.to_pandas()`` or
    ``.execute()`` on them, or keep composing. With ``cache=True`` the intermediate
    tables are materialised once on the backend, which makes several outputs from one
    measurement cheaper.
    """

    def __init__(self, events: ir.Table, *, accounts: ir.Table | None = None,
                 as_of: datetime | None = None, lookback_days: float | None = None,
                 cache: bool = False, calendar: Calendar | None = None,
                 scale: Mapping[str, float] | None = None) -> None:
        if lookback_days is not None and lookback_days < 0:
            raise ValueError("lookback_days must be zero or more")
        self._cache = cache
        self._attributes_table = accounts
        self.lookback_days = lookback_days
        #: Business hours to measure the clock in (None: calendar hours).
        self.calendar: Calendar | None = calendar
        #: What-if factors: each team's hours holding a case multiplied by its factor.
        self.scale: dict[str, float] = _whatif.check_scale(scale)
        prepared = prepare(events, as_of, keep=self._keep)
        self.as_of: datetime = prepared.as_of
        self._as_of_us = prepared.as_of_us
        self.events: ir.Table = prepared.usable
        self._input_problems = prepared.problems
        self.case_attributes: list[str] = [
            c for c in self.events.columns if c not in EVENT_COLUMNS and not c.startswith("_")]

    def _keep(self, table: ir.Table) -> ir.Table:
        return table.cache() if self._cache else table

    @cached_property
    def _case_events(self) -> ir.Table:
        return self._keep(_cases.case_events(self.events))

    @cached_property
    def timeline(self) -> ir.Table:
        """Measured case events with the clock's state, holder and running time."""
        tl = _cases.timeline(self._case_events, self._as_of_us)
        if self.calendar is not None:
            tl = _business.timeline_in_business_hours(
                tl, self.calendar, self._case_events._us.min(), self._as_of_us)
        return self._keep(_whatif.apply_scale(tl, self.scale))

    @cached_property
    def team_stats(self) -> ir.Table:
        """One row per team: cases it held, hours, shares, passes in and out, ping-pong
        cases, and the value events it delivered before and after the sale (see
        ``docs/teams-calendar-whatif.md``)."""
        return _teams.team_stats(self.timeline, self.cases, self.events, self.lookback_days)

    def what_if(self, scale: Mapping[str, float]) -> Measurement:
        """The same measurement as if each team in ``scale`` held each case for its factor
        times as long (on top of this measurement's own scale)."""
        other = copy.copy(self)
        for name, attr in vars(Measurement).items():  # forget what the clock gave
            if isinstance(attr, cached_property) and name != "_case_events":
                other.__dict__.pop(name, None)
        other.scale = {**self.scale, **_whatif.check_scale(scale)}
        return other

    def hours_keys(self) -> dict[str, Any]:
        """The report keys that say how hours are counted: ``calendar`` and ``scale``."""
        return {"calendar": None if self.calendar is None else self.calendar.describe(),
                "scale": dict(self.scale)}

    @cached_property
    def cases(self) -> ir.Table:
        """One row per measured case: see ``docs/metric.md``."""
        return self._keep(_cases.cases(self.timeline, self.case_attributes)
                          .order_by("started_at", "case_id"))

    @cached_property
    def holds(self) -> ir.Table:
        """One row per case and team that held its clock: ``case_id, account_id, team, hours``."""
        h = _cases.holds(self.timeline, self.cases)
        return h.order_by(h.case_id, h._from, h.team).drop("_from")

    @cached_property
    def accounts(self) -> ir.Table:
        """One row per sold account: see ``docs/metric.md``."""
        return self._keep(_journeys.accounts(
            self.events, self.cases, self._as_of_us, self.lookback_days,
            self._attributes_table).order_by("account_id"))

    @cached_property
    def problems(self) -> ir.Table:
        """One row per data problem: ``problem, source, row, detail``."""
        parts = [self._input_problems, _cases.case_problems(self._case_events),
                 _cases.other_account_problems(self.timeline, self.cases)]
        if self._attributes_table is not None:
            parts.append(_journeys.attribute_problems(self._attributes_table, self.events))
        return self._keep(ibis.union(*parts))

    def problem_summary(self, examples: int = 3) -> list[dict[str, Any]]:
        """Each problem class found, with its count and a few examples, as dicts."""
        p = self.problems
        counts = p.group_by(p.problem).aggregate(count=p.count()).to_pyarrow().to_pylist()
        w = ibis.window(group_by=p.problem, order_by=[p.source, p.row])
        ranked = p.mutate(_k=ibis.row_number().over(w))
        first = ranked.filter(ranked._k < examples).order_by("problem", "_k")
        found: dict[str, list[str]] = {}
        for r in first.to_pyarrow().to_pylist():
            found.setdefault(r["problem"], []).append(_where(r["source"], r["row"]) + r["detail"])
        order = list(PROBLEMS)
        out = [{"problem": c["problem"], "description": PROBLEMS.get(c["problem"], ""),
                "count": int(c["count"]), "examples": found.get(c["problem"], [])}
               for c in counts]
        return sorted(out, key=lambda d: order.index(d["problem"]) if d["problem"] in order
                      else len(order))

    def teams(self) -> list[dict[str, Any]]:
        """Hours each team held the clock, over all cases (open ones to ``as_of``)."""
        h = self.holds
        t = h.group_by(h.team).aggregate(hours=h.hours.sum(), cases=h.case_id.nunique())
        rows = t.order_by(ibis.desc("hours"), "team").to_pyarrow().to_pylist()
        return [{"team": r["team"], "hours": float(r["hours"]), "cases": int(r["cases"])}
                for r in rows]

    def survival(self, part: str = "ttv_after", alpha: float = 0.05) -> SurvivalCurve:
        """The Kaplan-Meier curve of ``ttv_after`` (accounts still waiting censored at
        ``waiting_days``) or ``smile`` (open cases censored at ``open_hours``)."""
        p = _survival.km_part(part)
        table = self.accounts if p.table == "accounts" else self.cases
        return _survival.curves(table, p, alpha=alpha).get(None) or kaplan_meier([], [], [])

    def distributions(self, bins: int = 10) -> dict[str, Any]:
        """Percentiles and histogram bins of each part (``distributions`` of the report)."""
        return _distributions.distributions(self.accounts, self.cases, bins)

    def in_bin(self, part: str, index: int, bins: int = 10) -> ir.Table:
        """The accounts (for ``smile_hours``: the cases) inside bin ``index`` of ``part``'s
        distribution made with ``bins``."""
        return _distributions.in_bin(self.accounts, self.cases, part, index, bins)

    def summary(self, stat: str | Stat = "median", *, target_days: float = 0.0,
                by: str | None = None, every: str | None = None, min_size: int = 30,
                bins: int = 10) -> dict[str, Any]:
        """The report as a dict: the keys of ``valueclock report --format json``.

        ``target_days`` is the target of ``accounts_meeting_target``; ``by`` an attribute
        to slice by (``slices``); ``every`` ``week``, ``month`` or ``quarter``
        (``periods``); slices and periods with fewer than ``min_size`` accounts or cases
        are flagged ``small``; ``bins`` is how many histogram bins distributions aim at.
        See ``docs/report-json.md``.
        """
        stat = Stat.parse(stat) if isinstance(stat, str) else stat
        a, c = self.accounts, self.cases
        acc = a.aggregate(
            sold=a.count(),
            reached=flag(a.value_reached).sum(),
            waiting=flag(~a.value_reached).sum(),
            before=stat.of(a.ttv_before_days),
            after=stat.of(a.ttv_after_days, where=a.value_reached),
        ).to_pyarrow().to_pylist()[0]
        cs = c.aggregate(
            n=c.count(),
            resolved=flag(c.resolved).sum(),
            smile=stat.of(c.smile_hours),
        ).to_pyarrow().to_pylist()[0]
        seen = self.events.account_id.nunique().to_pyarrow().as_py()
        sold = int(acc["sold"] or 0)
        reached = int(acc["reached"] or 0)
        before = _num(acc["before"]) if sold else None
        after = _num(acc["after"]) if reached else None
        smile = _num(cs["smile"])
        total = law(before, after, smile)
        n_cases, resolved = int(cs["n"] or 0), int(cs["resolved"] or 0)
        base = {
            "as_of": iso(self.as_of),
            "stat": stat.name,
            "lookback_days": self.lookback_days,
            "accounts": int(seen or 0),
            "prospects": int(seen or 0) - sold,
            "sold_accounts": sold,
            "value_reached_accounts": reached,
            "waiting_accounts": int(acc["waiting"] or 0),
            "cases": n_cases,
            "resolved_cases": resolved,
            "open_cases": n_cases - resolved,
            "ttv_before_days": before,
            "ttv_after_days": after,
            "smile_hours": smile,
            "smile_days": None if smile is None else smile / 24.0,
            "ttcv_days": total,
            "ttcv_text": days_text(total),
            **self.hours_keys(),
            "teams": self.teams(),
            "data_problems": self.problem_summary(),
        }
        return _slices.extend(self, base, stat, target_days=target_days, by=by,
                              every=every, min_size=min_size, bins=bins)


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def iso(moment: datetime | None) -> str | None:
    """A naive UTC moment as ISO 8601 with ``Z`` (microseconds only when present)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=None).isoformat() + "Z"


def measure(events: ir.Table, *, accounts: ir.Table | None = None,
            as_of: datetime | None = None, lookback_days: float | None = None,
            cache: bool = False) -> Measurement:
    """Measure an Ibis table of canonical events (timestamps naive UTC).

    ``accounts`` is an optional table of account attributes; ``as_of`` (naive UTC)
    defaults to the latest usable timestamp; ``lookback_days`` limits how far before the
    sale a value event counts.
    """
    return Measurement(events, accounts=accounts, as_of=as_of, lookback_days=lookback_days,
                       cache=cache)
