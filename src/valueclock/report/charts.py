"""Charts of what the engine measured, drawn offline: Altair specs rendered by vl-convert.

Each function takes what :class:`~valueclock.engine.Measurement` returned (the summary
dict, a survival curve, the teams table) and returns an Altair chart, or None when there
is nothing to draw. :func:`to_svg` and :func:`to_png` render a chart without a browser or
a network (vl-convert bundles Vega); nothing is ever fetched from a CDN.

Nothing here computes a figure: the only arithmetic is placing bars (where a waterfall
step starts) and thinning long survival curves to a few hundred points for drawing.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import numpy as np
import pandas as pd
from markupsafe import escape

from valueclock.report.words import PARTS, team_palette
from valueclock.stats import SurvivalCurve

__all__ = ["distribution", "slices_chart", "survival", "team_hours", "team_parts", "to_png",
           "svg_to_png", "to_svg", "trend", "waterfall"]

FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
#: Colours of the parts of the law (the same in every chart).
PART_COLOURS = {"Before sale": "#009E73", "After sale": "#E69F00", "Smile": "#0072B2",
                "Total": "#333333"}
WIDTH = 560
#: Longest survival curve drawn point by point; longer ones are thinned to about this many.
MAX_CURVE_POINTS = 600

_SHORT = {p["key"]: p["short"] for p in PARTS}


def _base(data: pd.DataFrame | list[dict[str, Any]]) -> alt.Chart:
    frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
    return alt.Chart(frame)


def _configure(chart: alt.TopLevelMixin, title: str, subtitle: str | None = None) -> Any:
    t = alt.TitleParams(title, subtitle=subtitle or "", anchor="start", fontSize=14,
                        subtitleFontSize=11, subtitleColor="#555")
    return (chart.properties(title=t)
            .configure(font=FONT, background="white")
            .configure_view(stroke=None)
            .configure_axis(labelFontSize=11, titleFontSize=11, grid=True, gridColor="#eee")
            .configure_legend(labelFontSize=11, titleFontSize=11, orient="bottom"))


def waterfall(s: dict[str, Any]) -> Any | None:
    """The headline as a waterfall: before sale (below zero), after sale, smile, total."""
    after, total = s.get("ttv_after_days"), s.get("ttcv_days")
    if after is None or total is None:
        return None
    before = s.get("ttv_before_days") or 0.0
    smile = (s.get("smile_hours") or 0.0) / 24.0
    steps = [
        ("Before sale", 0.0, before, f"{before:+.1f} d"),
        ("After sale", before, before + after, f"{after:+.1f} d"),
        ("Smile", before + after, before + after + smile,
         f"{(s.get('smile_hours') or 0.0):+.1f} h"),
        ("Total", 0.0, total, s.get("ttcv_text") or ""),
    ]
    rows = [{"step": n, "start": a, "end": b, "label": lab, "order": i,
             "top": max(a, b)} for i, (n, a, b, lab) in enumerate(steps)]
    base = _base(rows)
    order = [r["step"] for r in rows]
    x = alt.X("step:N", sort=order, title=None, axis=alt.Axis(labelAngle=0))
    bars = base.mark_bar(size=60).encode(
        x=x, y=alt.Y("start:Q", title="days"), y2="end:Q",
        color=alt.Color("step:N", scale=alt.Scale(domain=list(PART_COLOURS),
                                                  range=list(PART_COLOURS.values())),
                        legend=None),
        tooltip=["step", "label"])
    labels = base.mark_text(dy=-8, fontSize=12, fontWeight="bold").encode(
        x=x, y="top:Q", text="label:N")
    zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color="#333").encode(y="y:Q")
    chart = alt.layer(bars, labels, zero).properties(width=WIDTH * 0.75, height=260)
    return _configure(chart, f"Time to Customer Value: {s.get('ttcv_text')}",
                      f"{s.get('stat')} of each part, added as the law adds them; "
                      "bars below zero are value before the sale")


def distribution(name: str, d: dict[str, Any]) -> Any | None:
    """A histogram of one part from its bins (``summary["distributions"][name]``)."""
    bins = d.get("bins") or []
    if not bins or not d.get("count"):
        return None
    unit = d.get("unit", "")
    last = len(bins) - 1
    rows = []
    for b in bins:
        lo, hi = b["lo"], b["hi"]
        label = f"{lo:g}" if lo == hi else (f"{lo:g} to {hi:,.0f}" if b["bin"] == last
                                            and last > 0 else f"{lo:g} to {hi:g}")
        rows.append({"bin": b["bin"], "range": label, "count": b["count"]})
    order = [r["range"] for r in rows]
    colour = PART_COLOURS.get(_SHORT.get(name, ""), "#4E79A7")
    chart = _base(rows).mark_bar(color=colour).encode(
        x=alt.X("range:N", sort=order, title=unit, axis=alt.Axis(labelAngle=-40)),
        y=alt.Y("count:Q", title="how many"),
        tooltip=["range", "count"]).properties(width=WIDTH * 0.62, height=170)
    p = d.get("percentiles") or {}
    sub = [f"over {d['count']:,} {d.get('over', '')}"]
    if p.get("p50") is not None:
        sub.append(f"median {p['p50']:,.1f}, p90 {p['p90']:,.1f} {unit}")
    if d.get("unfinished"):
        sub.append(f"{d['unfinished']:,} unfinished not in the bars")
    title = next((x["name"] for x in PARTS if x["key"] == name), name)
    if name == "ttcv_days":
        title = "Each account's own Time to Customer Value"
    return _configure(chart, title, "; ".join(sub))


def _thin(curve: SurvivalCurve) -> pd.DataFrame:
    n = len(curve.duration)
    frame = curve.to_arrow().to_pandas()
    if n <= MAX_CURVE_POINTS:
        return frame
    # Keep the first and last points, about MAX_CURVE_POINTS spread evenly, and every
    # point where the curve drops by a visible step: the shape survives, the size does not.
    keep = np.zeros(n, dtype=bool)
    keep[np.linspace(0, n - 1, MAX_CURVE_POINTS).astype(int)] = True
    drop = np.abs(np.diff(curve.survival, prepend=1.0)) >= 0.01
    keep |= drop
    return frame[keep]


def survival(curve: SurvivalCurve, info: dict[str, Any]) -> Any | None:
    """A Kaplan-Meier curve with its band, the unfinished marked with ticks."""
    if curve.subjects == 0:
        return None
    unit = info.get("unit", "days")
    frame = _thin(curve)
    top = float(curve.duration.max())
    q = curve.quantile(0.97)
    cut = q is not None and q < top * 0.8
    x_max = q * 1.05 if cut else top
    x = alt.X("duration:Q", title=unit, scale=alt.Scale(domain=[0, x_max], nice=False))
    y = alt.Y("survival:Q", title="share not there yet", scale=alt.Scale(domain=[0, 1]),
              axis=alt.Axis(format="%"))
    base = _base(frame)
    band = base.mark_area(interpolate="step-after", opacity=0.2, color="#0072B2", clip=True).encode(
        x=x, y=alt.Y("ci_lower:Q", scale=alt.Scale(domain=[0, 1])), y2="ci_upper:Q")
    line = base.mark_line(interpolate="step-after", color="#0072B2", clip=True).encode(
        x=x, y=y, tooltip=["duration", "survival", "at_risk"])
    layers = [band, line]
    censored = frame[frame["censored"] > 0]
    if len(censored):
        layers.append(alt.Chart(censored).mark_tick(color="#D55E00", thickness=1.5,
                                                    size=10, clip=True).encode(
            x=x, y=y, tooltip=["duration", "censored"]))
    chart = alt.layer(*layers).properties(width=WIDTH * 0.62, height=220)
    sub = (f"{info.get('events', 0):,} {info.get('event_words', 'finished')}, "
           f"{info.get('censored', 0):,} {info.get('censor_words', 'unfinished')} "
           "(orange ticks)")
    median = (info.get("quantiles") or {}).get("p50")
    if median is not None:
        sub += f"; half there after {median:,.1f} {unit}"
    if cut:
        sub += f"; axis cut at the 97th percentile ({q:,.0f} {unit})"
    return _configure(chart, info.get("title", "Kaplan-Meier"), sub)


def team_hours(team_rows: list[dict[str, Any]]) -> Any | None:
    """Hours each team held the clock, in cases now resolved and in cases still open."""
    rows = []
    for t in team_rows:
        held = t.get("hours") or 0.0
        if held <= 0:
            continue
        resolved = t.get("smile_hours") or 0.0
        rows.append({"team": t["team"], "cases": "resolved cases", "hours": resolved})
        if held - resolved > 1e-9:
            rows.append({"team": t["team"], "cases": "open cases (so far)",
                         "hours": held - resolved})
    if not rows:
        return None
    order = [t["team"] for t in team_rows if (t.get("hours") or 0) > 0]
    chart = _base(rows).mark_bar().encode(
        y=alt.Y("team:N", sort=order, title=None),
        x=alt.X("hours:Q", title="hours holding the clock", stack="zero"),
        color=alt.Color("cases:N", title=None,
                        scale=alt.Scale(domain=["resolved cases", "open cases (so far)"],
                                        range=["#0072B2", "#E69F00"])),
        tooltip=["team", "cases", alt.Tooltip("hours:Q", format=",.1f")],
    ).properties(width=WIDTH * 0.75, height=max(60, 24 * len(order)))
    return _configure(chart, "Who holds the clock",
                      "hours each team held cases' clocks (Time to Smile is made of them)")


def team_parts(team_rows: list[dict[str, Any]],
               palette: dict[str, str] | None = None) -> Any | None:
    """Per part of the journey, each team's share: first value before / after the sale
    (accounts) and Time to Smile (hours held in resolved cases)."""
    rows = []
    for t in team_rows:
        for part, key in (("Before sale: first value", "first_value_before_accounts"),
                          ("After sale: first value", "first_value_after_accounts"),
                          ("Smile: hours held", "smile_hours")):
            v = t.get(key) or 0
            if v > 0:
                rows.append({"part": part, "team": t["team"], "amount": float(v)})
    if not rows:
        return None
    palette = palette or team_palette([t["team"] for t in team_rows])
    chart = _base(rows).mark_bar().encode(
        y=alt.Y("part:N", title=None, sort=["Before sale: first value",
                                            "After sale: first value", "Smile: hours held"]),
        x=alt.X("amount:Q", stack="normalize", title="share",
                axis=alt.Axis(format="%")),
        color=alt.Color("team:N", scale=alt.Scale(domain=list(palette),
                                                  range=list(palette.values())),
                        title="team", legend=alt.Legend(columns=3, orient="bottom")),
        tooltip=["part", "team", alt.Tooltip("amount:Q", format=",.1f")],
    ).properties(width=WIDTH * 0.75, height=110)
    return _configure(chart, "Which team moves each part",
                      "share of accounts whose first value the team delivered; share of "
                      "Time to Smile hours it held")


_TREND_PARTS = (("ttcv_days", "Total"), ("ttv_before_days", "Before sale"),
                ("ttv_after_days", "After sale"), ("smile_days", "Smile"))


def trend(periods: list[dict[str, Any]] | None) -> Any | None:
    """Each part and the total per period (``summary["periods"]``)."""
    if not periods:
        return None
    rows = []
    for p in periods:
        for key, name in _TREND_PARTS:
            v = p.get(key)
            if v is None:
                continue
            rows.append({"period": p["period"], "start": p["start"][:10], "part": name,
                         "days": v, "small": "yes" if p.get("small") else "no"})
    if not rows:
        return None
    domain = [n for _, n in _TREND_PARTS]
    colour = alt.Color("part:N", scale=alt.Scale(domain=domain,
                                                 range=[PART_COLOURS[n] for n in domain]),
                       sort=domain, title=None)
    order = [p["period"] for p in periods]
    x = alt.X("period:N", sort=order, title=None, axis=alt.Axis(labelAngle=-40))
    base = _base(rows)
    lines = base.mark_line().encode(x=x, y=alt.Y("days:Q", title="days"), color=colour,
                                    strokeWidth=alt.condition(alt.datum.part == "Total",
                                                              alt.value(3), alt.value(1.5)))
    points = base.mark_point(size=40).encode(
        x=x, y="days:Q", color=colour,
        fill=alt.condition(alt.datum.small == "yes", alt.value("white"), colour),
        tooltip=["period", "part", alt.Tooltip("days:Q", format="+.1f"), "small"])
    zero = alt.Chart(pd.DataFrame({"y": [0]})).mark_rule(color="#333").encode(y="y:Q")
    chart = alt.layer(zero, lines, points).properties(width=WIDTH, height=240)
    return _configure(chart, "Trend by period",
                      "Time to Value by sale cohort, Time to Smile by case start (in days); "
                      "hollow points: small periods")


def slices_chart(slices: list[dict[str, Any]] | None) -> Any | None:
    """Per slice: its parts stacked around zero and its total (a diamond)."""
    if not slices:
        return None
    rows, totals = [], []
    for s in slices:
        label = "(none)" if s["value"] is None else str(s["value"])
        if s.get("small"):
            label += " (small)"
        for key, name in _TREND_PARTS[1:]:
            v = s.get(key)
            if v is not None:
                rows.append({"slice": label, "part": name, "days": v})
        if s.get("ttcv_days") is not None:
            totals.append({"slice": label, "days": s["ttcv_days"],
                           "text": s.get("ttcv_text") or ""})
    if not rows:
        return None
    order = []
    for r in rows:
        if r["slice"] not in order:
            order.append(r["slice"])
    domain = [n for _, n in _TREND_PARTS[1:]]
    y = alt.Y("slice:N", sort=order, title=slices[0]["by"])
    bars = _base(rows).mark_bar(height=14).encode(
        y=y, x=alt.X("days:Q", title="days", stack="zero"),
        color=alt.Color("part:N", scale=alt.Scale(domain=domain,
                                                  range=[PART_COLOURS[n] for n in domain]),
                        sort=domain, title=None),
        tooltip=["slice", "part", alt.Tooltip("days:Q", format="+.1f")])
    layers = [bars]
    if totals:
        layers.append(_base(totals).mark_point(shape="diamond", filled=True, size=90,
                                               color="#333").encode(
            y=y, x="days:Q", tooltip=["slice", "text"]))
    chart = alt.layer(*layers).properties(width=WIDTH * 0.75,
                                          height=max(60, 26 * len(order)))
    return _configure(chart, f"By {slices[0]['by']}",
                      "parts stacked around zero; the diamond is the slice's Time to "
                      "Customer Value")


_ACTIVE_TAGS = {"script", "foreignobject", "iframe", "object", "embed"}


def _check_inert(svg: str) -> None:
    """Refuse SVG with elements or attributes that could run code (Vega escapes every
    text it draws; this makes sure of it before the SVG is inlined in a page)."""
    from xml.etree import ElementTree

    root = ElementTree.fromstring(svg)
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1].lower()
        if tag in _ACTIVE_TAGS:
            raise ValueError(f"refusing to inline an SVG with a <{tag}> element")
        for name, value in el.attrib.items():
            bare = name.rsplit("}", 1)[-1].lower()
            if bare.startswith("on") or (bare == "href" and value.strip().lower()
                                         .startswith(("javascript:", "data:text/html"))):
                raise ValueError(f"refusing to inline an SVG with a {bare} attribute")


def to_svg(chart: Any, label: str = "") -> str:
    """The chart as an SVG element to inline in HTML (text escaped by Vega; checked)."""
    import vl_convert as vlc

    svg = vlc.vegalite_to_svg(chart.to_dict())
    svg = svg[svg.index("<svg"):]
    _check_inert(svg)
    if label:
        svg = svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)
    return svg


def to_png(chart: Any, scale: float = 2.0) -> bytes:
    """The chart as a PNG image (``scale`` times its size, for slides)."""
    import vl_convert as vlc

    return vlc.vegalite_to_png(chart.to_dict(), scale=scale)


def svg_to_png(svg: str, scale: float = 2.0) -> bytes:
    """An SVG made by :func:`to_svg` as a PNG image (``scale`` times its size)."""
    import vl_convert as vlc

    return vlc.svg_to_png(svg, scale=scale)
