"""Fixtures for the report and dashboard tests: demo data, servers, Debian's chromium.

The browser is Debian's ``chromium`` (``apt-get install chromium``; scripts/test.sh does
it), driven by Playwright: Playwright never downloads a browser here. A missing chromium
fails the tests loudly; none of them skips.
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from typer.testing import CliRunner

from tests.conftest import REPO

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright launches Debian's chromium (it has no executable-path option)."""
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail("Debian's chromium is missing: run `apt-get install -y chromium` (or "
                    "bash scripts/test.sh, which installs it)", pytrace=False)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (test-artifacts/, ignored by git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def cli(*args: str) -> str:
    """Run the real command line in process; its standard output."""
    from valueclock.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def cli_json(*args: str):
    return json.loads(cli(*args, "--format", "json"))


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory) -> dict[str, Path]:
    """The demo company with 300 accounts: events.csv and accounts.csv."""
    from valueclock import demo

    folder = tmp_path_factory.mktemp("demo")
    return demo.write(demo.generate(seed=7, accounts=300), folder)


EVIL_EVENTS = '''account_id,timestamp,kind,case_id,team,label
<script>alert(1)</script>,2026-01-01T09:00:00Z,value,,Marketing,"=HYPERLINK(""http://evil.example"",""x"")"
<script>alert(1)</script>,2026-01-11T09:00:00Z,sale,,Sales,<b>signed</b>
<script>alert(1)</script>,2026-01-31T09:00:00Z,value,,<img src=x onerror=alert(2)>,First value
<script>alert(1)</script>,2026-02-10T08:00:00Z,interruption,<i>T1</i>,<img src=x onerror=alert(3)>,+cmd|' /C calc'!A0
<script>alert(1)</script>,2026-02-10T12:30:00Z,handoff,<i>T1</i>,Engineering,@SUM(1+1)
<script>alert(1)</script>,2026-02-11T13:00:00Z,smile,<i>T1</i>,Support,-2+3
=1+2,2026-01-02T09:00:00Z,sale,,Sales,"	tab first"
=1+2,2026-01-05T09:00:00Z,value,,Training,ok
'''  # noqa: E501
EVIL_ACCOUNTS = '''account_id,name,segment
<script>alert(1)</script>,"<script>document.title='pwned'</script>",<svg onload=alert(4)>
=1+2,@evil,=cmd
'''


@pytest.fixture(scope="session")
def evil_files(tmp_path_factory) -> dict[str, Path]:
    """A log whose ids, teams, labels and attributes are HTML and spreadsheet formulas."""
    folder = tmp_path_factory.mktemp("evil")
    events, accounts = folder / "events.csv", folder / "accounts.csv"
    events.write_text(EVIL_EVENTS, encoding="utf-8")
    accounts.write_text(EVIL_ACCOUNTS, encoding="utf-8")
    return {"events": events, "accounts": accounts}


def dashboard_of(files: dict[str, Path]):
    from valueclock.web.command import load

    return load([files["events"]], accounts=files["accounts"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The dashboard served by uvicorn in a thread on 127.0.0.1 and a free port."""

    def __init__(self, dashboard, token: str | None = None) -> None:
        from valueclock.web.app import create_app

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(create_app(dashboard, token=token), host="127.0.0.1",
                                port=self.port, log_level="warning", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the dashboard did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def demo_dashboard(demo_files):
    return dashboard_of(demo_files)


@pytest.fixture(scope="session")
def demo_server(demo_dashboard):
    with Server(demo_dashboard) as server:
        yield server


@pytest.fixture(scope="session")
def evil_dashboard(evil_files):
    return dashboard_of(evil_files)
