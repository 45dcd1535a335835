"""Where things go on the account timeline and the case clock (drawn as SVG by templates).

Only layout: moments become x positions, stretches become rectangles. The stretches and
hours come from the engine (:meth:`Dashboard.account`, :meth:`Dashboard.case`); every text
is escaped by the templates that draw these shapes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from valueclock.report.words import team_palette

__all__ = ["account_timeline", "case_clock"]

WIDTH = 940
LEFT = 120
RIGHT = 48
LANE = 24
#: Most cases drawn on an account's timeline (the table lists them all).
MAX_CASE_LANES = 40


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).replace(
        tzinfo=None)


class _Axis:
    def __init__(self, start: datetime, end: datetime) -> None:
        if end <= start:
            end = start + timedelta(hours=1)
        pad = (end - start) * 0.03
        self.start, self.end = start - pad, end + pad
        self.span = (self.end - self.start).total_seconds()

    def x(self, moment: datetime) -> float:
        return round(LEFT + (moment - self.start).total_seconds() / self.span
                     * (WIDTH - LEFT - RIGHT), 1)

    def ticks(self, n: int = 6) -> list[dict[str, Any]]:
        days = self.span / 86400
        fmt = "%Y-%m-%d" if days > 4 else "%m-%d %H:%M"
        out = []
        for i in range(n + 1):
            moment = self.start + (self.end - self.start) * (i / n)
            out.append({"x": self.x(moment), "label": moment.strftime(fmt)})
        return out


def _hours(h: float) -> str:
    return f"{h:,.1f} h" if h < 48 else f"{h / 24:,.1f} days"


def account_timeline(detail: dict[str, Any],
                     palette: dict[str, str] | None = None) -> dict[str, Any] | None:
    """Shapes of an account's timeline: value events before and after the sale, the sale,
    and one lane per case with its clock's stretches coloured by the team holding it."""
    events = detail["events"]
    account = detail.get("account") or {}
    as_of = _moment(detail["as_of"])
    moments = [_moment(e["timestamp"]) for e in events]
    cases = detail["cases"][:MAX_CASE_LANES]
    seg = detail["segments"]
    ends = [_moment(s["end"]) for c in cases for s in seg.get(c["case_id"], [])]
    all_moments = [m for m in moments + ends if m is not None]
    if not all_moments:
        return None
    axis = _Axis(min(all_moments), max(all_moments))
    sale_at = _moment(account.get("sale_at"))
    first_before = account.get("first_value_before_at")
    first_after = account.get("first_value_after_at")
    marks = []
    for e, m in zip(events, moments, strict=True):
        if e["kind"] not in ("value", "sale") or m is None:
            continue
        if e["kind"] == "sale":
            side = "sale"
        elif sale_at is None:
            side = "prospect"
        else:
            side = "before" if m < sale_at else "after"
        first = e["timestamp"] in (first_before, first_after) and e["kind"] == "value"
        marks.append({"x": axis.x(m), "kind": e["kind"], "side": side, "first": first,
                      "title": f"{e['timestamp']} {e['kind']}"
                               f"{' by ' + e['team'] if e.get('team') else ''}"
                               f"{': ' + e['label'] if e.get('label') else ''}"})
    teams = sorted({s["team"] for c in cases for s in seg.get(c["case_id"], [])})
    palette = {t: c for t, c in (palette or team_palette(teams)).items() if t in teams}
    lanes = []
    for i, c in enumerate(cases):
        y = 78 + i * LANE
        bars = []
        for s in seg.get(c["case_id"], []):
            x0, x1 = axis.x(_moment(s["start"])), axis.x(_moment(s["end"]))
            bars.append({"x": x0, "w": max(2.0, round(x1 - x0, 1)), "team": s["team"],
                         "colour": palette.get(s["team"], "#999"), "open": s["open"],
                         "title": f"{s['team']} held the clock {_hours(s['hours'])} "
                                  f"({s['start']} to {s['end']}"
                                  f"{', still open' if s['open'] else ''})"})
        smile = _moment(c.get("smiled_at"))
        lanes.append({"y": y, "case_id": c["case_id"], "bars": bars,
                      "smile_x": axis.x(smile) if smile else None,
                      "resolved": c.get("resolved"),
                      "title": (f"case {c['case_id']}: "
                                + (f"smiled after {_hours(c['smile_hours'])}"
                                   if c.get("resolved") else
                                   f"open for {_hours(c.get('open_hours') or 0)} so far"))})
    height = 78 + max(1, len(lanes)) * LANE + 34
    return {"width": WIDTH, "height": height, "left": LEFT, "right": WIDTH - RIGHT,
            "marks": marks, "lanes": lanes, "ticks": axis.ticks(),
            "sale_x": axis.x(sale_at) if sale_at else None,
            "as_of_x": axis.x(as_of) if as_of and axis.start <= as_of <= axis.end else None,
            "palette": palette, "axis_y": height - 26,
            "more_cases": max(0, len(detail["cases"]) - MAX_CASE_LANES)}


def case_clock(detail: dict[str, Any],
               palette: dict[str, str] | None = None) -> dict[str, Any]:
    """Shapes of a case's clock: its running stretches coloured by the team holding it,
    the stopped (happy) gaps between a smile and a reopen, the events as ticks, and the
    hours each team held it."""
    case = detail["case"]
    segments = detail["segments"]
    as_of = _moment(detail["as_of"])
    start = _moment(case["started_at"])
    end = _moment(case.get("smiled_at")) if case.get("resolved") else as_of
    moments = [start, end] + [_moment(e["timestamp"]) for e in detail["events"]]
    axis = _Axis(min(m for m in moments if m), max(m for m in moments if m))
    teams = sorted({s["team"] for s in segments} | {h["team"] for h in detail["holds"]})
    palette = {t: c for t, c in (palette or team_palette(teams)).items() if t in teams}
    bars = []
    for s in segments:
        x0, x1 = axis.x(_moment(s["start"])), axis.x(_moment(s["end"]))
        bars.append({"x": x0, "w": max(2.0, round(x1 - x0, 1)), "team": s["team"],
                     "colour": palette.get(s["team"], "#999"), "open": s["open"],
                     "title": f"{s['team']}: {_hours(s['hours'])} ({s['start']} to "
                              f"{s['end']}{', still running' if s['open'] else ''})"})
    ticks = []
    for e in detail["events"]:
        m = _moment(e["timestamp"])
        ticks.append({"x": axis.x(m), "kind": e["kind"],
                      "title": f"{e['timestamp']} {e['kind']}"
                               f"{' to ' + e['team'] if e.get('team') else ''}"
                               f"{': ' + e['label'] if e.get('label') else ''}"})
    total = sum(h["hours"] for h in detail["holds"]) or 0.0
    widest = max([h["hours"] for h in detail["holds"]] + [1e-9])
    holds = []
    for i, h in enumerate(sorted(detail["holds"], key=lambda h: -h["hours"])):
        holds.append({"y": 150 + i * LANE, "team": h["team"], "hours": h["hours"],
                      "share": h["hours"] / total if total else None,
                      "w": max(1.0, round(h["hours"] / widest * (WIDTH - LEFT - 160), 1)),
                      "colour": palette.get(h["team"], "#999")})
    height = 150 + max(1, len(holds)) * LANE + 10
    return {"width": WIDTH, "height": height, "left": LEFT, "right": WIDTH - RIGHT,
            "bars": bars, "ticks": ticks, "axis": axis.ticks(), "holds": holds,
            "start_x": axis.x(start), "end_x": axis.x(end) if end else None,
            "palette": palette, "open": not case.get("resolved")}
