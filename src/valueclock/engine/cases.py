"""Cases: the clock of each interruption, and which team held it.

The clock is a small state machine over each case's events in time order. It is
computed with window functions, not a Python loop:

1. ``_n_int``: a running count of interruptions. Rows before the first interruption are
   not measured (a data problem); rows after a later interruption count it as a reopen.
2. ``_eff``: each event's effect on the clock: 1 starts it (interruption, reopen), 0
   stops it (smile), null leaves it (handoff). The state after each event is the latest
   non-null effect. It is found portably, in the same sorted pass as everything else, as
   a running maximum of ``position * 2 + effect``: the latest position wins and the
   remainder is its effect. (``LAST_VALUE ... IGNORE NULLS`` is not compiled right by
   Ibis on DuckDB.)
3. The holder is found the same way from the teams named on interruptions, handoffs and
   reopens, each team numbered through a small table of the distinct teams; before any
   team is named it is ``Unassigned``.
4. Each row's interval runs to the next row of the case, or to ``as_of`` for the last one;
   it counts for the clock when the state after the row is running.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from valueclock.engine.prepare import US_PER_HOUR, _problem, _quote, flag
from valueclock.schema import CASE_KINDS, UNASSIGNED

#: Columns of the ``cases`` table, in order, before the case attributes.
CASE_COLUMNS = ("case_id", "account_id", "started_at", "smiled_at", "resolved", "smile_hours",
                "elapsed_hours", "open_hours", "reopens", "handoffs")
HOLD_COLUMNS = ("case_id", "account_id", "team", "hours")


def _order(t: ir.Table) -> list:
    return [t.timestamp, t._rank, t._seq]


def case_events(usable: ir.Table) -> ir.Table:
    """Case events with ``_n_int``, the running count of interruptions in their case, and
    ``_pos``, their position in it."""
    ce = usable.filter(usable.kind.isin(list(CASE_KINDS)))
    ce = ce.mutate(_is_int=flag(ce.kind == "interruption"))
    running = ibis.cumulative_window(group_by=ce.case_id, order_by=_order(ce))
    return ce.mutate(_n_int=ce._is_int.sum().over(running),
                     _pos=ibis.row_number().over(running).cast("int64"))


def case_problems(ce: ir.Table) -> ir.Table:
    """Problem rows of case events: no interruption, before start, repeated interruption."""
    per_case = ce.mutate(_case_ints=ce._is_int.sum().over(ibis.window(group_by=ce.case_id)))
    orphan = per_case.filter(per_case._case_ints == 0)
    # One problem row per case without interruption, at its first event.
    orphan = orphan.mutate(_k=ibis.row_number().over(
        ibis.window(group_by=orphan.case_id, order_by=_order(orphan))))
    orphan = orphan.filter(orphan._k == 0)
    early = per_case.filter((per_case._case_ints > 0) & (per_case._n_int == 0))
    again = ce.filter((ce._n_int > 1) & (ce._is_int == 1))
    return ibis.union(
        _problem(orphan, "case_without_interruption",
                 ibis.literal("case ").concat(_quote(orphan.case_id))),
        _problem(early, "event_before_case_start",
                 ibis.literal("case ").concat(_quote(early.case_id), ibis.literal(" "),
                                              early.kind)),
        _problem(again, "repeated_interruption",
                 ibis.literal("case ").concat(_quote(again.case_id))),
    )


_TEAM_CODES = 1 << 24  # room for 16 million distinct teams beside each position


def timeline(ce: ir.Table, as_of_us: int) -> ir.Table:
    """One row per measured case event with the clock's state, holder and interval."""
    m = ce.filter(ce._n_int >= 1)
    named = m.kind.isin(["interruption", "handoff", "reopen"]) & m.team.notnull()
    teams = m.filter(named).select(_team=m.team).distinct()
    teams = teams.mutate(_tid=ibis.row_number().over(order_by=teams._team).cast("int64"))
    m = m.mutate(_named=named)
    m = m.left_join(teams, m.team == teams._team).drop("_team")
    named = m._named
    starts = m.kind.isin(["interruption", "reopen"])
    eff = ibis.cases((starts, 1), (m.kind == "smile", 0), else_=ibis.null("int64"))
    state_code = ibis.ifelse(eff.notnull(), m._pos * 2 + eff, ibis.null("int64"))
    team_code = ibis.ifelse(named, m._pos * _TEAM_CODES + m._tid, ibis.null("int64"))
    so_far = ibis.window(group_by=m.case_id, order_by=m._pos, rows=(None, 0))
    before = ibis.window(group_by=m.case_id, order_by=m._pos, rows=(None, -1))
    m = m.mutate(
        _eff=eff,
        _state=state_code.max().over(so_far) % 2,
        _prev=(state_code.max().over(before) % 2).fill_null(0),
        _hid=team_code.max().over(so_far) % _TEAM_CODES,
        _next_us=m._us.lead().over(ibis.window(group_by=m.case_id, order_by=m._pos)),
    )
    holders = teams.select(_hid2=teams._tid, _holder=teams._team)
    m = m.left_join(holders, m._hid == holders._hid2).drop("_hid", "_hid2", "_tid", "_named")
    m = m.mutate(_holder=m._holder.fill_null(UNASSIGNED))
    last = m._next_us.isnull()
    m = m.mutate(
        _start=flag((m._eff == 1) & (m._prev == 0)),
        _stop=(m._eff == 0) & (m._prev == 1),
        _last=last,
        _run_us=ibis.ifelse(m._state == 1,
                            ibis.ifelse(last, ibis.literal(as_of_us, "int64"), m._next_us)
                            - m._us, 0),
    )
    # _wall_us: the interval in calendar time; _clock_us: the moment on the clock that
    # elapsed hours are measured on. Business hours and what-if rewrite _run_us and
    # _clock_us (engine/business.py, engine/whatif.py); _wall_us stays.
    return m.mutate(_wall_us=m._run_us, _clock_us=m._us)


def cases(tl: ir.Table, attributes: list[str]) -> ir.Table:
    """One row per measured case (see ``CASE_COLUMNS``), then the case's attributes.

    A case's attributes are those of its first interruption.
    """
    starter = (tl._n_int == 1) & (tl._is_int == 1)
    agg = tl.group_by(tl.case_id).aggregate(
        account_id=tl.account_id.max(where=starter),
        started_at=tl.timestamp.min(),
        _start_us=tl._clock_us.min(),
        _smiled_at=tl.timestamp.max(where=tl._stop),
        _smiled_us=tl._clock_us.max(where=tl._stop),
        _final=tl._state.max(where=tl._last),
        _run_us=tl._run_us.sum(),
        _starts=tl._start.sum(),
        handoffs=flag(tl.kind == "handoff").sum(),
        **{name: tl[name].max(where=starter) for name in attributes},
    )
    resolved = agg._final == 0
    hours = agg._run_us.cast("float64") / US_PER_HOUR
    out = agg.mutate(
        smiled_at=ibis.ifelse(resolved, agg._smiled_at, ibis.null("timestamp")),
        resolved=resolved,
        smile_hours=ibis.ifelse(resolved, hours, ibis.null("float64")),
        elapsed_hours=ibis.ifelse(
            resolved, (agg._smiled_us - agg._start_us).cast("float64") / US_PER_HOUR,
            ibis.null("float64")),
        open_hours=ibis.ifelse(resolved, ibis.null("float64"), hours),
        reopens=(agg._starts - 1).cast("int64"),
    )
    return out.select(*CASE_COLUMNS, *attributes)


def holds(tl: ir.Table, case_table: ir.Table) -> ir.Table:
    """One row per case and team that held its clock for a positive (calendar) time."""
    running = tl.filter(tl._state == 1)
    per_team = running.group_by([running.case_id, running._holder]).aggregate(
        _us=running._run_us.sum(), _wall=running._wall_us.sum(), _from=running._us.min())
    # Held for some calendar time (in business hours or a what-if, possibly 0 hours).
    per_team = per_team.filter(per_team._wall > 0)
    owners = case_table.select(_case=case_table.case_id, account_id=case_table.account_id)
    joined = per_team.join(owners, per_team.case_id == owners._case)
    return joined.select(
        case_id=joined.case_id, account_id=joined.account_id, team=joined._holder,
        hours=joined._us.cast("float64") / US_PER_HOUR, _from=joined._from,
    )


def other_account_problems(tl: ir.Table, case_table: ir.Table) -> ir.Table:
    """Measured case events filed under another account than the case's."""
    owners = case_table.select(_case=case_table.case_id, _owner=case_table.account_id)
    joined = tl.join(owners, tl.case_id == owners._case)
    other = joined.filter(joined.account_id != joined._owner)
    return _problem(other, "case_event_other_account",
                    ibis.literal("case ").concat(_quote(other.case_id), ibis.literal(" under "),
                                                 _quote(other.account_id),
                                                 ibis.literal(", case belongs to "),
                                                 _quote(other._owner)))
