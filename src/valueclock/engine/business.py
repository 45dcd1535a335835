"""Business hours in the clock: each running interval measured in its holder's calendar.

Pure Ibis. The calendar comes in as a small table of open windows per calendar and UTC
day (built in Python by :meth:`valueclock.calendar.Calendar.windows`). For a calendar
``c`` and a moment ``t`` (microseconds since 1970 UTC), the *business clock*

    B_c(t) = open time of c before t's UTC day + sum over the day's windows of
             clamp(t - window start, 0, window length)

is found with one equi-join on (calendar, day): no as-of join, no backend-specific SQL.
The business time between ``a`` and ``b`` is ``B_c(b) - B_c(a)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir

from valueclock.engine.prepare import US_PER_DAY

if TYPE_CHECKING:
    from valueclock.calendar import Calendar

__all__ = ["business_clock", "apply_calendar", "timeline_in_business_hours"]


def business_clock(t: ir.Table, windows: ir.Table, base_us: int, pieces: int,
                   cal: ir.IntegerValue | int, at: ir.IntegerValue, name: str) -> ir.Table:
    """``t`` with a column ``name``: the business clock of calendar ``cal`` at ``at``.

    ``at`` must lie within the range the windows table was expanded for.
    """
    cal_value = ibis.literal(cal, "int64") if isinstance(cal, int) else cal
    keyed = t.mutate(_bc_cal=cal_value.cast("int64"),
                     _bc_day=(at - ibis.literal(base_us, "int64")) // US_PER_DAY,
                     _bc_at=at)
    j = keyed.left_join(windows, [keyed._bc_cal == windows._w_cal,
                                  keyed._bc_day == windows._w_day])
    clock = j._w_cum
    for k in range(pieces):
        s, e = j[f"_w_s{k}"], j[f"_w_e{k}"]
        clock = clock + ibis.greatest(ibis.least(j._bc_at - s, e - s), 0)
    out = j.mutate(**{name: clock.cast("int64")})
    return out.drop(*windows.columns, "_bc_cal", "_bc_day", "_bc_at")


def apply_calendar(tl: ir.Table, windows: ir.Table, base_us: int, pieces: int,
                   team_ids: dict[str, int], as_of_us: int) -> ir.Table:
    """The timeline with ``_run_us`` in business microseconds of the holder's calendar and
    ``_clock_us`` on the top-level business clock (for elapsed hours)."""
    end = ibis.ifelse(tl._last, ibis.literal(as_of_us, "int64"), tl._next_us)
    if team_ids:
        holder_cal = ibis.cases(*[(tl._holder == name, i) for name, i in team_ids.items()],
                                else_=0)
    else:
        holder_cal = ibis.literal(0, "int64")
    tl = tl.mutate(_b_end=end, _b_cal=holder_cal.cast("int64")).drop("_clock_us")
    tl = business_clock(tl, windows, base_us, pieces, 0, tl._us, "_clock_us")
    if team_ids:
        tl = business_clock(tl, windows, base_us, pieces, tl._b_cal, tl._us, "_b_from")
    else:
        tl = tl.mutate(_b_from=tl._clock_us)
    tl = business_clock(tl, windows, base_us, pieces, tl._b_cal, tl._b_end, "_b_to")
    tl = tl.mutate(_run_us=ibis.ifelse(tl._state == 1, tl._b_to - tl._b_from,
                                       ibis.literal(0, "int64")))
    return tl.drop("_b_end", "_b_cal", "_b_from", "_b_to")


def timeline_in_business_hours(tl: ir.Table, calendar: Calendar, starts_us: ir.IntegerScalar,
                               as_of_us: int) -> ir.Table:
    """The timeline measured in ``calendar``'s business hours.

    ``starts_us`` is the earliest moment to cover (the first case event); the calendar is
    expanded in Python from then to ``as_of_us`` into a small in-memory table.
    """
    first = starts_us.to_pyarrow().as_py()
    first = as_of_us if first is None else min(int(first), as_of_us)
    w = calendar.windows(first, as_of_us)
    return apply_calendar(tl, ibis.memtable(w.table), w.base_us, w.pieces, w.team_ids,
                          as_of_us)
