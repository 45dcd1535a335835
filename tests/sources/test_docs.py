"""docs/sources.md stays true: its files are written and its commands run, in order.

Blocks fenced with ``file=NAME`` are written to a temporary folder; every line of a
``sh`` block is a ``valueclock`` command run there (``text`` blocks, which need the
network and credentials, are not run). ``../shared/data/`` is the public logs' folder.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest
from helpers_sources import DATA
from typer.testing import CliRunner

from valueclock.cli import app

DOC = Path(__file__).resolve().parents[2] / "docs" / "sources.md"
FENCE = re.compile(r"^```(\w+)(?: file=(\S+))?\n(.*?)^```", re.S | re.M)


def blocks():
    return [(lang, name, body) for lang, name, body in FENCE.findall(DOC.read_text())]


def test_every_source_command_is_documented():
    from valueclock.sources.cli import app as sources_app

    commands = {c.name for c in sources_app.registered_commands}
    text = DOC.read_text()
    missing = [c for c in commands if f"valueclock import {c}" not in text]
    assert not missing, f"undocumented in docs/sources.md: {missing}"


def test_the_examples_run_as_written(tmp_path):
    runner = CliRunner()
    outputs = {}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for lang, name, body in blocks():
            if name:
                (tmp_path / name).write_text(body)
                continue
            if lang != "sh":
                continue
            for line in body.strip().splitlines():
                args = shlex.split(line.replace("../shared/data/", f"{DATA}/"))
                assert args[0] == "valueclock", line
                result = runner.invoke(app, args[1:])
                assert result.exit_code == 0, f"{line}\n{result.output}\n{result.exception}"
                outputs[line] = result.output
    finally:
        os.chdir(cwd)
    report = outputs["valueclock report sales.csv value.csv zendesk-events.csv "
                     "jira-events.csv"]
    assert "-1 day, 19 hours" in report
    assert "14.9 hours" in outputs["valueclock report incidents.csv"]
    together = (tmp_path / "jira-events.csv").read_text().splitlines()
    assert [line.split(",")[5] for line in together[1:]] == ["Engineering", "Support"]


@pytest.mark.parametrize("needle", ["ZENDESK_API_TOKEN", "JIRA_API_TOKEN",
                                   "SALESFORCE_ACCESS_TOKEN", "HUBSPOT_TOKEN"])
def test_the_api_credentials_are_documented(needle):
    assert needle in DOC.read_text()
