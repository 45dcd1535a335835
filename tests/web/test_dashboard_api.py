"""The dashboard's addresses and API in process: a workspace served read-only, errors,
the OpenAPI description, and every option and address documented."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import REPO
from tests.web.conftest import cli, cli_json
from tests.web.test_browser import same
from valueclock.web.app import create_app

ADDRESSES = ("/", "/accounts", "/accounts/{account_id}", "/cases", "/cases/{case_id}",
             "/teams", "/report.html", "/signin", "/api/report", "/api/accounts",
             "/api/accounts/{account_id}", "/api/cases", "/api/cases/{case_id}",
             "/api/teams", "/api/filters", "/api/openapi.json")


@pytest.fixture(scope="module")
def workspace(demo_files, tmp_path_factory):
    from valueclock.workspace import Workspace

    folder = tmp_path_factory.mktemp("ws") / "northbeam"
    with Workspace.init(folder) as ws:
        ws.ingest([demo_files["events"]], accounts=demo_files["accounts"])
    return folder


@pytest.fixture(scope="module")
def client(workspace):
    from valueclock.web.command import load

    return TestClient(create_app(load([workspace])), base_url="http://127.0.0.1")


def test_a_workspace_is_served_read_only_with_the_report_numbers(client, workspace):
    expected = cli_json("report", "-w", workspace, "--every", "quarter")
    same(client.get("/api/report?every=quarter").json(), expected)
    # Opened read-only: another process may still read it meanwhile.
    assert cli_json("report", "-w", workspace)["ttcv_text"] == expected["ttcv_text"]


def test_lists_page_and_clamp(client):
    first = client.get("/api/accounts?per_page=25").json()
    assert first["page"] == 1 and len(first["rows"]) == 25
    assert first["pages"] == -(-first["total"] // 25)
    last = client.get(f"/api/accounts?per_page=25&page={first['pages'] + 5}").json()
    assert last["page"] == first["pages"]
    desc = client.get("/api/cases?sort=smile_hours&desc=true&per_page=25").json()["rows"]
    hours = [r["smile_hours"] for r in desc if r["smile_hours"] is not None]
    assert hours == sorted(hours, reverse=True)


def test_mistakes_are_explained(client):
    r = client.get("/api/report?stat=p999x")
    assert r.status_code == 400 and "unknown statistic" in r.json()["detail"]
    assert client.get("/api/accounts?sort=nope").status_code == 400
    assert client.get("/?by=nope&value=x").status_code == 400
    assert "no attribute" in client.get("/?by=nope&value=x").text
    assert client.get("/api/accounts/nobody").status_code == 404
    page = client.get("/accounts/nobody")
    assert page.status_code == 404 and "No account" in page.text
    assert client.get("/cases/nothing").status_code == 404


def test_openapi_describes_the_api(client):
    spec = client.get("/api/openapi.json").json()
    for path in ("/api/report", "/api/accounts", "/api/cases", "/api/teams",
                 "/api/accounts/{account_id}", "/api/cases/{case_id}", "/api/filters"):
        assert path in spec["paths"], path
    params = {p["name"] for p in spec["paths"]["/api/report"]["get"]["parameters"]}
    assert {"stat", "every", "by", "value", "team", "as_of", "target_days", "min_size",
            "bins"} <= params
    assert client.get("/api").status_code == 200


def test_the_html_report_of_a_view(client):
    html = client.get("/report.html?by=segment&value=SMB").text
    assert html.startswith("<!doctype html>") and "<script" not in html


def test_every_option_address_and_filter_is_documented():
    doc = (REPO / "docs" / "dashboard.md").read_text(encoding="utf-8")
    for address in ADDRESSES:
        assert f"`{address}" in doc or f"`GET {address}" in doc, address
    help_text = " ".join(cli("serve", "--help").split())
    for option in ("--workspace", "--accounts", "--timezone", "--as-of", "--lookback-days",
                   "--calendar", "--host", "--port", "--token", "VALUECLOCK_TOKEN"):
        assert option in doc, option
        assert option in help_text, option
    for param in ("stat", "every", "period", "by", "value", "team", "as_of", "q", "sort",
                  "desc", "page", "per_page", "state", "format"):
        assert f"`{param}`" in doc, param
    assert "--charts" in doc and "--format html" in doc
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "docs/dashboard.md" in readme and "valueclock serve" in readme


def _client_of(events, accounts=None):
    from valueclock.web.command import load

    return TestClient(create_app(load([events], accounts=accounts)),
                      base_url="http://127.0.0.1")


def test_the_articles_example_on_the_dashboard():
    client = _client_of(REPO.parent / "shared" / "spec" / "seed_example.csv")
    assert "11 days, 5 hours" in client.get("/").text
    case = client.get("/api/cases/T1").json()
    assert {h["team"]: h["hours"] for h in case["holds"]} == {"Support": 5.0,
                                                              "Engineering": 24.0}
    assert [round(s["hours"], 6) for s in case["segments"]] == [0.5, 4.0, 24.0, 0.5]
    assert [s["team"] for s in case["segments"]] == ["Support", "Support", "Engineering",
                                                     "Support"]
    page = client.get("/cases/T1").text
    assert "29.0 hours" in page and "24.00" in page


@pytest.mark.parametrize("rows", [
    "a,2026-01-01T00:00:00Z,value,,Marketing,only a prospect",
    "a,2026-01-01T00:00:00Z,sale,,Sales,signed but no value yet\n"
    "a,2026-01-02T00:00:00Z,interruption,T1,,no team named",
])
def test_pages_hold_up_with_little_data(tmp_path, rows):
    path = tmp_path / "e.csv"
    path.write_text("account_id,timestamp,kind,case_id,team,label\n" + rows + "\n")
    client = _client_of(path)
    for address in ("/", "/accounts", "/cases", "/teams", "/accounts/a", "/report.html",
                    "/api/report", "/api/accounts?format=csv", "/?period=2026-01"):
        r = client.get(address)
        assert r.status_code in (200, 400), (address, r.status_code)
        assert r.status_code == 200 or address.startswith("/?period"), address
    assert "not known yet" in client.get("/").text
