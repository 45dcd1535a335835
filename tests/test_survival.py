"""Unfinished journeys counted: Kaplan-Meier from the engine, against lifelines."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa
import pytest

import valueclock
from tests.test_slices import cli
from tests.test_stats import assert_matches_lifelines
from valueclock import demo
from valueclock.errors import UsageError


@pytest.fixture(scope="module")
def company():
    return demo.generate(seed=11, accounts=300)


@pytest.fixture(scope="module")
def censored(company):
    """The demo company cut in the middle of the year: accounts waiting, cases open."""
    return valueclock.measure(company.events, accounts=company.accounts,
                              as_of="2025-09-15T10:00:00Z", cache=True)


def _busy_support_log(seed: int = 5, n: int = 240) -> pa.Table:
    """Cases that start over 30 days, some reopened, cut on day 25: many still open."""
    rng = np.random.default_rng(seed)
    base = datetime(2026, 3, 1)
    rows = []
    for i in range(n):
        start = base + timedelta(minutes=int(rng.integers(0, 30 * 24 * 60)))
        account = f"a{i % 40}"
        case = f"c{i}"
        rows.append((account, start, "interruption", case, "Support"))
        t = start + timedelta(minutes=int(rng.lognormal(7.5, 1.5)))
        if rng.random() < 0.3:
            rows.append((account, t, "handoff", case, "Engineering"))
            t += timedelta(minutes=int(rng.lognormal(7.5, 1.5)))
        rows.append((account, t, "smile", case, None))
        if rng.random() < 0.15:
            t += timedelta(hours=int(rng.integers(1, 48)))
            rows.append((account, t, "reopen", case, "Support"))
            rows.append((account, t + timedelta(minutes=int(rng.lognormal(5, 1))), "smile",
                         case, None))
    for a in range(40):
        sale = base + timedelta(days=int(rng.integers(0, 28)))
        rows.append((f"a{a}", sale, "sale", None, "Sales"))
        if rng.random() < 0.6:
            rows.append((f"a{a}", sale + timedelta(hours=int(rng.integers(0, 400))), "value",
                         None, "Onboarding"))
    cols = list(zip(*rows, strict=True))
    return pa.table({"account_id": cols[0], "timestamp": pa.array(cols[1], pa.timestamp("us")),
                     "kind": cols[2], "case_id": cols[3], "team": cols[4]})


@pytest.fixture(scope="module")
def busy():
    return valueclock.measure(_busy_support_log(), as_of=datetime(2026, 3, 26), cache=True)


def _durations(m: valueclock.Measurement, part: str):
    if part == "ttv_after":
        t = m.accounts.to_pandas()
        return (t.ttv_after_days.fillna(t.waiting_days).to_numpy(),
                t.value_reached.to_numpy(bool))
    t = m.cases.to_pandas()
    return t.smile_hours.fillna(t.open_hours).to_numpy(), t.resolved.to_numpy(bool)


@pytest.mark.parametrize("which", ["censored", "busy"])
@pytest.mark.parametrize("part", ["ttv_after", "smile"])
def test_curves_agree_with_lifelines(request, which, part):
    m = request.getfixturevalue(which)
    durations, observed = _durations(m, part)
    assert (~observed).sum() > 0 or part == "smile" and which == "censored"
    curve = m.survival(part)
    assert curve.subjects == len(durations) and curve.total_censored == (~observed).sum()
    assert_matches_lifelines(curve, durations, observed)


def test_generated_logs_have_censoring(censored, busy):
    s, b = censored.summary(), busy.summary()
    assert s["waiting_accounts"] >= 5 and s["open_cases"] >= 3
    assert b["open_cases"] >= 20 and b["waiting_accounts"] >= 5


@pytest.mark.parametrize("stat", ["median", "p25", "p90"])
def test_summary_km_keys_are_the_curve_quantiles(busy, stat):
    s = busy.summary(stat)
    q = valueclock.Stat.parse(stat).quantile
    assert s["ttv_after_days_km"] == busy.survival("ttv_after").quantile(q)
    assert s["smile_hours_km"] == busy.survival("smile").quantile(q)
    assert s["smile_hours_km"] is not None
    # The completed-only figures stay as they were, beside them.
    assert s["smile_hours"] == pytest.approx(float(np.quantile(
        busy.cases.to_pandas().smile_hours.dropna(), q)))


def test_km_is_null_for_the_mean_and_when_never_reached(journey):
    log = """
        a,2026-01-01T00:00:00Z,sale,,,
        b,2026-01-02T00:00:00Z,sale,,,
        b,2026-01-05T00:00:00Z,value,,,
        c,2026-01-10T00:00:00Z,sale,,,
        c,2026-01-10T00:00:00Z,interruption,T1,Support,
    """
    # a waits 9 days, b reached value after 3, c waits 0 days: at 3 days two accounts are
    # at risk and one reaches value, so survival is exactly 1/2 there: that is the median.
    m = journey(log, cache=True)
    s = m.summary()
    assert m.survival("ttv_after").survival.tolist() == pytest.approx([1.0, 0.5, 0.5])
    assert s["ttv_after_days"] == 3.0 and s["ttv_after_days_km"] == 3.0
    assert s["smile_hours"] is None and s["smile_hours_km"] is None
    # One more account waiting 9 days: survival stops at 2/3, the median is never reached.
    m = journey(log + "    d,2026-01-01T00:00:00Z,sale,,,\n", cache=True)
    s = m.summary()
    assert s["ttv_after_days"] == 3.0 and s["ttv_after_days_km"] is None
    assert m.summary("p25")["ttv_after_days_km"] == 3.0
    assert m.summary("mean")["ttv_after_days_km"] is None


def test_by_hand_journey(journey):
    # Value after 2 days, after 4 days; one account still waiting after 3 days.
    m = journey("""
        a,2026-01-01T00:00:00Z,sale,,,
        a,2026-01-03T00:00:00Z,value,,,
        b,2026-01-01T00:00:00Z,sale,,,
        b,2026-01-05T00:00:00Z,value,,,
        c,2026-01-02T00:00:00Z,sale,,,
    """, cache=True)
    rows = m.survival("ttv_after_days").rows()
    assert [(r["duration"], r["at_risk"], r["events"], r["censored"]) for r in rows] == \
        [(2.0, 3, 1, 0), (3.0, 2, 0, 1), (4.0, 1, 1, 0)]
    s = m.summary()
    assert s["ttv_after_days"] == 3.0 and s["ttv_after_days_km"] == 4.0


def test_survival_command_formats(tmp_path):
    path = tmp_path / "events.parquet"
    import pyarrow.parquet as pq

    pq.write_table(_busy_support_log(n=60), path)
    rows = list(csv.reader(io.StringIO(cli("survival", path, "--part", "smile",
                                           "--format", "csv"))))
    assert rows[0] == ["duration", "at_risk", "events", "censored", "survival", "ci_lower",
                       "ci_upper"]
    data = json.loads(cli("survival", path, "--part", "smile", "--as-of",
                          "2026-03-26T00:00:00Z", "--format", "json"))
    assert {"part", "unit", "as_of", "alpha", "subjects", "events", "censored", "quantiles",
            "completed", "curve"} <= data.keys()
    assert data["part"] == "smile" and data["unit"] == "hours" and data["censored"] > 0
    assert data["subjects"] == data["events"] + data["censored"]
    assert sum(r["events"] + r["censored"] for r in data["curve"]) == data["subjects"]
    text = cli("survival", path, "--as-of", "2026-03-26T00:00:00Z")
    for words in ("Time to Value after sale, counting accounts still waiting",
                  "still waiting", "p50 (Kaplan-Meier)", "at risk", "95% band"):
        assert words in text, words
    with pytest.raises(UsageError, match="ttv_after or smile"):
        cli("survival", path, "--part", "before")


def test_text_curve_is_thinned_to_each_step():
    from valueclock.render_stats import _thin
    from valueclock.stats import kaplan_meier_observations

    curve = kaplan_meier_observations(np.arange(1, 1001) / 7, [True] * 1000)
    rows = _thin(curve, 25)
    assert rows[0] == 0 and rows[-1] == 999 and len(rows) <= 22
    levels = [int(curve.survival[i] * 20 + 1e-9) for i in rows[1:-1]]
    assert levels == sorted(set(levels), reverse=True)
