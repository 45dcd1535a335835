"""Shared test helpers: journeys written as small readable tables."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import valueclock

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEED_EXAMPLE = SHARED / "spec" / "seed_example.csv"
DATA = SHARED / "data"

HEADER = "account_id,timestamp,kind,case_id,team,label"


def write_log(path: Path, text: str, header: str = HEADER) -> Path:
    """Write a CSV event log from an indented table; the header is added if missing."""
    body = textwrap.dedent(text).strip()
    if not body.startswith(header.split(",")[0]):
        body = header + "\n" + body
    path.write_text(body + "\n", encoding="utf-8")
    return path


@pytest.fixture
def journey(tmp_path):
    """Measure a journey given as CSV rows: ``journey(rows, **measure_options)``."""
    counter = iter(range(1_000_000))

    def make(text: str, header: str = HEADER, **options) -> valueclock.Measurement:
        path = write_log(tmp_path / f"log{next(counter)}.csv", text, header)
        return valueclock.measure(path, **options)

    return make


def one(table) -> dict:
    """The only row of an Ibis table, as a dict."""
    rows = table.to_pyarrow().to_pylist()
    assert len(rows) == 1, rows
    return rows[0]


def by(table, key: str) -> dict:
    """The rows of an Ibis table keyed by a column."""
    return {r[key]: r for r in table.to_pyarrow().to_pylist()}


def problems(m: valueclock.Measurement) -> dict[str, int]:
    """Problem class to count."""
    return {p["problem"]: p["count"] for p in m.problem_summary()}
