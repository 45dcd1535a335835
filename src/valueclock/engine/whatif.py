"""What-if: the clock as if some teams held each case for F times as long.

Pure Ibis, applied to the timeline before anything is added up, so every number that
comes from the clock follows: holds, each case's ``smile_hours``/``open_hours`` (the sum of
its scaled holds), ``elapsed_hours`` (the happy gaps stay as they were, the held time is
scaled), the accounts' ``smile_hours`` and ``ttcv_days``, and the summary. Timestamps
(``started_at``, ``smiled_at``) and Time to Value are what happened; they do not move.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import ibis
import ibis.expr.types as ir

from valueclock.engine.prepare import flag
from valueclock.errors import UsageError

__all__ = ["apply_scale", "check_scale"]


def check_scale(scale: Mapping[str, float] | None) -> dict[str, float]:
    """The scale as a plain dict, each factor a finite number >= 0."""
    out: dict[str, float] = {}
    for team, factor in (scale or {}).items():
        try:
            value = float(factor)
        except (TypeError, ValueError):
            raise UsageError(f"scale for team {team!r} must be a number, not "
                             f"{factor!r}") from None
        if not math.isfinite(value) or value < 0:
            raise UsageError(f"scale for team {team!r} must be zero or more, not {factor!r}")
        out[str(team)] = value
    return out


def apply_scale(tl: ir.Table, scale: Mapping[str, float]) -> ir.Table:
    """The timeline with each running interval of a scaled team multiplied by its factor.

    Each interval is rounded to whole microseconds. ``_clock_us`` (what elapsed hours are
    measured on) moves by the time taken away or added before each row; it is kept only on
    the rows ``cases`` reads it from (the case's first interruption and its final smile).
    """
    if not scale:
        return tl
    factor = ibis.cases(*[(tl._holder == team, ibis.literal(f, "float64"))
                          for team, f in scale.items()], else_=ibis.literal(1.0, "float64"))
    scaled = (tl._run_us.cast("float64") * factor).round().cast("int64")
    tl = tl.mutate(_sc_delta=scaled - tl._run_us, _run_us=scaled,
                   _sc_stop=flag(tl._stop))
    order = [tl.timestamp, tl._rank, tl._seq]
    running = ibis.cumulative_window(group_by=tl.case_id, order_by=order)
    whole = ibis.window(group_by=tl.case_id)
    tl = tl.mutate(_sc_shift=tl._sc_delta.sum().over(running) - tl._sc_delta,
                   _sc_nstop=tl._sc_stop.sum().over(running),
                   _sc_tstop=tl._sc_stop.sum().over(whole))
    starter = (tl._n_int == 1) & (tl._is_int == 1)
    final_stop = tl._stop & (tl._sc_nstop == tl._sc_tstop)
    tl = tl.mutate(_clock_us=ibis.ifelse(starter | final_stop, tl._clock_us + tl._sc_shift,
                                         ibis.null("int64")))
    return tl.drop("_sc_delta", "_sc_stop", "_sc_shift", "_sc_nstop", "_sc_tstop")
