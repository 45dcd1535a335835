"""Property tests: the engine against a plain reading of the spec, and invariants."""

from __future__ import annotations

import csv
import random
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import valueclock
from tests import oracle

BASE = datetime(2026, 1, 1)
TEAMS = [None, "Support", "Engineering", "Billing"]
CASES = {"c0": "a0", "c1": "a0", "c2": "a1", "c3": "a2"}
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def logs(draw, distinct: bool = False):
    n = draw(st.integers(1, 24))
    if distinct:
        minutes = draw(st.lists(st.integers(0, 20_000), min_size=n, max_size=n, unique=True))
    else:
        minutes = draw(st.lists(st.integers(0, 60).map(lambda m: m * 240), min_size=n,
                                max_size=n))
    rows = []
    for m in minutes:
        kind = draw(st.sampled_from(list(oracle.RANK)))
        if kind in ("sale", "value"):
            account, case = draw(st.sampled_from(["a0", "a1", "a2", "a3"])), None
        else:
            case = draw(st.sampled_from(list(CASES)))
            account = CASES[case]
        rows.append({"account_id": account, "timestamp": BASE + timedelta(minutes=m),
                     "kind": kind, "case_id": case, "team": draw(st.sampled_from(TEAMS))})
    return rows


def write(rows: list[dict], path: Path) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["account_id", "timestamp", "kind", "case_id", "team"])
        for r in rows:
            w.writerow([r["account_id"], r["timestamp"].isoformat() + "Z", r["kind"],
                        r["case_id"] or "", r["team"] or ""])
    return path


def measured(rows: list[dict], parts: int = 1) -> dict:
    """Accounts, cases and holds of a log written as ``parts`` files, as plain dicts."""
    with tempfile.TemporaryDirectory() as tmp:
        size = max(1, -(-len(rows) // parts))
        paths = [write(rows[i:i + size], Path(tmp) / f"part{i}.csv")
                 for i in range(0, len(rows), size)]
        m = valueclock.measure(paths, cache=True)
        return {
            "cases": {r["case_id"]: r for r in m.cases.to_pyarrow().to_pylist()},
            "holds": {(r["case_id"], r["team"]): r["hours"]
                      for r in m.holds.to_pyarrow().to_pylist()},
            "accounts": {r["account_id"]: r for r in m.accounts.to_pyarrow().to_pylist()},
            "summary": m.summary(),
        }


@SETTINGS
@given(logs())
def test_engine_agrees_with_a_plain_reading_of_the_spec(rows):
    got, want = measured(rows), oracle.measure(rows)
    assert set(got["cases"]) == set(want["cases"])
    for case_id, expected in want["cases"].items():
        actual = got["cases"][case_id]
        for key, value in expected.items():
            if isinstance(value, float):
                assert actual[key] == pytest.approx(value, abs=1e-9), (case_id, key)
            else:
                assert actual[key] == value, (case_id, key)
    assert got["holds"].keys() == want["holds"].keys()
    for key, value in want["holds"].items():
        assert got["holds"][key] == pytest.approx(value, abs=1e-9)
    assert set(got["accounts"]) == set(want["accounts"])
    for acc, expected in want["accounts"].items():
        for key, value in expected.items():
            actual = got["accounts"][acc][key]
            if isinstance(value, float):
                assert actual == pytest.approx(value, abs=1e-9), (acc, key)
            else:
                assert actual == value, (acc, key)


@SETTINGS
@given(logs())
def test_hours_by_team_add_up_and_ttcv_is_the_sum_of_its_parts(rows):
    got = measured(rows)
    for case_id, case in got["cases"].items():
        held = sum(h for (c, _), h in got["holds"].items() if c == case_id)
        clock = case["smile_hours"] if case["resolved"] else case["open_hours"]
        assert held == pytest.approx(clock, abs=1e-9)
    for acc in got["accounts"].values():
        if acc["value_reached"]:
            assert acc["ttcv_days"] == pytest.approx(
                acc["ttv_before_days"] + acc["ttv_after_days"] + acc["smile_hours"] / 24)
        else:
            assert acc["ttcv_days"] is None
    s = got["summary"]
    if s["ttcv_days"] is not None:
        assert s["ttcv_days"] == pytest.approx(
            s["ttv_before_days"] + s["ttv_after_days"] + (s["smile_hours"] or 0) / 24)


def _comparable(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "summary"} | {
        "summary": {k: v for k, v in result["summary"].items() if k != "data_problems"},
        "problems": sorted((p["problem"], p["count"])
                           for p in result["summary"]["data_problems"])}


@SETTINGS
@given(logs(distinct=True), st.randoms(use_true_random=False), st.integers(2, 4))
def test_shuffling_rows_or_splitting_files_changes_nothing(rows, rnd: random.Random, parts):
    baseline = _comparable(measured(rows))
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    assert _comparable(measured(shuffled)) == baseline
    assert _comparable(measured(rows, parts=parts)) == baseline
