"""What-if (`scale`): every number recomputed as if a team held each case F times as long."""

from __future__ import annotations

import json

import pytest

import valueclock
from tests.conftest import SEED_EXAMPLE, by, one, write_log
from valueclock.errors import UsageError

REOPENED = """
    a,2026-01-01T00:00:00Z,sale,,,
    a,2026-01-01T00:00:00Z,value,,,
    a,2026-01-02T00:00:00Z,interruption,C1,Support,
    a,2026-01-02T10:00:00Z,smile,C1,,
    a,2026-01-03T10:00:00Z,reopen,C1,,
    a,2026-01-03T12:00:00Z,handoff,C1,Engineering,
    a,2026-01-03T15:00:00Z,smile,C1,,
    a,2026-01-04T00:00:00Z,interruption,C2,Engineering,
"""


def test_article_example_with_engineering_twice_as_fast():
    m = valueclock.measure(SEED_EXAMPLE, scale={"Engineering": 0.5})
    c = one(m.cases)
    assert c["smile_hours"] == 17.0 and c["elapsed_hours"] == 17.0
    assert {h["team"]: h["hours"] for h in m.holds.to_pyarrow().to_pylist()} == {
        "Support": 5.0, "Engineering": 12.0}
    a = one(m.accounts)
    assert a["smile_hours"] == 17.0 and a["ttcv_days"] == pytest.approx(10 + 17 / 24)
    s = m.summary()
    assert s["ttcv_text"] == "10 days, 17 hours" and s["scale"] == {"Engineering": 0.5}
    # Timestamps are what happened.
    assert c["smiled_at"] == one(valueclock.measure(SEED_EXAMPLE).cases)["smiled_at"]


def test_happy_gaps_stay_and_open_cases_scale(journey):
    m = journey(REOPENED, scale={"Support": 0.0, "Engineering": 2.0},
                as_of="2026-01-04T06:00:00Z")
    cases = by(m.cases, "case_id")
    # C1: Support 10 h + 2 h -> 0; Engineering 3 h -> 6 h. Elapsed 39 h - 12 h + 3 h.
    assert cases["C1"]["smile_hours"] == 6.0
    assert cases["C1"]["elapsed_hours"] == 30.0
    assert cases["C2"]["open_hours"] == 12.0 and cases["C2"]["resolved"] is False
    holds = [(h["case_id"], h["team"], h["hours"]) for h in m.holds.to_pyarrow().to_pylist()]
    assert holds == [("C1", "Support", 0.0), ("C1", "Engineering", 6.0),
                     ("C2", "Engineering", 12.0)]


def test_factor_one_and_unknown_teams_change_nothing(journey):
    today = journey(REOPENED)
    same = today.what_if({"Support": 1.0, "Nobody": 0.0})
    for name in ("cases", "holds", "accounts"):
        assert getattr(same, name).to_pyarrow() == getattr(today, name).to_pyarrow()
    assert today.scale == {}  # what_if leaves the measurement it came from alone


def test_what_if_is_the_same_as_measuring_with_scale():
    base = valueclock.measure(SEED_EXAMPLE)
    a = base.what_if({"Support": 0.2})
    b = valueclock.measure(SEED_EXAMPLE, scale={"Support": 0.2})
    assert a.cases.to_pyarrow() == b.cases.to_pyarrow()
    assert a.accounts.to_pyarrow() == b.accounts.to_pyarrow()
    assert a.summary() == b.summary()
    assert base.hours_keys() == {"calendar": None, "scale": {}}


def test_scale_with_business_hours(journey, tmp_path):
    calendar = {"timezone": "UTC", "hours": {d: ["09:00-17:00"]
                                             for d in ("mon", "tue", "wed", "thu", "fri")}}
    # Mon 2026-03-02 09:00 Support until 13:00 (4 h), Engineering until Tue 11:00 (4 h + 2 h).
    m = journey("""
        a,2026-03-02T09:00:00Z,interruption,C1,Support,
        a,2026-03-02T13:00:00Z,handoff,C1,Engineering,
        a,2026-03-03T11:00:00Z,smile,C1,,
    """, calendar=calendar, scale={"Engineering": 0.5})
    c = one(m.cases)
    assert c["smile_hours"] == 7.0
    assert c["elapsed_hours"] == 7.0   # 10 business hours, 3 taken away


@pytest.mark.parametrize("scale", [{"Support": -1}, {"Support": "fast"},
                                   {"Support": float("nan")}])
def test_bad_factors_are_usage_errors(scale):
    with pytest.raises(UsageError):
        valueclock.measure(SEED_EXAMPLE, scale=scale)


def test_whatif_command(tmp_path):
    from tests.test_cli import run

    data = json.loads(run("whatif", SEED_EXAMPLE, "--team", "Engineering", "--scale", "0.5",
                          "--format", "json").stdout)
    assert set(data) == {"today", "whatif"}
    report = json.loads(run("report", SEED_EXAMPLE, "--format", "json").stdout)
    assert data["today"] == report
    assert data["whatif"].keys() == report.keys()
    assert data["whatif"]["ttcv_text"] == "10 days, 17 hours"
    assert data["whatif"]["scale"] == {"Engineering": 0.5}
    text = run("whatif", SEED_EXAMPLE, "--team", "Engineering", "--scale", "0.5",
               "--team", "Support", "--scale", "0").stdout
    for words in ("What if Engineering x0.5, Support x0?", "11 days, 5 hours",
                  "10 days, 12 hours", "-17 hours", "Time to Smile"):
        assert words in text, words
    bad = run("whatif", SEED_EXAMPLE, "--team", "Engineering", "--team", "Support",
              "--scale", "0.5", check=False)
    assert bad.returncode == 2
    assert "give one --scale for each --team" in bad.stderr
    path = write_log(tmp_path / "e.csv", "a,2026-01-01T00:00:00Z,sale,,,")
    assert "No case was held by Nobody" in run("whatif", path, "--team", "Nobody",
                                               "--scale", "2").stdout
