"""The HTML report: one self-contained file to send around, and its charts for slides.

    valueclock report events.csv --accounts accounts.csv --format html --out report.html

:func:`gather` asks the engine for everything the report shows (the summary with its
periods and slices, the Kaplan-Meier curves, the teams); :func:`render_html` turns that
into one HTML file whose charts are inline SVG rendered offline (Altair + vl-convert), so
the file opens with the network cut; :func:`export_charts` writes the main charts as SVG
and PNG. Nothing here computes a figure of its own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from valueclock import __version__
from valueclock.engine import Measurement, iso
from valueclock.engine.slices import account_attributes, slices
from valueclock.engine.summary import Stat
from valueclock.engine.survival import KM_PARTS, describe
from valueclock.output import rows
from valueclock.report import charts
from valueclock.report.words import EXPLAIN, FILTERS, PARTS, TEAM_COLUMNS_EXPLAINED

__all__ = ["DEFAULT_EVERY", "build_charts", "environment", "export_charts", "gather",
           "render_html", "render_svgs", "write_report"]

#: The period of the report's trend when ``every`` is not given.
DEFAULT_EVERY = "month"
#: Attributes sliced when ``by`` is not given: account attributes with 2 to this many values.
AUTO_SLICE_MAX_VALUES = 12
AUTO_SLICES = 3


def environment(*extra_packages: str) -> Environment:
    """The Jinja environment (autoescape on) with the report's filters and templates."""
    from jinja2 import ChoiceLoader

    loaders = [PackageLoader(p, "templates") for p in extra_packages]
    loaders.append(PackageLoader("valueclock.report", "templates"))
    env = Environment(loader=ChoiceLoader(loaders),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(FILTERS)
    env.globals.update(PARTS=PARTS, EXPLAIN=EXPLAIN, TEAM_COLUMNS=TEAM_COLUMNS_EXPLAINED,
                       version=__version__)
    return env


def _auto_slices(m: Measurement) -> list[str]:
    """Account attributes with a few values (segment, region, plan...), at most three."""
    picked = []
    for name in account_attributes(m):
        n = m.accounts[name].nunique().to_pyarrow().as_py()
        if 2 <= (n or 0) <= AUTO_SLICE_MAX_VALUES:
            picked.append(name)
        if len(picked) == AUTO_SLICES:
            break
    return picked


def gather(m: Measurement, stat: str = "median", *, target_days: float = 0.0,
           by: str | None = None, every: str | None = None, min_size: int = 30,
           bins: int = 10, summary: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the report shows, from the engine.

    ``summary`` is ``m.summary(stat, by=by, every=every or "month", ...)`` when not given.
    Without ``by`` the slices are those of up to three account attributes with a few
    values each.
    """
    every = every or DEFAULT_EVERY
    if summary is None:
        summary = m.summary(stat, target_days=target_days, by=by, every=every,
                            min_size=min_size, bins=bins)
    sliced: dict[str, list[dict[str, Any]]] = {}
    if summary.get("slices"):
        sliced[summary["slices"][0]["by"]] = summary["slices"]
    elif by is None:
        st = Stat.parse(stat)
        for name in _auto_slices(m):
            sliced[name] = slices(m, summary, st, name, target_days, min_size)
    km = {}
    for name, part in KM_PARTS.items():
        curve = m.survival(name)
        table = m.accounts if part.table == "accounts" else m.cases
        km[name] = {"curve": curve, "info": describe(table, part, curve)}
    return {"summary": summary, "slices": sliced, "km": km,
            "teams": rows(m.team_stats.to_pyarrow()), "every": every,
            "min_size": min_size, "as_of": iso(m.as_of)}


def build_charts(data: dict[str, Any]) -> dict[str, Any]:
    """The report's charts (Altair), by name; a name is missing when there is no data."""
    s = data["summary"]
    found: dict[str, Any] = {"waterfall": charts.waterfall(s)}
    for name, d in (s.get("distributions") or {}).items():
        found[f"distribution_{name}"] = charts.distribution(name, d)
    for name, k in data["km"].items():
        found[f"km_{name}"] = charts.survival(k["curve"], k["info"])
    found["team_hours"] = charts.team_hours(data["teams"])
    found["team_parts"] = charts.team_parts(data["teams"])
    found["trend"] = charts.trend(s.get("periods"))
    for by, sl in data["slices"].items():
        found[f"slices_{by}"] = charts.slices_chart(sl)
    return {k: v for k, v in found.items() if v is not None}


def render_svgs(chart_objects: dict[str, Any]) -> dict[str, str]:
    """Each chart rendered to SVG (offline), by name."""
    return {name: charts.to_svg(c, label=name.replace("_", " "))
            for name, c in chart_objects.items()}


def render_html(data: dict[str, Any], svgs: dict[str, str] | None = None,
                title: str = "valueclock report") -> str:
    """The report as one self-contained HTML page (inline CSS and SVG, no script)."""
    svgs = render_svgs(build_charts(data)) if svgs is None else svgs
    template = environment().get_template("report.html.j2")
    return template.render(title=title, svgs={k: Markup(v) for k, v in svgs.items()},
                           **data)


def export_charts(svgs: dict[str, str], folder: Path) -> list[Path]:
    """Write each chart as ``NAME.svg`` and ``NAME.png`` (twice the size) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, svg_text in svgs.items():
        svg = folder / f"{name}.svg"
        svg.write_text(svg_text, encoding="utf-8")
        png = folder / f"{name}.png"
        png.write_bytes(charts.svg_to_png(svg_text))
        written += [svg, png]
    return written


def write_report(m: Measurement, out: Path | None, *, stat: str = "median",
                 target_days: float = 0.0, by: str | None = None, every: str | None = None,
                 min_size: int = 30, bins: int = 10, charts_dir: Path | None = None) -> str:
    """Gather, render and write the report to ``out`` (returned as text when None);
    with ``charts_dir`` also export its charts there as SVG and PNG."""
    data = gather(m, stat, target_days=target_days, by=by, every=every, min_size=min_size,
                  bins=bins)
    svgs = render_svgs(build_charts(data))
    html = render_html(data, svgs)
    if out is not None:
        out.write_text(html, encoding="utf-8")
    if charts_dir is not None:
        export_charts(svgs, charts_dir)
    return html
