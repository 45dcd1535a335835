"""Each rule of docs/metric.md as a small readable journey."""

from __future__ import annotations

from datetime import datetime

import pytest

import valueclock
from tests.conftest import SEED_EXAMPLE, by, one, problems


def test_article_example_is_11_days_5_hours():
    m = valueclock.measure(SEED_EXAMPLE)
    s = m.summary()
    assert s["ttcv_text"] == "11 days, 5 hours"
    assert s["ttcv_days"] == pytest.approx(11 + 5 / 24, abs=1e-12)
    assert s["ttv_before_days"] == -10
    assert s["ttv_after_days"] == 20
    assert s["smile_hours"] == 29
    assert {t["team"]: t["hours"] for t in s["teams"]} == {"Support": 5.0, "Engineering": 24.0}
    assert [h["hours"] for h in m.holds.to_pyarrow().to_pylist()] == [5.0, 24.0]
    assert s["data_problems"] == []


def test_reopen_restarts_the_clock_and_only_unhappy_time_counts(journey):
    m = journey("""
        a,2026-01-01T00:00:00Z,interruption,C1,Support,
        a,2026-01-01T10:00:00Z,smile,C1,,
        a,2026-01-02T10:00:00Z,reopen,C1,,
        a,2026-01-02T12:00:00Z,handoff,C1,Engineering,
        a,2026-01-02T15:00:00Z,smile,C1,,
    """)
    case = one(m.cases)
    assert case["resolved"] is True
    assert case["smile_hours"] == 15.0          # 10 h + 2 h + 3 h
    assert case["elapsed_hours"] == 39.0        # happy day included
    assert case["reopens"] == 1
    assert case["handoffs"] == 1
    assert case["smiled_at"] == datetime(2026, 1, 2, 15)
    assert case["open_hours"] is None
    # The reopen names no team: Support still holds it until the handoff.
    assert {h["team"]: h["hours"] for h in m.holds.to_pyarrow().to_pylist()} == {
        "Support": 12.0, "Engineering": 3.0}


def test_open_case_counts_to_as_of_and_is_not_in_time_to_smile(journey):
    m = journey("""
        a,2026-01-01T00:00:00Z,sale,,,
        a,2026-01-01T00:00:00Z,value,,,
        a,2026-01-05T00:00:00Z,interruption,C1,Support,
        a,2026-01-05T06:00:00Z,handoff,C1,Engineering,
    """, as_of="2026-01-06T00:00:00Z")
    case = one(m.cases)
    assert case["resolved"] is False
    assert case["smile_hours"] is None and case["smiled_at"] is None
    assert case["elapsed_hours"] is None
    assert case["open_hours"] == 24.0
    assert {h["team"]: h["hours"] for h in m.holds.to_pyarrow().to_pylist()} == {
        "Support": 6.0, "Engineering": 18.0}
    s = m.summary()
    assert s["open_cases"] == 1 and s["resolved_cases"] == 0
    assert s["smile_hours"] is None
    assert s["ttcv_days"] == 0.0            # no resolved case: Time to Smile adds 0
    account = one(m.accounts)
    assert account["open_cases"] == 1 and account["smile_hours"] == 0.0


def test_handoff_with_no_team_leaves_the_holder(journey):
    m = journey("""
        a,2026-01-01T00:00:00Z,interruption,C1,,
        a,2026-01-01T01:00:00Z,handoff,C1,,
        a,2026-01-01T02:00:00Z,handoff,C1,Billing,
        a,2026-01-01T04:00:00Z,handoff,C1,,
        a,2026-01-01T05:00:00Z,smile,C1,Support,
    """)
    holds = {h["team"]: h["hours"] for h in m.holds.to_pyarrow().to_pylist()}
    assert holds == {"Unassigned": 2.0, "Billing": 3.0}   # a smile's team holds nothing
    assert one(m.cases)["handoffs"] == 3


def test_ties_are_taken_in_kind_order_then_read_order(journey):
    # Written smile first, but at one timestamp the interruption comes first, then the
    # handoffs in the order they were read, then the smile.
    m = journey("""
        a,2026-01-01T09:00:00Z,smile,C1,,
        a,2026-01-01T00:00:00Z,interruption,C1,Support,
        a,2026-01-01T09:00:00Z,handoff,C1,Engineering,
        a,2026-01-01T09:00:00Z,handoff,C1,Billing,
        a,2026-01-01T09:00:00Z,reopen,C1,,
        a,2026-01-01T12:00:00Z,smile,C1,,
    """)
    case = one(m.cases)
    assert case["smile_hours"] == 12.0
    assert case["reopens"] == 1
    assert problems(m) == {}
    # Billing was named last before the smile, so the reopened clock is Billing's.
    assert {h["team"]: h["hours"] for h in m.holds.to_pyarrow().to_pylist()} == {
        "Support": 9.0, "Billing": 3.0}


def test_lookback_limits_value_before_sale(journey):
    rows = """
        a,2026-01-01T00:00:00Z,value,,Marketing,Old blog post
        a,2026-03-01T00:00:00Z,value,,Marketing,Pricing guide
        a,2026-03-11T00:00:00Z,sale,,Sales,
        a,2026-03-15T00:00:00Z,value,,Training,
    """
    assert one(journey(rows).accounts)["ttv_before_days"] == -69.0
    limited = one(journey(rows, lookback_days=30).accounts)
    assert limited["ttv_before_days"] == -10.0
    assert limited["first_value_before_at"] == datetime(2026, 3, 1)
    none = one(journey(rows, lookback_days=5).accounts)
    assert none["ttv_before_days"] == 0.0 and none["first_value_before_at"] is None


def test_value_at_the_moment_of_sale_is_after_the_sale(journey):
    account = one(journey("""
        a,2026-01-01T00:00:00Z,value,,Sales,Demo answered the question
        a,2026-01-01T00:00:00Z,sale,,Sales,
    """).accounts)
    assert account["ttv_after_days"] == 0.0
    assert account["value_reached"] is True
    assert account["ttv_before_days"] == 0.0 and account["first_value_before_at"] is None


def test_second_sale_does_not_restart_the_journey(journey):
    account = one(journey("""
        a,2026-01-01T00:00:00Z,sale,,Sales,
        a,2026-02-01T00:00:00Z,sale,,Sales,Upsell
        a,2026-02-03T00:00:00Z,value,,Customer Success,
    """).accounts)
    assert account["sale_at"] == datetime(2026, 1, 1)
    assert account["ttv_after_days"] == 33.0


def test_prospects_are_counted_apart(journey):
    m = journey("""
        a,2026-01-01T00:00:00Z,value,,Marketing,
        a,2026-01-03T00:00:00Z,sale,,Sales,
        a,2026-01-04T00:00:00Z,value,,Training,
        p,2026-01-02T00:00:00Z,value,,Marketing,
        q,2026-01-02T00:00:00Z,value,,Marketing,
    """)
    s = m.summary()
    assert (s["accounts"], s["sold_accounts"], s["prospects"]) == (3, 1, 2)
    assert [r["account_id"] for r in m.accounts.to_pyarrow().to_pylist()] == ["a"]
    assert s["ttcv_days"] == -1.0


def test_account_still_waiting_for_value(journey):
    m = journey("""
        a,2026-01-01T00:00:00Z,sale,,Sales,
        b,2026-01-01T00:00:00Z,sale,,Sales,
        b,2026-01-03T00:00:00Z,value,,Training,
    """, as_of="2026-01-11T12:00:00Z")
    rows = by(m.accounts, "account_id")
    assert rows["a"]["value_reached"] is False
    assert rows["a"]["ttv_after_days"] is None and rows["a"]["ttcv_days"] is None
    assert rows["a"]["waiting_days"] == 10.5
    assert rows["b"]["waiting_days"] is None
    s = m.summary()
    assert s["value_reached_accounts"] == 1 and s["waiting_accounts"] == 1
    assert s["ttv_after_days"] == 2.0      # over accounts at value only
    assert s["ttv_before_days"] == 0.0     # over all sold accounts


def test_no_account_at_value_leaves_the_total_empty(journey):
    s = journey("a,2026-01-01T00:00:00Z,sale,,Sales,").summary()
    assert s["ttcv_days"] is None and s["ttcv_text"] is None


def test_account_smile_hours_is_the_mean_of_its_resolved_cases(journey):
    m = journey("""
        a,2026-01-01T00:00:00Z,sale,,Sales,
        a,2026-01-02T00:00:00Z,value,,Training,
        a,2026-01-03T00:00:00Z,interruption,C1,Support,
        a,2026-01-03T02:00:00Z,smile,C1,,
        a,2026-01-04T00:00:00Z,interruption,C2,Support,
        a,2026-01-04T04:00:00Z,smile,C2,,
        a,2026-01-05T00:00:00Z,interruption,C3,Support,
    """)
    account = one(m.accounts)
    assert (account["cases"], account["open_cases"]) == (3, 1)
    assert account["smile_hours"] == 3.0
    assert account["ttcv_days"] == pytest.approx(1 + 3 / 24)


def test_statistics_median_mean_and_percentiles(journey):
    rows = "\n".join(
        f"a,2026-01-0{i + 1}T00:00:00Z,interruption,C{i},Support,\n"
        f"a,2026-01-0{i + 1}T{h:02d}:00:00Z,smile,C{i},,"
        for i, h in enumerate([1, 2, 3, 10]))
    m = journey(rows)
    assert m.summary("median")["smile_hours"] == 2.5
    assert m.summary("mean")["smile_hours"] == 4.0
    assert m.summary("p90")["smile_hours"] == pytest.approx(7.9)   # numpy's linear
    assert m.summary("p0")["smile_hours"] == 1.0
    with pytest.raises(valueclock.UsageError):
        m.summary("p101")


def test_microsecond_precision(journey):
    case = one(journey("""
        a,2026-01-01T00:00:00.000001Z,interruption,C1,,
        a,2026-01-01T01:00:00.000003Z,smile,C1,,
    """).cases)
    assert case["smile_hours"] == (3_600_000_002 / 3_600_000_000)


class TestDataProblems:
    def test_case_without_interruption_is_reported_not_measured(self, journey):
        m = journey("""
            a,2026-01-01T00:00:00Z,handoff,C1,Support,
            a,2026-01-01T02:00:00Z,smile,C1,,
        """)
        assert m.cases.count().to_pyarrow().as_py() == 0
        assert problems(m) == {"case_without_interruption": 1}
        [p] = m.problem_summary()
        assert "line 2" in p["examples"][0] and "C1" in p["examples"][0]

    def test_events_before_start_neither_count_nor_hand_the_clock(self, journey):
        m = journey("""
            a,2026-01-01T00:00:00Z,handoff,C1,Engineering,
            a,2026-01-01T01:00:00Z,interruption,C1,,
            a,2026-01-01T03:00:00Z,smile,C1,,
        """)
        case = one(m.cases)
        assert case["handoffs"] == 0 and case["smile_hours"] == 2.0
        assert case["started_at"] == datetime(2026, 1, 1, 1)
        assert one(m.holds)["team"] == "Unassigned"
        assert problems(m) == {"event_before_case_start": 1}

    def test_later_interruption_counts_as_reopen(self, journey):
        m = journey("""
            a,2026-01-01T00:00:00Z,interruption,C1,Support,
            a,2026-01-01T01:00:00Z,smile,C1,,
            a,2026-01-02T00:00:00Z,interruption,C1,Billing,
            a,2026-01-02T02:00:00Z,smile,C1,,
        """)
        case = one(m.cases)
        assert case["reopens"] == 1 and case["smile_hours"] == 3.0
        assert {h["team"]: h["hours"] for h in m.holds.to_pyarrow().to_pylist()} == {
            "Support": 1.0, "Billing": 2.0}
        assert problems(m) == {"repeated_interruption": 1}

    def test_row_problems_are_counted_with_examples(self, journey):
        m = journey("""
            a,2026-01-01T00:00:00Z,sale,,,
            ,2026-01-01T00:00:00Z,value,,,
            a,yesterday,value,,,
            a,2026-01-02T00:00:00Z,clicked,,,
            a,2026-01-02T00:00:00Z,smile,,,
            a,2026-01-03T00:00:00Z,VALUE,,,
            a,2026-02-01T00:00:00Z,value,,,
        """, as_of="2026-01-10")
        assert problems(m) == {"missing_account_id": 1, "unparseable_timestamp": 1,
                               "unknown_kind": 1, "missing_case_id": 1, "after_as_of": 1}
        found = {p["problem"]: p["examples"][0] for p in m.problem_summary()}
        assert found["unparseable_timestamp"].endswith("line 4: timestamp 'yesterday'")
        assert found["unknown_kind"].endswith("line 5: kind 'clicked'")
        assert found["after_as_of"].endswith("line 8: timestamp '2026-02-01T00:00:00Z'")
        assert one(m.accounts)["ttv_after_days"] == 2.0     # VALUE in upper case counts

    def test_duplicate_event_ids_are_one_event(self, journey):
        header = "event_id,account_id,timestamp,kind,case_id,team,label"
        m = journey("""
            e1,a,2026-01-01T00:00:00Z,interruption,C1,Support,
            e2,a,2026-01-01T04:00:00Z,smile,C1,,
            e2,a,2026-01-01T04:00:00Z,smile,C1,,
            e1,a,2026-01-01T00:00:00Z,interruption,C1,Support,
        """, header=header)
        case = one(m.cases)
        assert case["reopens"] == 0 and case["smile_hours"] == 4.0
        assert problems(m) == {"duplicate_event_id": 2}

    def test_case_event_under_another_account(self, journey):
        m = journey("""
            a,2026-01-01T00:00:00Z,interruption,C1,Support,
            b,2026-01-01T04:00:00Z,smile,C1,,
        """)
        assert one(m.cases)["account_id"] == "a"
        assert problems(m) == {"case_event_other_account": 1}

    def test_problem_rows_add_up_to_rows_read(self, journey):
        m = journey("""
            a,2026-01-01T00:00:00Z,sale,,,
            ,2026-01-01T00:00:00Z,value,,,
            a,never,value,,,
            a,2026-01-02T00:00:00Z,bought,,,
            a,2026-01-02T00:00:00Z,handoff,,,
        """)
        used = m.events.count().to_pyarrow().as_py()
        assert used + sum(problems(m).values()) == 5
