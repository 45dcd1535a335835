"""Reading the canonical event log: formats, time zones, attributes, clear errors."""

from __future__ import annotations

import json
from datetime import datetime

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

import valueclock
from tests.conftest import SEED_EXAMPLE, write_log
from valueclock.events import parse_timestamps, read_events


def test_naive_timestamps_are_in_the_chosen_zone_and_offsets_are_exact():
    values = pa.array(["2026-01-15 09:00", "2026-07-15T09:00:00", "2026-01-15T09:00:00+02:00",
                       "2026-01-15T09:00:00Z", "2026-01-15", "not a time", None])
    got = parse_timestamps(values, "Europe/Amsterdam").to_pylist()
    assert got == [datetime(2026, 1, 15, 8), datetime(2026, 7, 15, 7),
                   datetime(2026, 1, 15, 7), datetime(2026, 1, 15, 9),
                   datetime(2026, 1, 14, 23), None, None]


def test_daylight_saving_gaps_and_repeats():
    got = parse_timestamps(pa.array(["2026-03-29 02:30", "2026-10-25 02:30"]),
                           "Europe/Amsterdam").to_pylist()
    # 02:30 does not exist in March: moved forward to 03:00 CEST; in October it happens
    # twice: the first (summer time) is taken.
    assert got == [datetime(2026, 3, 29, 1, 0), datetime(2026, 10, 25, 0, 30)]


def test_unknown_time_zone_is_a_usage_error():
    with pytest.raises(valueclock.UsageError, match="Mars/Olympus"):
        read_events(SEED_EXAMPLE, timezone="Mars/Olympus")


def test_kinds_in_any_case_and_extra_columns_kept(tmp_path):
    path = write_log(tmp_path / "e.csv", """
        account_id,timestamp,kind,case_id,team,priority
        a,2026-01-01T00:00:00Z,Interruption,C1,Support,high
        a,2026-01-01T02:00:00Z,SMILE,C1,,
    """, header="account_id,timestamp,kind,case_id,team,priority")
    table = read_events(path)
    assert table.column("kind").to_pylist() == ["interruption", "smile"]
    assert table.column("priority").to_pylist() == ["high", None]
    case = valueclock.measure(path).cases.to_pyarrow().to_pylist()[0]
    assert case["priority"] == "high" and case["smile_hours"] == 2.0


def test_parquet_jsonl_and_csv_give_the_same_numbers(tmp_path):

    table = pacsv.read_csv(SEED_EXAMPLE)
    pq.write_table(table, tmp_path / "e.parquet")
    with (tmp_path / "e.jsonl").open("w") as f:
        for row in table.to_pylist():
            row["timestamp"] = row["timestamp"].isoformat().replace("+00:00", "Z")
            f.write(json.dumps(row) + "\n")
    for path in (SEED_EXAMPLE, tmp_path / "e.parquet", tmp_path / "e.jsonl"):
        assert valueclock.measure(path).summary()["ttcv_text"] == "11 days, 5 hours", path


def test_typed_parquet_timestamps_of_any_unit_and_zone(tmp_path):
    """Zoned timestamps are exact; naive ones are in --timezone; nulls are problems."""
    moment = datetime(2026, 1, 15, 9)  # pyarrow takes naive datetimes as UTC
    table = pa.table({
        "account_id": ["a", "a", "a", "a"],
        "kind": ["value", "sale", "value", "sale"],
        "zoned": pa.array([moment, moment, None, moment], pa.timestamp("ms", tz="Asia/Tokyo")),
        "naive": pa.array([moment, moment, None, moment], pa.timestamp("s")),
        "nanos": pa.array([moment, moment, None, moment], pa.timestamp("ns")),
    })
    for column, zone, expected in (("zoned", "Europe/Amsterdam", datetime(2026, 1, 15, 9)),
                                   ("naive", "Europe/Amsterdam", datetime(2026, 1, 15, 8)),
                                   ("nanos", "UTC", datetime(2026, 1, 15, 9))):
        path = tmp_path / f"{column}.parquet"
        pq.write_table(table.select(["account_id", "kind", column]).rename_columns(
            ["account_id", "kind", "timestamp"]), path)
        got = read_events(path, timezone=zone).column("timestamp").to_pylist()
        assert got == [expected, expected, None, expected], column
        problems = valueclock.measure(path, timezone=zone).problem_summary()
        assert [(p["problem"], p["count"]) for p in problems] == [("unparseable_timestamp", 1)]


def test_parquet_rows_keep_their_order_across_row_groups(tmp_path):
    n = 50_000
    table = pa.table({"account_id": [f"a{i % 7}" for i in range(n)],
                      "timestamp": pa.array([datetime(2026, 1, 1)] * n, pa.timestamp("us")),
                      "kind": ["value"] * n, "label": [f" {i} " for i in range(n)]})
    pq.write_table(table, tmp_path / "many.parquet", row_group_size=999)
    read = read_events(tmp_path / "many.parquet")
    assert read.column("label").to_pylist() == [str(i) for i in range(n)]  # trimmed, in order
    assert read.column("_row").to_pylist() == list(range(1, n + 1))


def test_an_event_after_as_of_shows_its_typed_timestamp(tmp_path):
    table = pa.table({"account_id": ["a", "a"], "kind": ["sale", "value"],
                      "timestamp": pa.array([datetime(2026, 1, 1), datetime(2026, 2, 1, 12)],
                                            pa.timestamp("us"))})
    pq.write_table(table, tmp_path / "e.parquet")
    late = [p for p in valueclock.measure(tmp_path / "e.parquet", as_of="2026-01-15")
            .problem_summary() if p["problem"] == "after_as_of"]
    assert late[0]["count"] == 1 and "2026-02-01 12:00:00" in late[0]["examples"][0]


def test_accounts_table_adds_attributes(tmp_path):
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("account_id,segment,region\nacme,Enterprise,EMEA\nacme,SMB,EMEA\n"
                        "ghost,SMB,AMER\n")
    m = valueclock.measure(SEED_EXAMPLE, accounts=accounts)
    row = m.accounts.to_pyarrow().to_pylist()[0]
    assert (row["segment"], row["region"]) == ("SMB", "EMEA")     # the last row wins
    assert {p["problem"]: p["count"] for p in m.problem_summary()} == {
        "duplicate_account": 1, "account_without_events": 1}


@pytest.mark.parametrize("content, message", [
    (None, "file not found"),
    ("", "the file is empty"),
    ("account_id,timestamp\na,2026-01-01\n", "required column 'kind' is missing"),
    ("account_id,kind,kind\n", "duplicate column name 'kind'"),
    ('account_id,timestamp,kind\n"a,2026-01-01,sale\n', "cannot read as CSV"),
])
def test_unreadable_files_name_the_file(tmp_path, content, message):
    path = tmp_path / "events.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(valueclock.InputError) as info:
        read_events(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)


def test_a_directory_and_an_unknown_extension_are_refused(tmp_path):
    with pytest.raises(valueclock.InputError, match="is a directory"):
        read_events(tmp_path)
    other = tmp_path / "events.xlsx"
    other.write_bytes(b"PK\x03\x04")
    with pytest.raises(valueclock.InputError, match="unknown file type"):
        read_events(other)


def test_utf8_byte_order_mark_is_read(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + SEED_EXAMPLE.read_bytes())
    assert valueclock.measure(path).summary()["ttcv_text"] == "11 days, 5 hours"


def test_as_of_without_offset_is_in_the_chosen_zone():
    m = valueclock.measure(SEED_EXAMPLE, as_of="2026-02-10 12:00", timezone="Europe/Amsterdam")
    assert m.as_of == datetime(2026, 2, 10, 11)
    case = m.cases.to_pyarrow().to_pylist()[0]
    assert case["open_hours"] == 3.0 and case["resolved"] is False
