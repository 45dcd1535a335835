"""The HTML report: one self-contained file that opens with the network cut, every chart
drawn, the same numbers as `report --format json`, clean to print; charts for slides."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import cli, cli_json
from valueclock.report.words import days, fmt_moment

# Anything that would make a browser fetch from elsewhere: src/href/action/poster/srcset
# attributes, CSS url() and @import with a scheme or a protocol-relative address.
EXTERNAL = re.compile(
    r"""(?:\b(?:src|href|action|poster|srcset|data)\s*=\s*["']?\s*(?:https?:)?//)"""
    r"""|(?:url\(\s*["']?\s*(?:https?:)?//)|(?:@import)""", re.I)
MAIN_CHARTS = ("waterfall", "km_ttv_after", "km_smile", "team_hours", "team_parts", "trend",
               "distribution_ttv_after_days")


@pytest.fixture(scope="module")
def report(demo_files, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    html, charts = out / "report.html", out / "charts"
    cli("report", demo_files["events"], "--accounts", demo_files["accounts"],
        "--format", "html", "--out", html, "--charts", charts)
    data = cli_json("report", demo_files["events"], "--accounts", demo_files["accounts"],
                    "--every", "month")
    return {"path": html, "html": html.read_text(encoding="utf-8"), "charts": charts,
            "json": data}


def test_the_report_is_one_file_that_loads_nothing(report):
    html = report["html"]
    assert EXTERNAL.findall(html) == []
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()
    # The only http:// in the file are SVG namespace names, which are never fetched.
    assert set(re.findall(r"https?://[^\s\"'<>)]+", html)) <= {
        "http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}


def test_the_report_shows_the_same_numbers_as_json(report):
    html, data = report["html"], report["json"]
    assert f'data-key="ttcv_text">{data["ttcv_text"]}<' in html
    for key in ("ttv_before_days", "ttv_after_days", "ttcv_days"):
        assert f'data-key="{key}">{days(data[key])}<' in html
    assert f'data-key="as_of">{fmt_moment(data["as_of"])}<' in html
    for p in data["periods"]:
        assert p["period"] in html
    for section in ("parts", "unfinished", "distributions", "teams", "trend", "slices",
                    "problems", "definitions"):
        assert f'<section id="{section}">' in html
    # It explains itself: each part has its one-line meaning beside the number.
    assert "How long before signing customers first got something useful" in html
    assert "Hours from an interruption" in html


def test_main_charts_export_as_svg_and_png(report):
    for name in MAIN_CHARTS:
        svg = report["charts"] / f"{name}.svg"
        png = report["charts"] / f"{name}.png"
        assert svg.read_text(encoding="utf-8").startswith("<svg"), name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name


def test_html_needs_format_html_for_charts(demo_files, tmp_path):
    from typer.testing import CliRunner

    from valueclock.cli import app

    result = CliRunner().invoke(app, ["report", str(demo_files["events"]), "--charts",
                                      str(tmp_path)])
    assert result.exit_code != 0


def test_it_opens_with_the_network_cut_and_draws_every_chart(report, page, artifacts):
    requests = []

    def block(route):
        requests.append(route.request.url)
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            route.abort()

    page.route("**/*", block)
    page.goto(report["path"].as_uri())
    assert [u for u in requests if not u.startswith("file://")] == []
    figures = page.locator("figure.chart")
    n = figures.count()
    assert n >= 10
    for i in range(n):
        svg = figures.nth(i).locator("svg").first
        box = svg.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 50, i
        marks = svg.locator("path, rect, line").count()
        assert marks > 3, i
    assert page.locator("[data-key=ttcv_text]").first.inner_text() == report["json"]["ttcv_text"]
    page.screenshot(path=str(artifacts / "report.png"), full_page=True)


def test_it_prints_cleanly(report, page, artifacts):
    page.goto(report["path"].as_uri())
    page.emulate_media(media="print")
    assert not page.locator("nav.toc").is_visible()
    pdf = page.pdf(format="A4")
    assert pdf[:5] == b"%PDF-" and len(pdf) > 20_000
    (artifacts / "report.pdf").write_bytes(pdf)
