"""The demo company generator: deterministic, believable, and shaped like the contract's input."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from valueclock import demo
from valueclock.schema import CASE_KINDS, EVENT_COLUMNS, KINDS


@pytest.fixture(scope="module")
def company() -> demo.Demo:
    return demo.generate(seed=7)


@pytest.fixture(scope="module")
def events(company: demo.Demo) -> pd.DataFrame:
    return company.events.to_pandas()


@pytest.fixture(scope="module")
def cases(events: pd.DataFrame) -> pd.DataFrame:
    return events[events["case_id"].notna()]


def sale_at(events: pd.DataFrame) -> pd.Series:
    return events[events["kind"] == "sale"].groupby("account_id")["timestamp"].min()


def test_same_seed_same_company_and_other_seeds_differ() -> None:
    one = demo.generate(seed=11, accounts=300)
    again = demo.generate(seed=11, accounts=300)
    other = demo.generate(seed=12, accounts=300)
    assert one.events.equals(again.events)
    assert one.accounts.equals(again.accounts)
    assert not one.events.equals(other.events)
    assert not one.accounts.equals(other.accounts)


def test_columns_types_and_order(company: demo.Demo) -> None:
    names = company.events.column_names
    assert names[: len(EVENT_COLUMNS)] == list(EVENT_COLUMNS)
    assert names == [*EVENT_COLUMNS, "priority", "channel"]
    assert company.events.schema.field("timestamp").type == pa.timestamp("us", tz="UTC")
    for name in names:
        if name != "timestamp":
            assert company.events.schema.field(name).type == pa.string(), name
    assert company.accounts.column_names[0] == "account_id"
    assert {"segment", "region", "plan", "owner"} <= set(company.accounts.column_names)
    assert 2900 < company.accounts.num_rows <= 3000


def test_event_ids_unique_and_shaped(events: pd.DataFrame) -> None:
    assert events["event_id"].is_unique
    assert events["event_id"].str.fullmatch(r"e\d{7}").all()
    assert events["account_id"].notna().all() and events["kind"].notna().all()


def test_sorted_and_inside_the_window(company: demo.Demo, events: pd.DataFrame) -> None:
    ts = events["timestamp"]
    assert ts.is_monotonic_increasing
    assert ts.min() >= pd.Timestamp(company.start)
    assert ts.max() < pd.Timestamp(company.end)
    assert company.end - company.start == timedelta(days=365)


def test_custom_window_naive_start_is_utc() -> None:
    small = demo.generate(seed=1, accounts=200, start=datetime(2026, 1, 11), days=30)
    ts = small.events.column("timestamp").to_pandas()
    assert small.start == datetime(2026, 1, 11, tzinfo=UTC)
    assert ts.min() >= pd.Timestamp("2026-01-11", tz="UTC")
    assert ts.max() < pd.Timestamp("2026-02-10", tz="UTC")


def test_all_kinds_present_in_lower_case(events: pd.DataFrame) -> None:
    assert set(events["kind"]) == set(KINDS)


def test_case_columns_only_on_case_events(events: pd.DataFrame) -> None:
    is_case = events["kind"].isin(CASE_KINDS)
    assert events.loc[is_case, "case_id"].notna().all()
    assert events.loc[~is_case, ["case_id", "priority", "channel"]].isna().all().all()
    assert set(events.loc[is_case, "priority"]) == {"low", "normal", "high", "urgent"}
    assert set(events.loc[is_case, "channel"]) == {"email", "chat", "phone"}
    # A case keeps one priority, one channel and one account.
    per_case = events[is_case].groupby("case_id")[["priority", "channel", "account_id"]].nunique()
    assert (per_case == 1).all().all()


def test_every_case_starts_with_its_interruption(cases: pd.DataFrame) -> None:
    first = cases.groupby("case_id").first()       # rows are in time order
    assert (first["kind"] == "interruption").all()
    started = cases[cases["kind"] == "interruption"].groupby("case_id")["timestamp"].min()
    earliest = cases.groupby("case_id")["timestamp"].min()
    assert (earliest == started.reindex(earliest.index)).all()
    interruptions = cases[cases["kind"] == "interruption"].groupby("case_id").size()
    assert (interruptions == 1).all() and len(interruptions) == cases["case_id"].nunique()


def test_cases_belong_to_sold_accounts_after_their_sale(events: pd.DataFrame,
                                                        cases: pd.DataFrame) -> None:
    started = cases[cases["kind"] == "interruption"].set_index("case_id")
    sold = sale_at(events)
    assert started["account_id"].isin(sold.index).all()
    assert (started["timestamp"] > sold.reindex(started["account_id"]).to_numpy()).all()


def test_prospects_and_accounts_table(company: demo.Demo, events: pd.DataFrame) -> None:
    known = set(company.accounts.column("account_id").to_pylist())
    seen = set(events["account_id"])
    assert seen == known                    # every account in the table has events
    prospects = seen - set(sale_at(events).index)
    assert len(prospects) > 100
    assert set(events.loc[events["account_id"].isin(prospects), "kind"]) == {"value"}


def test_value_before_the_sale_by_marketing_sales_customer_success(events: pd.DataFrame) -> None:
    sold = sale_at(events)
    value = events[events["kind"] == "value"].join(sold.rename("sale_at"), on="account_id")
    before = value[value["timestamp"] < value["sale_at"]]
    assert before["account_id"].nunique() > 200
    assert {"Marketing", "Sales", "Customer Success"} <= set(before["team"])
    # Some buyers get no value at all before signing.
    assert before["account_id"].nunique() < len(sold)


def test_waiting_instant_value_and_second_sales(events: pd.DataFrame) -> None:
    sold = sale_at(events)
    value = events[events["kind"] == "value"].join(sold.rename("sale_at"), on="account_id")
    after = value[value["timestamp"] >= value["sale_at"]]
    waiting = set(sold.index) - set(after["account_id"])
    assert len(waiting) > 10
    instant = after[after["timestamp"] == after["sale_at"]]["account_id"].nunique()
    assert instant > 5
    sales_per_account = events[events["kind"] == "sale"].groupby("account_id").size()
    assert (sales_per_account == 2).sum() > 5
    assert sales_per_account.max() == 2
    onboarding = set(after["team"])
    assert {"Professional Services", "Training", "Customer Success"} <= onboarding
    assert set(events.loc[events["kind"] == "sale", "team"]) == {"Sales"}


def test_open_and_reopened_cases(cases: pd.DataFrame) -> None:
    last = cases.groupby("case_id")["kind"].last()
    assert (last != "smile").sum() > 5                     # still open at the end of the data
    assert (last == "smile").mean() > 0.9                  # but most are resolved
    reopened = cases[cases["kind"] == "reopen"]["case_id"].unique()
    assert len(reopened) > 20
    smiles = cases[cases["kind"] == "smile"].groupby("case_id")["timestamp"].min()
    reopen_at = cases[cases["kind"] == "reopen"].groupby("case_id")["timestamp"].min()
    assert (reopen_at > smiles.reindex(reopen_at.index)).all()   # a reopen follows a smile


def test_handoffs_between_teams_and_some_without_team(cases: pd.DataFrame) -> None:
    handoffs = cases[cases["kind"] == "handoff"]
    assert {"Support", "Engineering", "Billing"} <= set(handoffs["team"].dropna())
    no_team = handoffs["team"].isna().sum()
    assert 0 < no_team < 0.1 * len(handoffs)


def test_segments_differ(company: demo.Demo, events: pd.DataFrame) -> None:
    accounts = company.accounts.to_pandas().set_index("account_id")
    assert set(accounts["segment"]) == {"SMB", "Mid-Market", "Enterprise"}
    assert accounts["region"].nunique() >= 3 and accounts["owner"].nunique() >= 5
    sold = sale_at(events)
    value = events[events["kind"] == "value"].join(sold.rename("sale_at"), on="account_id")
    after = value[value["timestamp"] >= value["sale_at"]].groupby("account_id")["timestamp"].min()
    days = ((after - sold.reindex(after.index)).dt.total_seconds() / 86400).rename("days")
    median = days.to_frame().join(accounts["segment"]).groupby("segment")["days"].median()
    assert median["SMB"] < median["Mid-Market"] < median["Enterprise"]
    cases_per_account = (events[events["kind"] == "interruption"].groupby("account_id").size()
                         .reindex(sold.index, fill_value=0).to_frame("n")
                         .join(accounts["segment"]).groupby("segment")["n"].mean())
    assert cases_per_account["SMB"] < cases_per_account["Enterprise"]


def test_durations_heavy_tailed_and_working_hours(events: pd.DataFrame,
                                                  cases: pd.DataFrame) -> None:
    started = cases[cases["kind"] == "interruption"].groupby("case_id")["timestamp"].min()
    ended = cases[cases["kind"] == "smile"].groupby("case_id")["timestamp"].max()
    hours = ((ended - started.reindex(ended.index)).dt.total_seconds() / 3600)
    assert hours.mean() > 2 * hours.median()           # a long tail
    assert hours.min() > 0
    business = events[events["kind"].isin(["value", "sale"])]
    assert (business["timestamp"].dt.dayofweek < 5).mean() > 0.9


def test_generate_events_hits_the_size() -> None:
    sized = demo.generate_events(100_000, seed=3)
    assert abs(sized.events.num_rows - 100_000) <= 10_000
    assert sized.events["event_id"].to_pandas().is_unique


def test_bad_parameters_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        demo.generate(accounts=0)
    with pytest.raises(ValueError):
        demo.generate(days=0)
    with pytest.raises(ValueError):
        demo.generate_events(0)
    with pytest.raises(ValueError):
        demo.write(demo.generate(accounts=5), tmp_path, format="xlsx")


def test_write_csv_round_trip(tmp_path: Path, company: demo.Demo) -> None:
    paths = demo.write(company, tmp_path / "new" / "dir")
    assert paths == {"events": tmp_path / "new/dir/events.csv",
                     "accounts": tmp_path / "new/dir/accounts.csv"}
    back = pacsv.read_csv(paths["events"], convert_options=pacsv.ConvertOptions(
        column_types={name: pa.string() for name in company.events.column_names}))
    assert back.num_rows == company.events.num_rows
    assert back.column_names == company.events.column_names
    stamps = back.column("timestamp").to_pylist()
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", s) for s in stamps)
    first = company.events.column("timestamp")[0].as_py()
    assert stamps[0] == first.strftime("%Y-%m-%dT%H:%M:%SZ")
    # Nulls are empty fields.
    value_row = back.column("kind").to_pylist().index("value")
    assert back.column("case_id")[value_row].as_py() == ""
    assert back.column("event_id").to_pylist() == company.events.column("event_id").to_pylist()
    header = paths["events"].read_text().splitlines()[0]
    assert header.replace('"', "") == ",".join(company.events.column_names)
    accounts = pacsv.read_csv(paths["accounts"])
    assert accounts.num_rows == company.accounts.num_rows
    assert accounts.column_names[0] == "account_id"


def test_write_parquet_round_trip(tmp_path: Path) -> None:
    small = demo.generate(seed=5, accounts=200)
    paths = demo.write(small, tmp_path, format="parquet")
    assert paths["events"].name == "events.parquet"
    assert pq.read_table(paths["events"]).equals(small.events)
    assert pq.read_table(paths["accounts"]).equals(small.accounts)
