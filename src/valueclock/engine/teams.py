"""Teams: who holds the clock, who passes it on, who gets it back, who delivers value.

Pure Ibis, windows over the timeline. One row per team that held a case's clock or
delivered a value event (see ``TEAM_COLUMNS`` and ``docs/teams-calendar-whatif.md``).

Holding and passing are read from the rows where the clock runs, in time order:

- a team *touched* a case when it held the running clock at some moment (even for no
  time: a pass in and straight out);
- a *pass* is a change of holder between consecutive running rows: normally a handoff;
  a reopen naming another team passes the clock too, a handoff to the team that already
  holds it does not, and a handoff while the clock is stopped counts when the clock starts
  again with the new team;
- a *ping-pong* case for a team: the clock came back to it after another team held it.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from valueclock.engine.prepare import US_PER_DAY, US_PER_HOUR, flag
from valueclock.schema import UNASSIGNED

__all__ = ["TEAM_COLUMNS", "team_stats", "clock_teams", "value_teams"]

#: Columns of the ``teams`` table, in order.
TEAM_COLUMNS = (
    "team",
    # holding the clock (cases)
    "cases", "open_cases", "hours", "hours_share", "smile_hours", "smile_share",
    "median_hours_per_case", "passes_in", "passes_out", "ping_pong_cases",
    # delivering value (accounts)
    "value_events_before", "value_events_after", "prospect_value_events",
    "first_value_before_accounts", "median_ttv_before_days",
    "first_value_after_accounts", "median_ttv_after_days",
)
_CLOCK_COUNTS = ("cases", "open_cases", "passes_in", "passes_out", "ping_pong_cases")
_VALUE_COUNTS = ("value_events_before", "value_events_after", "prospect_value_events",
                 "first_value_before_accounts", "first_value_after_accounts")


def clock_teams(tl: ir.Table, case_table: ir.Table) -> ir.Table:
    """One row per team that held a running clock: counts, hours, passes, ping-pong."""
    r = tl.filter(tl._state == 1)
    ordered = ibis.window(group_by=r.case_id, order_by=[r.timestamp, r._rank, r._seq])
    r = r.mutate(_prev_h=r._holder.lag().over(ordered), _next_h=r._holder.lead().over(ordered))
    passed_in = r._prev_h.notnull() & (r._prev_h != r._holder)
    r = r.mutate(
        _in=flag(passed_in),
        _out=flag(r._next_h.notnull() & (r._next_h != r._holder)),
        _stint=flag(r._prev_h.isnull() | passed_in),
    )
    per_case = r.group_by([r.case_id, r._holder]).aggregate(
        _us=r._run_us.sum(), _in=r._in.sum(), _out=r._out.sum(), _stints=r._stint.sum())
    status = case_table.select(_case=case_table.case_id, _resolved=case_table.resolved)
    per_case = per_case.join(status, per_case.case_id == status._case)
    hours = per_case._us.cast("float64") / US_PER_HOUR
    per_case = per_case.mutate(_hours=hours)
    return per_case.group_by(team=per_case._holder).aggregate(
        cases=per_case.count(),
        open_cases=flag(~per_case._resolved).sum(),
        hours=per_case._hours.sum(),
        smile_hours=per_case._hours.sum(where=per_case._resolved),
        median_hours_per_case=per_case._hours.quantile(0.5),
        passes_in=per_case._in.sum(),
        passes_out=per_case._out.sum(),
        ping_pong_cases=flag(per_case._stints > 1).sum(),
    )


def value_teams(usable: ir.Table, lookback_days: float | None = None) -> ir.Table:
    """One row per team named on value events: events before and after the sale, and the
    accounts whose first value before / after the sale it delivered (with median days).

    A value event without a team counts for ``Unassigned``.
    """
    sales = usable.filter(usable.kind == "sale")
    sold = sales.group_by(_acc=sales.account_id).aggregate(_sale_us=sales._us.min())
    v = usable.filter(usable.kind == "value")
    v = v.select(account_id=v.account_id, _vus=v._us, _seq=v._seq,
                 _team=v.team.fill_null(UNASSIGNED))
    j = v.left_join(sold, v.account_id == sold._acc)
    before = j._vus < j._sale_us
    counted_before = before
    if lookback_days is not None:
        counted_before = before & (
            j._vus >= j._sale_us - int(round(lookback_days * US_PER_DAY)))
    side = ibis.cases((j._sale_us.isnull(), "prospect"), (counted_before, "first_before"),
                      (before, "before"), else_="after")
    j = j.mutate(_side=side, _before=before.fill_null(False),
                 _days=(j._vus - j._sale_us).cast("float64") / US_PER_DAY)
    # Only value events that count as value before the sale compete for the first one.
    j = j.mutate(_pick=ibis.cases((j._side == "first_before", "before"),
                                  (j._side == "after", "after"), else_="none"))
    first_w = ibis.window(group_by=[j.account_id, j._pick], order_by=[j._vus, j._seq])
    j = j.mutate(_k=ibis.row_number().over(first_w))
    first = (j._k == 0) & (j._pick != "none")
    return j.group_by(team=j._team).aggregate(
        value_events_before=flag(j._before & (j._side != "prospect")).sum(),
        value_events_after=flag(j._side == "after").sum(),
        prospect_value_events=flag(j._side == "prospect").sum(),
        first_value_before_accounts=flag(first & (j._pick == "before")).sum(),
        median_ttv_before_days=j._days.quantile(0.5, where=first & (j._pick == "before")),
        first_value_after_accounts=flag(first & (j._pick == "after")).sum(),
        median_ttv_after_days=j._days.quantile(0.5, where=first & (j._pick == "after")),
    )


def team_stats(tl: ir.Table, case_table: ir.Table, usable: ir.Table,
               lookback_days: float | None = None) -> ir.Table:
    """One row per team (see ``TEAM_COLUMNS``), busiest clock holders first."""
    clock = clock_teams(tl, case_table)
    value = value_teams(usable, lookback_days).rename(_vteam="team")
    j = clock.outer_join(value, clock.team == value._vteam)
    counts = {c: j[c].fill_null(0).cast("int64") for c in _CLOCK_COUNTS + _VALUE_COUNTS}
    t = j.select(
        team=j.team.fill_null(j._vteam),
        hours=j.hours.fill_null(0.0),
        smile_hours=j.smile_hours.fill_null(0.0),
        median_hours_per_case=j.median_hours_per_case,
        median_ttv_before_days=j.median_ttv_before_days,
        median_ttv_after_days=j.median_ttv_after_days,
        **counts,
    )
    everything = ibis.window()
    all_hours = t.hours.sum().over(everything)
    all_smile = t.smile_hours.sum().over(everything)
    t = t.mutate(
        hours_share=ibis.ifelse(all_hours > 0, t.hours / all_hours, ibis.null("float64")),
        smile_share=ibis.ifelse(all_smile > 0, t.smile_hours / all_smile,
                                ibis.null("float64")),
    )
    return t.select(*TEAM_COLUMNS).order_by(
        ibis.desc("hours"), ibis.desc("cases"), ibis.desc("first_value_after_accounts"),
        ibis.desc("value_events_after"), ibis.desc("value_events_before"), "team")
