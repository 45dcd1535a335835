"""Kaplan-Meier and histogram bins, checked against lifelines, numpy and by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter
from lifelines.utils import qth_survival_time

from valueclock.stats import (
    TOLERANCE,
    kaplan_meier,
    kaplan_meier_observations,
    nice_bins,
    percentile_name,
)

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
QS = (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 1.0)


def lifelines_fit(durations, observed) -> KaplanMeierFitter:
    return KaplanMeierFitter().fit(np.asarray(durations, float), np.asarray(observed, bool))


def assert_matches_lifelines(curve, durations, observed) -> None:
    """Survival and band equal lifelines' at every duration; quantiles agree."""
    kmf = lifelines_fit(durations, observed)
    sf = kmf.survival_function_.iloc[:, 0]
    ci = kmf.confidence_interval_
    at = curve.duration
    np.testing.assert_allclose(curve.survival, sf.loc[at].to_numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(curve.ci_lower, ci.iloc[:, 0].loc[at].to_numpy(),
                               rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(curve.ci_upper, ci.iloc[:, 1].loc[at].to_numpy(),
                               rtol=1e-7, atol=1e-10)
    table = kmf.event_table.loc[at]
    assert curve.at_risk.tolist() == table["at_risk"].astype(int).tolist()
    assert curve.events.tolist() == table["observed"].astype(int).tolist()
    assert curve.censored.tolist() == table["censored"].astype(int).tolist()
    for q in QS:
        ours = curve.quantile(q)
        level = 1 - q
        # Ours: the first duration where lifelines' survival is at or below 1 - q (equality
        # counts, up to floating error); lifelines' own qth_survival_time compares the floats
        # as they are, so it agrees whenever no survival value sits right at 1 - q.
        # Survival only steps at durations with an event, so the crossing is one of them
        # (for q = 0 too: the first event, never a censored duration before it).
        near = np.isclose(sf.to_numpy(), level, rtol=TOLERANCE, atol=0)
        has_event = kmf.event_table["observed"].reindex(sf.index, fill_value=0).to_numpy() > 0
        at_or_below = sf[((sf.to_numpy() <= level) | near) & has_event]
        expected = None if at_or_below.empty else float(at_or_below.index[0])
        assert ours == expected, (q, ours, expected)
        if q > 0 and not near.any():
            theirs = qth_survival_time(level, sf)
            assert (ours is None and math.isinf(theirs)) or ours == theirs, (q, ours, theirs)


durations_with_ties = st.lists(
    st.tuples(st.integers(0, 30).map(lambda x: x / 4), st.booleans()), min_size=1, max_size=60)


@SETTINGS
@given(durations_with_ties)
def test_kaplan_meier_agrees_with_lifelines(rows):
    durations = [d for d, _ in rows]
    observed = [o for _, o in rows]
    curve = kaplan_meier_observations(durations, observed)
    assert curve.subjects == len(rows)
    assert curve.total_events == sum(observed)
    assert_matches_lifelines(curve, durations, observed)


@SETTINGS
@given(st.lists(st.floats(0, 1e4, allow_nan=False), min_size=1, max_size=80),
       st.sampled_from(QS))
def test_without_censoring_the_quantile_is_numpys_inverted_cdf(values, q):
    curve = kaplan_meier_observations(values, [True] * len(values))
    expected = float(np.quantile(values, q, method="inverted_cdf"))
    assert curve.quantile(q) == expected


def test_counts_per_duration_are_the_same_as_one_row_per_subject():
    a = kaplan_meier([3.0, 1.0, 3.0, 2.0], [1, 2, 0, 0], [0, 0, 2, 1])
    b = kaplan_meier_observations([1, 1, 2, 3, 3, 3], [1, 1, 0, 1, 0, 0])
    for name in ("duration", "at_risk", "events", "censored", "survival", "ci_lower",
                 "ci_upper"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_by_hand():
    # Three accounts: value after 2 days, after 4 days, one still waiting after 3 days.
    curve = kaplan_meier_observations([2, 4, 3], [True, True, False])
    assert curve.duration.tolist() == [2, 3, 4]
    assert curve.at_risk.tolist() == [3, 2, 1]
    assert curve.survival.tolist() == pytest.approx([2 / 3, 2 / 3, 0.0])
    assert curve.quantile(0.5) == 4 and curve.quantile(1 / 3) == 2
    assert curve.ci_lower[-1] == curve.ci_upper[-1] == 0.0
    assert curve.survival_at(1) == 1.0 and curve.survival_at(3.5) == pytest.approx(2 / 3)
    # Exactly half at 2: the median is 2 (lifelines' strict comparison would say so too
    # here, but only because 1 - 1/2 is exact in floating point).
    assert kaplan_meier_observations([2, 4], [True, True]).quantile(0.5) == 2


def test_unreached_and_empty():
    all_open = kaplan_meier_observations([5, 6], [False, False])
    assert all_open.quantile(0.5) is None and all_open.survival.tolist() == [1.0, 1.0]
    assert all_open.ci_lower.tolist() == [1.0, 1.0]
    empty = kaplan_meier([], [], [])
    assert empty.subjects == 0 and empty.quantile(0.5) is None
    assert empty.to_arrow().num_rows == 0 and empty.survival_at(1.0) == 1.0
    with pytest.raises(ValueError):
        all_open.quantile(1.5)


def test_percentile_names():
    assert [percentile_name(q) for q in (0.1, 0.25, 0.5, 0.95, 0.999)] == \
        ["p10", "p25", "p50", "p95", "p99.9"]


@SETTINGS
@given(st.lists(st.floats(-1e5, 1e5, allow_nan=False), min_size=1, max_size=50),
       st.integers(1, 30))
def test_bins_cover_every_value_once(values, target):
    values = np.asarray(values)
    lo, hi, p95 = values.min(), values.max(), float(np.quantile(values, 0.95))
    bins = nice_bins(float(lo), float(hi), p95, target)
    assert bins[0][0] <= lo and bins[-1][1] >= hi
    for (a_lo, a_hi), (b_lo, _) in zip(bins, bins[1:], strict=False):
        assert a_lo < a_hi == b_lo
    assert len(bins) <= target + 3
    counts = [int(((values >= a) & ((values <= b) if i == len(bins) - 1 else (values < b)))
                  .sum()) for i, (a, b) in enumerate(bins)]
    assert sum(counts) == len(values)


def test_bins_read_well():
    assert nice_bins(0.0, 9.5, 9.0, 10) == [(float(k), float(k + 1)) for k in range(10)]
    # A long tail goes into one last bin ending at the largest value.
    assert nice_bins(0.3, 500.0, 30.0, 10)[-1] == (35.0, 500.0)
    assert nice_bins(4.0, 4.0, 4.0) == [(4.0, 4.0)]
    assert nice_bins(None, None, None) == []
