"""Slices and periods add up, and each equals the report run on just its accounts or cases."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from typer.testing import CliRunner

import valueclock
from valueclock import demo
from valueclock.cli import app
from valueclock.errors import UsageError

AS_OF = "2025-10-01T00:00:00Z"
ACCOUNT_KEYS = ("sold_accounts", "value_reached_accounts", "waiting_accounts",
                "ttv_before_days", "ttv_after_days", "ttv_after_days_km", "account_ttcv_days",
                "accounts_meeting_target", "accounts_meeting_target_count",
                "accounts_unknown")
CASE_KEYS = ("cases", "resolved_cases", "open_cases", "smile_hours", "smile_days",
             "smile_hours_km")
COUNTS = ("sold_accounts", "value_reached_accounts", "waiting_accounts",
          "accounts_meeting_target_count", "accounts_unknown", "cases", "resolved_cases",
          "open_cases")


def cli(*args) -> str:
    """Run the command line in this process (faster than a subprocess); raise its error."""
    result = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.stdout


def same(got: dict, want: dict, keys) -> None:
    for k in keys:
        g, w = got[k], want[k]
        if isinstance(w, float) and g is not None:
            assert g == pytest.approx(w, rel=1e-12, abs=1e-12), k
        else:
            assert g == w, (k, g, w)


def same_teams(got: list, want: list) -> None:
    assert [t["team"] for t in got] == [t["team"] for t in want]
    for g, w in zip(got, want, strict=True):
        assert g["hours"] == pytest.approx(w["hours"]) and g["cases"] == w["cases"]


@pytest.fixture(scope="module")
def company():
    """The demo company; a tenth of the accounts missing from the accounts table and a few
    with no segment, so the null slice is there."""
    d = demo.generate(seed=7, accounts=300)
    ids = d.accounts.column("account_id").to_pylist()
    keep = pa.array([i % 10 != 3 for i in range(len(ids))])
    accounts = d.accounts.filter(keep)
    segment = accounts.column("segment").to_pylist()
    segment = [None if i % 17 == 5 else s for i, s in enumerate(segment)]
    accounts = accounts.set_column(accounts.schema.get_field_index("segment"), "segment",
                                   pa.array(segment, pa.string()))
    return d.events, accounts


@pytest.fixture(scope="module")
def m(company):
    events, accounts = company
    return valueclock.measure(events, accounts=accounts, as_of=AS_OF, cache=True)


@pytest.fixture(scope="module")
def report(m):
    return m.summary(by="segment", every="quarter", min_size=30)


def _measure_part(company, account_ids=None, case_ids=None) -> dict:
    events, accounts = company
    if account_ids is not None:
        events = events.filter(pc.is_in(events.column("account_id"),
                                        pa.array(sorted(account_ids), pa.string())))
    if case_ids is not None:
        events = events.filter(pc.is_in(events.column("case_id"),
                                        pa.array(sorted(case_ids), pa.string())))
    return valueclock.measure(events, accounts=accounts, as_of=AS_OF, cache=True).summary()


def test_slices_add_up_to_the_totals(report):
    slices = report["slices"]
    assert [s["value"] for s in slices] == ["Enterprise", "Mid-Market", "SMB", None]
    assert all(s["by"] == "segment" and s["level"] == "account" for s in slices)
    for key in COUNTS + ("accounts", "prospects"):
        assert sum(s[key] for s in slices) == report[key], key
    hours = defaultdict(float)
    for s in slices:
        for t in s["teams"]:
            hours[t["team"]] += t["hours"]
    assert hours == pytest.approx({t["team"]: t["hours"] for t in report["teams"]})
    # Every key of the report is in each slice; the report-wide ones are null there.
    for s in slices:
        assert report.keys() <= s.keys()
        assert s["data_problems"] is None and s["slices"] is None
        assert s["distributions"] is None and s["periods"] is None
        assert s["small"] == (s["sold_accounts"] < 30)


def test_each_account_slice_is_the_report_on_its_accounts(company, m, report):
    attrs = {r["account_id"]: r["segment"] for r in
             company[1].select(["account_id", "segment"]).to_pylist()}
    seen = set(m.events.select("account_id").distinct().to_pyarrow()
               .column("account_id").to_pylist())
    for s in report["slices"]:
        ids = {a for a in seen if attrs.get(a) == s["value"]}
        want = _measure_part(company, account_ids=ids)
        same(s, want, ("accounts", "prospects") + ACCOUNT_KEYS + CASE_KEYS
             + ("ttcv_days", "ttcv_text"))
        same_teams(s["teams"], want["teams"])


def test_case_attribute_slices_cut_the_cases(company, m):
    s = m.summary(by="priority", min_size=100)
    slices = s["slices"]
    assert {x["level"] for x in slices} == {"case"} and len(slices) >= 3
    for key in CASE_KEYS[:3]:
        assert sum(x[key] for x in slices) == s[key]
    cases = m.cases.select("case_id", "priority").to_pyarrow().to_pylist()
    for x in slices:
        assert all(x[k] is None for k in ACCOUNT_KEYS + ("accounts", "ttcv_days"))
        assert x["small"] == (x["cases"] < 100)
        want = _measure_part(company, case_ids={c["case_id"] for c in cases
                                                if c["priority"] == x["value"]})
        same(x, want, CASE_KEYS)
        same_teams(x["teams"], want["teams"])


def test_periods_add_up_and_each_is_the_report_on_its_cohort(company, m, report):
    periods = report["periods"]
    assert [p["period"] for p in periods] == ["2025-Q1", "2025-Q2", "2025-Q3"]
    assert periods[0]["start"] == "2025-01-01T00:00:00Z"
    assert periods[0]["end"] == periods[1]["start"] == "2025-04-01T00:00:00Z"
    for key in COUNTS:
        assert sum(p[key] for p in periods) == report[key], key
    accounts = m.accounts.select("account_id", "sale_at").to_pyarrow().to_pylist()
    cases = m.cases.select("case_id", "started_at").to_pyarrow().to_pylist()
    for p in periods:
        start = datetime.fromisoformat(p["start"].rstrip("Z"))
        end = datetime.fromisoformat(p["end"].rstrip("Z"))
        cohort = {a["account_id"] for a in accounts
                  if start <= a["sale_at"].replace(tzinfo=None) < end}
        started = {c["case_id"] for c in cases
                   if start <= c["started_at"].replace(tzinfo=None) < end}
        by_sale = _measure_part(company, account_ids=cohort)
        by_start = _measure_part(company, case_ids=started)
        same(p, by_sale, ACCOUNT_KEYS)
        same(p, by_start, CASE_KEYS)
        same_teams(p["teams"], by_start["teams"])
        assert p["ttcv_days"] == pytest.approx(valueclock.engine.law(
            by_sale["ttv_before_days"], by_sale["ttv_after_days"], by_start["smile_hours"]))
        assert p["accounts"] is None and p["prospects"] is None
        assert p["small"] == (p["sold_accounts"] < 30 or p["cases"] < 30)


def test_every_period_between_the_first_and_the_last(m):
    months = m.summary(every="month")["periods"]
    labels = [p["period"] for p in months]
    assert labels == [f"2025-{k:02d}" for k in range(1, len(labels) + 1)]
    weeks = m.summary(every="week")["periods"]
    assert weeks[0]["period"] == "2024-W52" or weeks[0]["period"].startswith("2025-W")
    starts = [datetime.fromisoformat(w["start"].rstrip("Z")) for w in weeks]
    assert all(s.weekday() == 0 for s in starts)
    assert all((b - a).days == 7 for a, b in zip(starts, starts[1:], strict=False))
    assert sum(w["cases"] for w in weeks) == m.summary()["cases"]


def test_attribute_names(m):
    with pytest.raises(UsageError, match="Account attributes .*segment.*case attributes"):
        m.summary(by="colour")
    assert m.summary(by="case:priority")["slices"][0]["level"] == "case"
    assert m.summary(by="account:plan")["slices"][0]["by"] == "plan"
    with pytest.raises(UsageError):
        m.summary(by="account:priority")
    with pytest.raises(UsageError, match="week, month, quarter"):
        m.summary(every="fortnight")


def test_target_days(journey):
    from tests.conftest import SEED_EXAMPLE

    m = valueclock.measure(SEED_EXAMPLE, cache=True)
    s = m.summary()
    assert s["account_ttcv_days"] == pytest.approx(11 + 5 / 24)
    assert s["target_days"] == 0.0 and s["accounts_meeting_target"] == 0.0
    assert s["accounts_meeting_target_count"] == 0 and s["accounts_unknown"] == 0
    s = m.summary(target_days=12)
    assert s["accounts_meeting_target"] == 1.0 and s["accounts_meeting_target_count"] == 1
    waiting = journey("""
        a,2026-01-01T00:00:00Z,sale,,,
        a,2026-01-01T00:00:00Z,value,,,
        b,2026-01-02T00:00:00Z,sale,,,
    """, cache=True).summary()
    assert waiting["accounts_unknown"] == 1 and waiting["accounts_meeting_target"] == 1.0
    assert waiting["account_ttcv_days"] == 0.0


def test_report_command_slices_and_periods(tmp_path, company):
    events, accounts = company
    import pyarrow.parquet as pq

    pq.write_table(events, tmp_path / "events.parquet")
    pq.write_table(accounts, tmp_path / "accounts.parquet")
    args = (tmp_path / "events.parquet", "--accounts", tmp_path / "accounts.parquet",
            "--as-of", AS_OF, "--by", "segment", "--every", "quarter")
    data = json.loads(cli("report", *args, "--format", "json", "--target-days", "2",
                          "--min-size", "50"))
    assert data["target_days"] == 2.0
    assert [s["small"] for s in data["slices"]] == [s["sold_accounts"] < 50
                                                    for s in data["slices"]]
    assert len(data["periods"]) == 3
    text = cli("report", *args)
    for words in ("Time to Value by segment", "Time to Smile by segment", "Enterprise *",
                  "(none)", "*: small, fewer accounts", "by sale cohort", "by case start",
                  "2025-Q3", "counting the unfinished", "Per account: median", "Spread"):
        assert words in text, words
