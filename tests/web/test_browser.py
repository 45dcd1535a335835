"""The dashboard in Debian's chromium: open it on the demo company, filter, follow an
account to its timeline and a case to its clock, and find the numbers `valueclock report
--format json` (and `accounts`, `cases`, `teams`) print for the same data. A screenshot of
each page goes to test-artifacts/."""

from __future__ import annotations

import math
from urllib.parse import parse_qs, urlparse

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pytest

from tests.web.conftest import Server, cli_json, dashboard_of
from valueclock.report.words import days, hours

TOKEN = "browser-test-token-123"


def same(a, b, path="") -> None:
    """Equal, floats up to summation order (1e-9 relative)."""
    if isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (path, a, b)
    elif isinstance(a, dict) and isinstance(b, dict):
        assert a.keys() == b.keys(), (path, set(a) ^ set(b))
        for k in a:
            same(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same(x, y, f"{path}[{i}]")
    else:
        assert a == b, (path, a, b)


@pytest.fixture(scope="module")
def cli_data(demo_files):
    ev, acc = demo_files["events"], demo_files["accounts"]
    return {
        "report": cli_json("report", ev, "--accounts", acc, "--every", "month",
                           "--by", "segment"),
        "accounts": {r["account_id"]: r for r in cli_json("accounts", ev, "--accounts", acc)},
        "cases": {r["case_id"]: r for r in cli_json("cases", ev)},
        "teams": cli_json("teams", ev, "--accounts", acc),
    }


def shot(page, artifacts, name: str) -> None:
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)


def headline(page) -> str:
    return page.locator(".headline [data-key=ttcv_text]").inner_text()


def choose(page, name: str, value: str) -> None:
    """Pick a filter: the page submits itself (the filters land in the address)."""
    with page.expect_navigation():
        page.select_option(f"form.filters select[name={name}]", value)


def test_the_dashboard_shows_the_report_numbers(page, demo_server, cli_data, artifacts):
    r = cli_data["report"]
    page.goto(demo_server.url + "/")
    assert headline(page) == r["ttcv_text"]
    parts = page.locator("table.parts").first
    assert parts.locator("[data-key=ttv_before_days]").inner_text() == days(r["ttv_before_days"])
    assert parts.locator("[data-key=ttv_after_days]").inner_text() == days(r["ttv_after_days"])
    assert parts.locator("[data-key=smile_hours]").inner_text() == \
        hours(r["smile_hours"], sign=True)
    assert parts.locator("[data-key=ttcv_days]").inner_text() == days(r["ttcv_days"])
    # It explains itself to someone who never read the article.
    assert "Negative days" in parts.inner_text()
    assert page.locator("#chart-waterfall svg").count() == 1
    assert page.locator("#chart-trend svg").count() == 1
    # The API answers exactly the object the command line prints.
    api = page.request.get(demo_server.url + "/api/report?every=month&by=segment").json()
    same(api, r)
    shot(page, artifacts, "dashboard")


def test_filters_live_in_the_address_and_match_the_command_line(
        page, demo_server, demo_files, cli_data, artifacts, tmp_path):
    r = cli_data["report"]
    page.goto(demo_server.url + "/")
    choose(page, "by", "segment")
    assert parse_qs(urlparse(page.url).query)["by"] == ["segment"]
    rows = page.locator("#slices-table tbody tr")
    assert rows.count() == len(r["slices"])
    choose(page, "value", "Enterprise")
    query = parse_qs(urlparse(page.url).query)
    assert query["by"] == ["segment"] and query["value"] == ["Enterprise"]
    enterprise = next(s for s in r["slices"] if s["value"] == "Enterprise")
    assert headline(page) == enterprise["ttcv_text"]
    shot(page, artifacts, "dashboard-filtered")

    # A shared link shows the same view.
    other = page.context.new_page()
    other.goto(page.url)
    assert headline(other) == enterprise["ttcv_text"]
    other.close()

    # The filtered view is `valueclock report` on the Enterprise accounts' events.
    events = pacsv.read_csv(demo_files["events"])
    accounts = pacsv.read_csv(demo_files["accounts"])
    ids = pc.filter(accounts["account_id"], pc.equal(accounts["segment"], "Enterprise"))
    keep = pa.chunked_array([ids]).combine_chunks()
    pacsv.write_csv(events.filter(pc.is_in(events["account_id"], keep)), tmp_path / "ev.csv")
    pacsv.write_csv(accounts.filter(pc.is_in(accounts["account_id"], keep)),
                    tmp_path / "acc.csv")
    expected = cli_json("report", tmp_path / "ev.csv", "--accounts", tmp_path / "acc.csv",
                        "--as-of", r["as_of"], "--every", "month", "--by", "segment")
    api = page.request.get(demo_server.url + "/api/report?by=segment&value=Enterprise"
                                             "&every=month").json()
    same(api, expected)


def test_a_period_shows_its_cohort(page, demo_server, cli_data, artifacts):
    r = cli_data["report"]
    period = next(p for p in r["periods"] if p["ttcv_text"] and p["sold_accounts"] > 5)
    page.goto(demo_server.url + "/")
    choose(page, "period", period["period"])
    assert parse_qs(urlparse(page.url).query)["period"] == [period["period"]]
    assert headline(page) == period["ttcv_text"]
    page.locator("#lists a", has_text="Accounts").first.click()
    page.wait_for_url("**/accounts?*")
    assert page.locator("#accounts-count").inner_text().startswith(
        f"{period['sold_accounts']:,} accounts")


def test_accounts_search_sort_page_and_an_accounts_timeline(page, demo_server, cli_data,
                                                            artifacts):
    accounts = cli_data["accounts"]
    page.goto(demo_server.url + "/accounts")
    assert page.locator("#accounts-count").inner_text().startswith(f"{len(accounts):,} accounts")
    # Sort by the account's own total, slowest first (click twice: up, then down).
    for _ in range(2):
        with page.expect_navigation():
            page.locator("#accounts-table thead a", has_text="ttcv days").click()
    slowest = max((a for a in accounts.values() if a["ttcv_days"] is not None),
                  key=lambda a: (a["ttcv_days"], a["account_id"]))
    first = page.locator("#accounts-table tbody tr").first.locator("td").first.inner_text()
    assert first == slowest["account_id"]
    with page.expect_navigation():
        page.locator("nav.pages a[rel=next]").click()
    assert "page=2" in page.url and "sort=ttcv_days" in page.url
    # Search.
    page.fill("form.search input[name=q]", "A0001")
    with page.expect_navigation():
        page.locator("form.search button[type=submit]").click()
    ids = page.locator("#accounts-table tbody tr td:first-child").all_inner_texts()
    assert ids and all("A0001" in i for i in ids)
    assert len(ids) == sum("A0001" in a for a in accounts)
    shot(page, artifacts, "accounts")

    # Follow the account with the most cases to its timeline.
    page.goto(demo_server.url + "/accounts?sort=cases&desc=1")
    link = page.locator("#accounts-table tbody tr").first.locator("td a").first
    account_id = link.inner_text()
    with page.expect_navigation():
        link.click()
    row = accounts[account_id]
    assert page.locator("h1 .id").inner_text() == account_id
    assert page.locator(".account-parts [data-key=ttv_before_days]").inner_text() == \
        days(row["ttv_before_days"])
    if row["value_reached"]:
        assert page.locator(".account-parts [data-key=ttv_after_days]").inner_text() == \
            days(row["ttv_after_days"])
    assert page.locator(".account-parts [data-key=smile_hours]").inner_text() == \
        hours(row["smile_hours"])
    timeline = page.locator("svg.timeline")
    assert timeline.locator("rect.hold").count() >= row["cases"]
    assert timeline.locator("circle.value").count() >= 1
    assert page.locator("#account-cases tbody tr").count() == row["cases"]
    colours = set(timeline.locator("rect.hold").evaluate_all(
        "els => els.map(e => e.getAttribute('data-team'))"))
    assert colours <= {t["team"] for t in cli_data["teams"]["teams"]}
    shot(page, artifacts, "account")


def test_a_case_and_its_clock(page, demo_server, cli_data, artifacts):
    cases = cli_data["cases"]
    page.goto(demo_server.url + "/cases?sort=reopens&desc=1")
    link = page.locator("#cases-table tbody tr").first.locator("td a").first
    case_id = link.inner_text()
    assert cases[case_id]["reopens"] == max(c["reopens"] for c in cases.values())
    shot(page, artifacts, "cases")
    with page.expect_navigation():
        link.click()
    row = cases[case_id]
    assert page.locator("h1 .id").inner_text() == case_id
    assert page.locator(".case-parts [data-key=smile_hours]").inner_text() == \
        hours(row["smile_hours"])
    assert page.locator(".case-parts [data-key=reopens]").inner_text() == str(row["reopens"])
    clock = page.locator("svg.clock")
    assert clock.locator("rect.segment").count() >= 2
    assert clock.locator("text.reopen").count() == row["reopens"]
    assert clock.locator("text.smile").count() == row["reopens"] + 1
    held = [float(x) for x in page.locator("#case-holds td.num").all_inner_texts()]
    assert math.isclose(sum(held), row["smile_hours"], abs_tol=0.011 * len(held))
    shot(page, artifacts, "case")

    # An open case: its time so far.
    page.goto(demo_server.url + "/cases?state=open")
    link = page.locator("#cases-table tbody tr").first.locator("td a").first
    case_id = link.inner_text()
    with page.expect_navigation():
        link.click()
    assert page.locator(".case-parts [data-key=open_hours]").inner_text() == \
        hours(cases[case_id]["open_hours"])
    assert page.locator("svg.clock text", has_text="still open").count() == 1
    shot(page, artifacts, "case-open")


def test_teams(page, demo_server, cli_data, artifacts):
    page.goto(demo_server.url + "/teams")
    teams = cli_data["teams"]["teams"]
    names = page.locator("#teams-table tbody tr td:first-child").all_inner_texts()
    assert [n.strip() for n in names] == [t["team"] for t in teams]
    assert page.locator("#chart-team-hours svg").count() == 1
    shot(page, artifacts, "teams")
    with page.expect_navigation():
        page.locator("#teams-table a", has_text=teams[0]["team"]).click()
    assert parse_qs(urlparse(page.url).query)["team"] == [teams[0]["team"]]


def test_an_account_named_script_shows_as_text(page, evil_dashboard, artifacts):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    with Server(evil_dashboard) as server:
        for path in ("/", "/accounts", "/accounts/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
                     "/cases/%3Ci%3ET1%3C%2Fi%3E", "/teams", "/?by=segment"):
            page.goto(server.url + path)
            page.wait_for_load_state("load")
            assert page.title() != "pwned"
        page.goto(server.url + "/accounts/%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        assert page.locator("h1 .id").inner_text() == "<script>alert(1)</script>"
        shot(page, artifacts, "escaping")
    assert dialogs == []


def test_sign_in_with_the_token(page, demo_files, artifacts):
    with Server(dashboard_of(demo_files), token=TOKEN) as server:
        page.goto(server.url + "/teams")
        assert "/signin" in page.url
        page.fill("input[name=token]", "wrong")
        with page.expect_navigation():
            page.locator("button[type=submit]").click()
        assert page.locator(".error").is_visible()
        shot(page, artifacts, "signin")
        page.fill("input[name=token]", TOKEN)
        with page.expect_navigation():
            page.locator("button[type=submit]").click()
        assert urlparse(page.url).path == "/teams"
        assert page.locator("#teams-table").is_visible()
        # Scripts send the token as a header; without it the API refuses.
        fresh = page.context.browser.new_context()
        assert fresh.request.get(server.url + "/api/report").status == 401
        assert fresh.request.get(server.url + "/api/report", headers={
            "authorization": f"Bearer {TOKEN}"}).status == 200
        fresh.close()
