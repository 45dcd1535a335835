"""Safe by default: the token, the loopback rule, escaping, and CSV formulas neutralised.

These talk to the app in process (Starlette's test client); test_browser.py does the same
through chromium.
"""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from valueclock.errors import UsageError
from valueclock.web import security
from valueclock.web.app import create_app, csv_text
from valueclock.web.security import check_bind, safe_cell, session_value

TOKEN = "s3cret-token-for-tests"
EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def open_client(evil_dashboard):
    """No token: only loopback names are answered."""
    return TestClient(create_app(evil_dashboard), base_url="http://127.0.0.1:8000",
                      follow_redirects=False)


@pytest.fixture(scope="module")
def token_client(evil_dashboard):
    return TestClient(create_app(evil_dashboard, token=TOKEN),
                      base_url="http://dashboard.example:8000", follow_redirects=False)


# -- where it listens ----------------------------------------------------------------------

@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_needs_no_token(host):
    check_bind(host, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "dashboard.example"])
def test_any_other_address_needs_a_token(host):
    with pytest.raises(UsageError, match="without an access token"):
        check_bind(host, None)
    with pytest.raises(UsageError):
        check_bind(host, "")
    check_bind(host, TOKEN)


def test_serve_refuses_to_start_on_all_addresses_without_a_token(evil_files):
    env = {k: v for k, v in os.environ.items() if k != "VALUECLOCK_TOKEN"}
    result = subprocess.run([sys.executable, "-m", "valueclock", "serve",
                             str(evil_files["events"]), "--host", "0.0.0.0", "--port", "9"],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0 without an access token" in result.stderr


def test_without_a_token_only_loopback_names_are_answered(open_client):
    assert open_client.get("/api/report").status_code == 200
    assert open_client.get("/api/report", headers={"host": "localhost:8000"}).status_code \
        == 200
    # A page elsewhere pointing a DNS name at 127.0.0.1 (rebinding) gets nothing.
    r = open_client.get("/api/report", headers={"host": "attacker.example"})
    assert r.status_code == 421


# -- the token -----------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/report", "/api/accounts", "/api/teams",
                                  "/api/openapi.json", "/static/app.js"])
def test_token_missing_or_wrong_is_refused_everywhere(token_client, path):
    missing = token_client.get(path)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    wrong = token_client.get(path, headers={"authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    almost = token_client.get(path, headers={"authorization": f"Bearer {TOKEN}x"})
    assert almost.status_code == 401
    right = token_client.get(path, headers={"authorization": f"Bearer {TOKEN}"})
    assert right.status_code == 200


def test_a_browser_without_the_token_is_sent_to_sign_in(token_client):
    r = token_client.get("/accounts?q=a", headers={"accept": "text/html"})
    assert r.status_code == 303
    assert r.headers["location"] == "/signin?next=%2Faccounts%3Fq%3Da"
    page = token_client.get("/signin")
    assert page.status_code == 200 and 'name="token"' in page.text


def test_sign_in_sets_a_cookie_derived_from_the_token(token_client):
    wrong = token_client.post("/signin", data={"token": "nope", "next": "/teams"})
    assert wrong.status_code == 303 and "error=1" in wrong.headers["location"]
    assert "set-cookie" not in wrong.headers
    right = token_client.post("/signin", data={"token": TOKEN, "next": "/teams"})
    assert right.status_code == 303 and right.headers["location"] == "/teams"
    cookie = right.cookies.get(security.COOKIE)
    assert cookie == session_value(TOKEN) and TOKEN not in right.headers["set-cookie"]
    assert "httponly" in right.headers["set-cookie"].lower()
    assert "samesite=strict" in right.headers["set-cookie"].lower()
    fresh = TestClient(token_client.app, base_url="http://dashboard.example:8000")
    fresh.cookies.set(security.COOKIE, cookie)
    assert fresh.get("/teams").status_code == 200
    forged = TestClient(token_client.app, base_url="http://dashboard.example:8000")
    forged.cookies.set(security.COOKIE, "forged")
    assert forged.get("/api/teams").status_code == 401


def test_sign_in_only_redirects_on_this_site(token_client):
    for target in ("https://evil.example/", "//evil.example", "/\\evil.example"):
        r = token_client.post("/signin", data={"token": TOKEN, "next": target})
        assert r.headers["location"] == "/"


def test_tokens_are_compared_in_constant_time(token_client, monkeypatch):
    calls = []
    real = security.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(security.hmac, "compare_digest", spy)
    token_client.get("/api/report", headers={"authorization": "Bearer guess"})
    assert calls == [(b"guess", TOKEN.encode())]


def test_the_dashboard_only_reads(open_client):
    for method in ("post", "put", "delete", "patch"):
        r = getattr(open_client, method)("/api/report")
        assert r.status_code == 405, method


def test_every_answer_has_a_strict_content_security_policy(open_client):
    r = open_client.get("/")
    csp = r.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"


# -- escaping ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/", "/accounts", "/cases", "/teams",
                                  "/accounts/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
                                  "/cases/%3Ci%3ET1%3C%2Fi%3E", "/?by=segment",
                                  "/?team=%3Cimg%20src%3Dx%20onerror%3Dalert(3)%3E"])
def test_data_is_shown_as_text_never_as_markup(open_client, path):
    r = open_client.get(path)
    assert r.status_code == 200, r.text[:500]
    html = r.text
    for raw in (EVIL, "<img src=x", "<svg onload", "<i>T1</i>", "<b>signed</b>",
                "document.title='pwned'</script>"):
        assert raw not in html, (path, raw)
    assert html.count("<script") == 1  # the dashboard's own /static/app.js


def test_the_account_named_script_shows_as_text(open_client):
    html = open_client.get("/accounts/%3Cscript%3Ealert(1)%3C%2Fscript%3E").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(3)&gt;" in html  # the team, in the timeline


def test_api_json_keeps_the_data_as_it_is(open_client):
    detail = open_client.get("/api/accounts/%3Cscript%3Ealert(1)%3C%2Fscript%3E").json()
    assert detail["account"]["account_id"] == EVIL
    assert detail["account"]["name"] == "<script>document.title='pwned'</script>"


# -- CSV -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["=1+2", "+cmd", "-2+3", "@SUM(1)", "\tx", "\rx"])
def test_formula_cells_are_neutralised(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["acme", "1+2", " =1", "", "a=b"])
def test_other_text_is_left_alone(text):
    assert safe_cell(text) == text


def test_csv_keeps_numbers_as_numbers_and_neutralises_text():
    text = csv_text([{"id": "=1+2", "days": -8.5, "n": -3, "ok": True, "label": "-2+3",
                      "none": None}])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [["id", "days", "n", "ok", "label", "none"],
                    ["'=1+2", "-8.5", "-3", "true", "'-2+3", ""]]


@pytest.mark.parametrize("which", ["accounts", "cases"])
def test_csv_downloads_neutralise_formulas(open_client, which):
    r = open_client.get(f"/api/{which}?format=csv")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    cells = [c for row in csv.reader(io.StringIO(r.text)) for c in row]
    assert cells, r.text
    bad = [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")
           or (c[:1] == "-" and not _number(c))]
    assert bad == []
    if which == "accounts":
        assert "'=1+2" in cells and "'@evil" in cells and "'=cmd" in cells
    else:
        assert "'+cmd|' /C calc'!A0" not in cells  # labels are not in the cases table
        assert "<i>T1</i>" in cells  # HTML is harmless in CSV: kept as it is


def _number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("svg", [
    '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg"><foreignObject/></svg>',
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
    '<a x:href="javascript:alert(1)"/></svg>',
])
def test_charts_with_active_content_are_never_inlined(svg):
    from valueclock.report.charts import _check_inert

    with pytest.raises(ValueError, match="refusing"):
        _check_inert(svg)


def test_the_token_can_come_from_the_environment(monkeypatch, evil_files):
    """VALUECLOCK_TOKEN is read like --token (and keeps it off the command line)."""
    from typer.testing import CliRunner

    from valueclock.cli import app
    from valueclock.web import command

    seen = {}
    monkeypatch.setattr(command, "load", lambda *a, **k: type(
        "D", (), {"warm": lambda self: None})())
    monkeypatch.setattr(command, "run", lambda dashboard, **k: seen.update(k))
    result = CliRunner().invoke(app, ["serve", str(evil_files["events"]), "--host",
                                      "0.0.0.0", "--port", "8123"],
                                env={"VALUECLOCK_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    assert seen["token"] == TOKEN and seen["host"] == "0.0.0.0" and seen["port"] == 8123
