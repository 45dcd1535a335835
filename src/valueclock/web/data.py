"""The dashboard's data: one measurement made at startup, filtered views made on demand.

Everything shown comes from :class:`~valueclock.engine.Measurement`; this module only
chooses which events a view measures and keeps the results in small caches:

* **The base measurement** is made once at startup (``cache=True``: the engine
  materialises its tables on DuckDB once).
* **A filter** (an attribute's value, a team) makes a *filtered measurement*: the same
  engine over a subset of the events, with the same ``as_of``, so every figure of the view
  is exactly what ``valueclock report`` prints for those events (``--as-of`` the base's).

  - an *account attribute* (``segment=Enterprise``): the events (and accounts-table rows)
    of the accounts with that value; ``(none)`` selects accounts without a value;
  - a *case attribute* (``priority=urgent``): every account event, and the events of the
    cases with that value only;
  - a *team*: every account event, and the events of the cases whose clock that team held.

* **A period** (``every=month&period=2025-03``) selects one entry of the engine's
  ``periods`` (accounts by sale cohort, cases by the period they started): the headline
  shows it, and the lists keep the accounts sold and the cases started in it.

Filtered measurements live in a small LRU cache, summaries and charts in larger ones. The
engine runs on one DuckDB connection, so its work is serialised by one lock; cached
answers need no lock. The dashboard never writes: a workspace is opened read-only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from valueclock.engine import Measurement, iso
from valueclock.engine.journeys import latest_attributes
from valueclock.engine.prepare import US_PER_HOUR
from valueclock.engine.slices import EVERY, account_attributes, parse_every, resolve_attribute
from valueclock.errors import UsageError
from valueclock.output import plain, rows
from valueclock.report.words import team_palette

__all__ = ["NONE", "Dashboard", "Filters", "LRU", "load_files", "load_workspace"]

#: The value of a filter that selects rows without a value.
NONE = "(none)"
#: Most values an attribute may have for the dashboard to slice by it.
MAX_SLICE_VALUES = 50
#: Page sizes the lists accept.
PAGE_SIZES = (25, 50, 100, 200)
_EPOCH = datetime(1970, 1, 1)


class LRU:
    """A small thread-safe least-recently-used cache."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, default: Any = None) -> Any:
        """The value of ``key`` (now the most recently used), or ``default``."""
        with self._lock:
            if key not in self._data:
                return default
            self._data.move_to_end(key)
            return self._data[key]

    def put(self, key: Hashable, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)


_MISSING = object()


@dataclass(frozen=True)
class Filters:
    """What a page or API call looks at: the view (which events are measured) and how
    they are summarised. Kept in the URL's query string."""

    stat: str = "median"
    every: str | None = "month"
    period: str | None = None
    by: str | None = None
    value: str | None = None
    team: str | None = None
    as_of: str | None = None

    @classmethod
    def parse(cls, stat: str | None = None, every: str | None = None,
              period: str | None = None, by: str | None = None, value: str | None = None,
              team: str | None = None, as_of: str | None = None,
              default_every: str | None = "month") -> Filters:
        """From query parameters: empty ones are absent; ``every`` is checked."""
        def clean(v: str | None) -> str | None:
            return v.strip() if v is not None and v.strip() != "" else None

        ev = clean(every)
        ev = default_every if every is None else (parse_every(ev) if ev else None)
        f = cls(stat=clean(stat) or "median", every=ev, period=clean(period), by=clean(by),
                value=clean(value) if clean(by) else None, team=clean(team),
                as_of=clean(as_of))
        return replace(f, period=f.period if f.every else None)

    def view_key(self) -> tuple:
        """What decides the measured events: the same key, the same measurement."""
        return (self.by if self.value is not None else None, self.value, self.team,
                self.as_of)

    def query(self, **changes: Any) -> dict[str, str]:
        """The query parameters of these filters (with ``changes``), defaults left out."""
        f = replace(self, **changes) if changes else self
        out = {}
        for name in ("stat", "every", "period", "by", "value", "team", "as_of"):
            v = getattr(f, name)
            if name == "stat" and v == "median":
                continue
            if name == "every" and v == "month":
                continue
            if name == "every" and v is None:
                v = ""
            if v is not None:
                out[name] = v
        return out

    def describe(self) -> list[str]:
        """The filters in words, for the page."""
        words = []
        if self.by and self.value is not None:
            words.append(f"{self.by} = {self.value}")
        if self.team:
            words.append(f"cases whose clock {self.team} held")
        if self.period:
            words.append(f"{self.every} {self.period}")
        if self.as_of:
            words.append(f"as of {self.as_of}")
        return words


@dataclass
class View:
    """One filtered measurement and what the dashboard shows of it."""

    filters: Filters
    m: Measurement
    summary: dict[str, Any]
    period: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def headline(self) -> dict[str, Any]:
        """The selected period's figures, or the whole view's."""
        return self.period if self.period is not None else self.summary


Maker = Callable[[ir.Table, ir.Table | None, datetime | None], Measurement]


@dataclass
class Source:
    """What the dashboard reads: the events as Ibis tables and how to measure a subset."""

    events: ir.Table
    accounts: ir.Table | None
    base: Measurement
    make: Maker
    label: str
    timezone: str = "UTC"


def _options(calendar: Any, lookback_days: float | None) -> dict[str, Any]:
    from valueclock.calendar import load_calendar

    return {"calendar": load_calendar(calendar), "lookback_days": lookback_days}


def load_tables(events: ir.Table, attrs: ir.Table | None, *, label: str,
                timezone: str = "UTC", as_of: str | None = None,
                lookback_days: float | None = None, calendar: Any = None) -> Source:
    """Measure canonical events (and accounts) given as Ibis tables, on their backend."""
    from valueclock.events import parse_instant

    opts = _options(calendar, lookback_days)

    def make(ev: ir.Table, acc: ir.Table | None, moment: datetime | None) -> Measurement:
        return Measurement(ev, accounts=acc, as_of=moment, cache=True, **opts)

    moment = None if as_of is None else parse_instant(as_of, timezone)
    base = make(events, attrs, moment)
    return Source(events, attrs, base, make, label=label, timezone=timezone)


def load_files(paths: list[Path], *, accounts: Path | None = None, timezone: str = "UTC",
               as_of: str | None = None, lookback_days: float | None = None,
               calendar: Any = None) -> Source:
    """Read event files (and an accounts table) once; measure them."""
    from valueclock.engines import default_connection, load_files
    from valueclock.events import read_accounts

    events = load_files(default_connection(), paths, timezone=timezone)
    attrs = None if accounts is None else ibis.memtable(read_accounts(accounts))
    return load_tables(events, attrs, label=", ".join(p.name for p in paths),
                       timezone=timezone, as_of=as_of, lookback_days=lookback_days,
                       calendar=calendar)


def load_workspace(folder: Path, *, accounts: Path | None = None,
                   timezone: str | None = None, as_of: str | None = None,
                   lookback_days: float | None = None, calendar: Any = None) -> Source:
    """Open a workspace read-only (the dashboard never writes) and measure it."""
    from valueclock.events import parse_instant, read_accounts
    from valueclock.workspace import Workspace

    ws = Workspace.open(folder, read_only=True)
    tz = timezone or ws.config.timezone
    opts = _options(calendar, lookback_days)
    if accounts is not None:
        attrs: ir.Table | None = ws.backend.create_table(
            "valueclock_dashboard_accounts", read_accounts(accounts), temp=True,
            overwrite=True)
    else:
        attrs = ws.accounts()
    base = ws.measure(accounts=attrs, as_of=as_of, timezone=tz, cache=True, **opts)

    def make(ev: ir.Table, acc: ir.Table | None, moment: datetime | None) -> Measurement:
        # A filtered view of a workspace: its quarantined rows are counted in the base
        # view's data problems only (they belong to no account or case).
        return Measurement(ev, accounts=acc, as_of=moment, cache=True, **opts)

    if as_of is not None:
        parse_instant(as_of, tz)  # checked by ws.measure already; keeps the error early
    return Source(ws.events(), attrs, base, make, label=f"workspace {folder}", timezone=tz)


class Dashboard:
    """Views of one source, cached. Every method is safe to call from several threads."""

    def __init__(self, source: Source, *, views: int = 8, summaries: int = 64) -> None:
        self.source = source
        self.base = source.base
        self.lock = threading.RLock()
        self._measurements = LRU(views)
        self._summaries = LRU(summaries)
        self._misc = LRU(256)

    def warm(self) -> None:
        """Make what the first visitors ask for: the default view, its lists, and the
        index of accounts and cases their own pages read."""
        view = self.view(Filters())
        self.frame(view, "accounts")
        self.frame(view, "cases")
        self._lookup(Filters())

    # -- measurements ----------------------------------------------------------------------

    def _cached(self, cache: LRU, key: Hashable, compute: Callable[[], Any]) -> Any:
        found = cache.get(key, _MISSING)
        if found is not _MISSING:
            return found
        with self.lock:
            found = cache.get(key, _MISSING)
            if found is _MISSING:
                found = compute()
                cache.put(key, found)
        return found

    def _moment(self, as_of: str | None) -> datetime | None:
        if as_of is None:
            return self.base.as_of
        from valueclock.events import parse_instant

        return parse_instant(as_of, self.source.timezone)

    def measurement(self, f: Filters) -> Measurement:
        """The measurement of a view (the base one without filters)."""
        key = f.view_key()
        if key == (None, None, None, None):
            return self.base
        return self._cached(self._measurements, key, lambda: self._filtered(f))

    def _filtered(self, f: Filters) -> Measurement:
        ev, acc = self.source.events, self.source.accounts
        base = self.base
        if f.by is not None and f.value is not None:
            level, column = resolve_attribute(base, f.by)
            if level == "account":
                if acc is None:
                    raise UsageError("no accounts table to filter by")
                latest = latest_attributes(acc)
                col = latest[column]
                known = latest.filter(col.notnull()).select("account_id")
                if f.value == NONE:
                    ev = ev.filter(ev.account_id.isnull() | ~ev.account_id.isin(known.account_id))
                    acc = acc.filter(~acc.account_id.isin(known.account_id))
                else:
                    ids = latest.filter(col.cast("string") == f.value).select("account_id")
                    ev = ev.filter(ev.account_id.isin(ids.account_id))
                    acc = acc.filter(acc.account_id.isin(ids.account_id))
            else:
                c = base.cases
                col = c[column]
                match = col.isnull() if f.value == NONE else (col.cast("string") == f.value)
                other = c.filter(~match.fill_null(False)).select("case_id")
                ev = ev.filter(ev.case_id.isnull() | ~ev.case_id.isin(other.case_id))
        if f.team is not None:
            h = base.holds
            held = h.filter(h.team == f.team).select("case_id")
            other = base.cases.filter(~base.cases.case_id.isin(held.case_id)).select("case_id")
            ev = ev.filter(ev.case_id.isnull() | ~ev.case_id.isin(other.case_id))
        return self.source.make(ev, acc, self._moment(f.as_of))

    # -- summaries -------------------------------------------------------------------------

    def report(self, f: Filters, *, by: str | None = None, every: str | None = None,
               target_days: float = 0.0, min_size: int = 30, bins: int = 10) -> dict[str, Any]:
        """``Measurement.summary`` of the view: what ``valueclock report --format json``
        prints for the view's events with the same options."""
        key = ("report", f.view_key(), f.stat, by, every, target_days, min_size, bins)
        return self._cached(self._summaries, key, lambda: self.measurement(f).summary(
            f.stat, target_days=target_days, by=by, every=every, min_size=min_size,
            bins=bins))

    def view(self, f: Filters) -> View:
        """The view a page shows: its summary with periods (and slices of ``by`` when no
        value is chosen and it has few values), and the selected period."""
        notes: list[str] = []
        by = None
        if f.by is not None and f.value is None:
            values = self.values(f.by)
            if len(values) > MAX_SLICE_VALUES:
                notes.append(f"{f.by} has more than {MAX_SLICE_VALUES} values: choose one "
                             "to filter by instead of listing them all")
            else:
                by = f.by
        summary = self.report(f, by=by, every=f.every)
        period = None
        if f.period is not None:
            period = next((p for p in summary.get("periods") or []
                           if p["period"] == f.period), None)
            if period is None:
                raise UsageError(f"no {f.every} {f.period!r} in the data")
        return View(f, self.measurement(f), summary, period, notes)

    # -- what the filters offer ------------------------------------------------------------

    def attributes(self) -> dict[str, list[str]]:
        """Attributes to slice by: ``account`` ones (accounts table) and ``case`` ones."""
        def compute() -> dict[str, list[str]]:
            return {"account": account_attributes(self.base),
                    "case": list(self.base.case_attributes)}
        return self._cached(self._misc, ("attributes",), compute)

    def values(self, by: str) -> list[str]:
        """The values of an attribute, most frequent first (at most 200); ``(none)`` last
        when some rows have none."""
        def compute() -> list[str]:
            level, column = resolve_attribute(self.base, by)
            if level == "account":
                if self.source.accounts is None:
                    return []
                t = latest_attributes(self.source.accounts)
            else:
                t = self.base.cases
            col = t[column].cast("string")
            counts = t.group_by(v=col).aggregate(n=t.count()).order_by(
                ibis.desc("n"), "v").limit(201).to_pyarrow().to_pylist()
            out = [r["v"] for r in counts if r["v"] is not None][:200]
            if any(r["v"] is None for r in counts):
                out.append(NONE)
            return out
        return self._cached(self._misc, ("values", by), compute)

    def palette(self) -> dict[str, str]:
        """One colour per team of the data, the same on every page."""
        return self._cached(self._misc, ("palette",), lambda: team_palette(
            [r["team"] for r in rows(self.base.team_stats.select("team").to_pyarrow())]))

    def teams(self) -> list[str]:
        """Teams that held a case's clock (what the team filter offers)."""
        return self._cached(self._misc, ("teams",),
                            lambda: [t["team"] for t in self.base.teams()])

    def periods(self, f: Filters) -> list[str]:
        """The periods of the view's trend."""
        if f.every is None:
            return []
        s = self.report(replace(f, period=None), every=f.every)
        return [p["period"] for p in s.get("periods") or []]

    # -- lists ---------------------------------------------------------------------------

    def frame(self, view: View, which: str) -> pa.Table:
        """The view's ``accounts`` or ``cases`` table, fetched from the engine once and
        kept in memory (Arrow) so that lists are searched, sorted and paged without
        another query."""
        key = ("frame", which, view.filters.view_key())
        return self._cached(self._misc, key,
                            lambda: getattr(view.m, which).to_pyarrow())

    def _order(self, view: View, which: str, sort: str | None, desc: bool) -> pa.Array:
        """Row numbers of the view's frame in the order asked (missing values last), by
        the id after the column; kept, since the frame never changes."""
        key = "account_id" if which == "accounts" else "case_id"

        def compute() -> pa.Array:
            t = self.frame(view, which)
            order = ([(sort, "descending" if desc else "ascending")] if sort else []) + \
                [(key, "ascending")]
            return pc.sort_indices(t, sort_keys=order)  # nulls at the end

        return self._cached(self._misc, ("order", which, view.filters.view_key(), sort, desc),
                            compute)

    def _haystack(self, view: View, which: str) -> list[pa.Array]:
        """The frame's text columns in lower case, for searching."""
        def compute() -> list[pa.Array]:
            t = self.frame(view, which)
            return [pc.utf8_lower(t[name]).combine_chunks() for name in t.column_names
                    if pa.types.is_string(t.schema.field(name).type)
                    or pa.types.is_large_string(t.schema.field(name).type)]

        return self._cached(self._misc, ("haystack", which, view.filters.view_key()),
                            compute)

    def table_page(self, view: View, which: str, *, q: str | None = None,
                   sort: str | None = None, desc: bool = False, page: int = 1,
                   per_page: int = 50, state: str | None = None,
                   everything: bool = False) -> dict[str, Any]:
        """A page of the view's ``accounts`` or ``cases``: searched, sorted, paginated.

        ``q`` searches the ids and text attributes (letter case ignored); ``state`` is
        ``waiting``/``reached`` (accounts) or ``open``/``resolved`` (cases); a selected
        period keeps the accounts sold (cases started) in it; ``everything`` returns every
        matching row (CSV downloads). Missing values sort last.
        """
        t = self.frame(view, which)
        if sort is not None and sort not in t.column_names:
            raise UsageError(f"cannot sort {which} by {sort!r} (use one of "
                             f"{', '.join(t.column_names)})")
        keep = None

        def both(mask: Any) -> None:
            nonlocal keep
            keep = mask if keep is None else pc.and_kleene(keep, mask)

        if view.period is not None:
            column = t["sale_at" if which == "accounts" else "started_at"]
            start, end = _naive(view.period["start"]), _naive(view.period["end"])
            both(pc.and_(pc.greater_equal(column, pa.scalar(start, column.type)),
                         pc.less(column, pa.scalar(end, column.type))))
        flags = {"waiting": ("value_reached", False), "reached": ("value_reached", True),
                 "open": ("resolved", False), "resolved": ("resolved", True)}
        if state in flags and flags[state][0] in t.column_names:
            column, wanted = flags[state]
            both(pc.equal(t[column], wanted))
        if q and q.strip():
            needle = q.strip().lower()
            found = None
            for column in self._haystack(view, which):
                hit = pc.match_substring(column, needle)
                found = hit if found is None else pc.or_kleene(found, hit)
            if found is not None:
                both(found)
        order = self._order(view, which, sort, desc)
        if keep is not None:
            if isinstance(keep, pa.ChunkedArray):
                keep = keep.combine_chunks()
            order = pc.filter(order, pc.fill_null(pc.array_take(keep, order), False))
        total = len(order)
        if everything:
            return {"total": total, "table": t.take(order)}
        per_page = per_page if per_page in PAGE_SIZES else 50
        pages = max(1, -(-total // per_page))
        page = min(max(1, page), pages)
        table = t.take(order.slice((page - 1) * per_page, per_page))
        return {"total": total, "page": page, "pages": pages, "per_page": per_page,
                "columns": table.column_names, "rows": rows(table)}

    def teams_table(self, view: View) -> list[dict[str, Any]]:
        """The view's teams table (``Measurement.team_stats``)."""
        key = ("team_stats", view.filters.view_key())
        return self._cached(self._misc, key,
                            lambda: rows(view.m.team_stats.to_pyarrow()))

    # -- one account, one case -------------------------------------------------------------

    def _lookup(self, f: Filters) -> _Lookup:
        # An account's or a case's own page shows all of it: only as_of applies.
        detail = Filters(as_of=f.as_of)
        return self._cached(self._misc, ("lookup", detail.view_key()),
                            lambda: _Lookup(self.measurement(detail),
                                            self.source.accounts))

    def account(self, f: Filters, account_id: str) -> dict[str, Any] | None:
        """An account: its row (None for a prospect), events, cases and their clocks."""
        look = self._lookup(f)
        row = look.rows("accounts", account_id)
        events = look.rows("events", account_id)
        attributes = look.rows("attributes", account_id)
        if not row and not events and not attributes:
            return None
        cases = look.rows("cases_by_account", account_id)
        segments = {c["case_id"]: look.segments(c["case_id"]) for c in cases}
        return {"account": row[0] if row else None,
                "attributes": attributes[0] if attributes and not row else None,
                "events": [{k: e[k] for k in ("timestamp", "kind", "case_id", "team",
                                              "label")} for e in events],
                "cases": cases, "segments": segments, "as_of": look.as_of}

    def case(self, f: Filters, case_id: str) -> dict[str, Any] | None:
        """A case: its row, its events with the clock's state, holds and segments."""
        look = self._lookup(f)
        row = look.rows("cases", case_id)
        if not row:
            return None
        return {"case": row[0], "holds": look.rows("holds", case_id),
                "segments": look.segments(case_id), "events": look.case_events(case_id),
                "as_of": look.as_of}


class _Index:
    """An Arrow table sorted by a key, and where each key's rows start and end."""

    def __init__(self, table: pa.Table, key: str) -> None:
        self.table = table
        self.where: dict[Any, tuple[int, int]] = {}
        column = table[key].combine_chunks() if table.num_rows else pa.array([], pa.string())
        if len(column):
            encoded = pc.dictionary_encode(column)
            codes = encoded.indices.to_numpy(zero_copy_only=False)
            starts = np.flatnonzero(np.diff(codes)) + 1
            bounds = np.concatenate([[0], starts, [len(codes)]])
            values = encoded.dictionary.to_pylist()
            for a, b in zip(bounds[:-1], bounds[1:], strict=True):
                self.where[values[codes[a]]] = (int(a), int(b))

    def rows(self, value: Any) -> list[dict[str, Any]]:
        found = self.where.get(value)
        if found is None:
            return []
        return rows(self.table.slice(found[0], found[1] - found[0]))


class _Lookup:
    """One measurement's accounts, cases, events, holds and clock timeline, fetched once
    from the engine and indexed in memory, so that an account's or a case's page is a few
    slices of Arrow tables (no query, no lock)."""

    def __init__(self, m: Measurement, attributes: ir.Table | None) -> None:
        self.as_of_moment = m.as_of
        self.as_of = iso(m.as_of)
        ev = m.events
        events = ev.select("account_id", "timestamp", "kind", "case_id", "team", "label",
                           "_rank", "_seq").order_by(
            ["account_id", "timestamp", "_rank", "_seq"]).to_pyarrow()
        cases = m.cases.to_pyarrow()
        by_account = cases.take(pc.sort_indices(cases, sort_keys=[
            ("account_id", "ascending"), ("started_at", "ascending"),
            ("case_id", "ascending")]))
        tl = m.timeline
        timeline = tl.select("case_id", "timestamp", "kind", "team", "label", "_state",
                             "_holder", "_run_us", "_next_us", "_last", "_rank",
                             "_seq").order_by(
            ["case_id", "timestamp", "_rank", "_seq"]).to_pyarrow()
        self.index = {
            "accounts": _Index(m.accounts.to_pyarrow(), "account_id"),
            "events": _Index(events, "account_id"),
            "cases": _Index(cases.take(pc.sort_indices(cases, sort_keys=[
                ("case_id", "ascending")])), "case_id"),
            "cases_by_account": _Index(by_account, "account_id"),
            "holds": _Index(m.holds.to_pyarrow(), "case_id"),
            "timeline": _Index(timeline, "case_id"),
        }
        if attributes is not None:
            latest = latest_attributes(attributes).to_pyarrow()
            self.index["attributes"] = _Index(latest.take(pc.sort_indices(
                latest, sort_keys=[("account_id", "ascending")])), "account_id")

    def rows(self, which: str, value: Any) -> list[dict[str, Any]]:
        index = self.index.get(which)
        return [] if index is None else index.rows(value)

    def _timeline(self, case_id: str) -> list[dict[str, Any]]:
        found = self.index["timeline"].where.get(case_id)
        if found is None:
            return []
        return self.index["timeline"].table.slice(found[0], found[1] - found[0]).to_pylist()

    def case_events(self, case_id: str) -> list[dict[str, Any]]:
        """The case's measured events with the clock's state and holder after each."""
        return [{"timestamp": plain(r["timestamp"]), "kind": r["kind"], "team": r["team"],
                 "label": r["label"], "holder": r["_holder"],
                 "clock": "running" if r["_state"] == 1 else "stopped",
                 "hours": r["_run_us"] / US_PER_HOUR} for r in self._timeline(case_id)]

    def segments(self, case_id: str) -> list[dict[str, Any]]:
        """The stretches of time the case's clock ran, and who held it.

        Read from the engine's timeline (one row per measured case event with the clock's
        state after it, its holder and how long it ran until the next event): a stretch
        is a row whose clock runs, from its moment to the next event's (or ``as_of``).
        TODO(issue 3): use an engine function for clock stretches once the engine has
        one, instead of the timeline's underscore columns.
        """
        out = []
        for r in self._timeline(case_id):
            if r["_state"] != 1:
                continue
            start = r["timestamp"].replace(tzinfo=None)
            end = self.as_of_moment if r["_last"] or r["_next_us"] is None else \
                _EPOCH + timedelta(microseconds=int(r["_next_us"]))
            if end <= start and r["_run_us"] == 0:
                continue
            out.append({"team": r["_holder"], "start": iso(start), "end": iso(end),
                        "hours": r["_run_us"] / US_PER_HOUR, "open": bool(r["_last"])})
        return out


def _naive(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.astimezone(UTC).replace(tzinfo=None)


def every_names() -> list[str]:
    """The periods the trend can be made by."""
    return list(EVERY)
