"""Parquet files read by DuckDB in SQL give exactly the rows valueclock's reader gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valueclock.engines import _parquet_sql, default_connection, load_files
from valueclock.errors import InputError
from valueclock.events import WHITESPACE, read_events


def test_whitespace_is_what_arrow_trims():
    points = [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    trimmed = pc.utf8_trim_whitespace(pa.array([chr(c) for c in points]))
    arrow = {chr(points[i]) for i, empty in enumerate(pc.equal(trimmed, "").to_pylist())
             if empty}
    assert set(WHITESPACE) == arrow
    assert len(WHITESPACE) == len(arrow)


def _loaded(paths: list[Path], **reading) -> pa.Table:
    table = load_files(default_connection(), paths, **reading).to_pyarrow()
    return table.sort_by("_seq")


def _same_as_reader(paths: list[Path], **reading) -> pa.Table:
    loaded = _loaded(paths, **reading)
    read = read_events(paths, **reading)
    if len(paths) == 1:
        assert loaded.column_names == read.column_names
    # Attributes first seen in a later file follow the internal columns in the engine.
    assert sorted(loaded.column_names) == sorted(read.column_names)
    loaded = loaded.select(read.column_names)
    assert loaded.schema == read.schema
    assert loaded.to_pylist() == read.to_pylist()
    return loaded


def _messy(tz: str | None = "UTC") -> pa.Table:
    moment = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    stamps = [moment + timedelta(hours=i) for i in range(5)] + [None]
    if tz is None:
        stamps = [s and s.replace(tzinfo=None) for s in stamps]
    return pa.table({
        " Account ID ": [" a1", "a2\u3000", "", None, "\u00a0a3\t", "a 4"],
        "timestamp": pa.array(stamps, pa.timestamp("us", tz=tz)),
        "Kind": ["SALE ", " Value", "interruption", "Smile", "weird", "\u2003"],
        "case_id": [None, "", "c1", " c1", "c2", "c3"],
        "region": ["eu", " us ", "", None, "\u0085x\u0085", "y  z"],
        "_private": [1, 2, 3, 4, 5, 6],
    })


def test_messy_parquet_gives_the_readers_rows(tmp_path):
    path = tmp_path / "messy.parquet"
    pq.write_table(_messy("Europe/Paris"), path)
    assert _parquet_sql(default_connection().con, path, "UTC", first_seq=0) is not None
    rows = _same_as_reader([path, path]).to_pylist()
    assert [r["account_id"] for r in rows[:6]] == ["a1", "a2", None, None, "a3", "a 4"]
    assert [r["kind"] for r in rows[:6]] == ["sale", "value", "interruption", "smile",
                                             "weird", None]
    assert rows[0]["timestamp"] == datetime(2026, 3, 29, 0, 30)  # in UTC, naive
    assert [(r["_row"], r["_seq"]) for r in rows] == [(i % 6 + 1, i) for i in range(12)]
    assert "_private" not in rows[0]


def test_files_mixing_parquet_and_csv_keep_their_order_and_attributes(tmp_path):
    first = tmp_path / "first.csv"
    first.write_text("account_id,timestamp,kind,channel\na0,2026-01-01T00:00:00Z,sale,web\n")
    naive = tmp_path / "naive.parquet"
    pq.write_table(_messy(None), naive, row_group_size=2)
    last = tmp_path / "last.parquet"
    pq.write_table(pa.table({"account_id": ["z"], "kind": ["value"],
                             "timestamp": pa.array([datetime(2026, 4, 1)], pa.timestamp("ms")),
                             "tier": ["gold"]}), last)
    rows = _same_as_reader([first, naive, last]).to_pylist()
    assert [r["_seq"] for r in rows] == list(range(8))
    assert rows[-1]["tier"] == "gold" and rows[0]["channel"] == "web"


def test_mapped_columns_are_read_in_sql_too(tmp_path):
    path = tmp_path / "crm.parquet"
    pq.write_table(pa.table({"Company": ["a", "b"], "When": pa.array(
        [datetime(2026, 1, 1), datetime(2026, 1, 2)], pa.timestamp("us", tz="UTC")),
        "Kind": ["sale", "value"]}), path)
    reading = {"columns": {"account_id": "Company", "timestamp": "When"}}
    assert _parquet_sql(default_connection().con, path, "UTC", first_seq=0,
                        **reading) is not None
    assert [r["account_id"] for r in _same_as_reader([path], **reading).to_pylist()] == [
        "a", "b"]


@pytest.mark.parametrize("case", ["text timestamps", "number attribute", "kind map",
                                  "naive in another zone", "nanoseconds"])
def test_what_sql_cannot_do_the_same_goes_through_the_reader(tmp_path, case):
    table = _messy(None if case in ("naive in another zone", "nanoseconds") else "UTC")
    reading: dict = {}
    zone = "UTC"
    if case == "text timestamps":
        table = table.set_column(1, "timestamp", pa.array(["2026-01-01 10:00"] * 6))
    elif case == "number attribute":
        table = table.append_column("seats", pa.array([1, 2, 3, 4, 5, 6]))
    elif case == "kind map":
        reading["kinds"] = {"weird": "value"}
    elif case == "naive in another zone":
        zone = "Europe/Paris"
    else:
        table = table.set_column(1, "timestamp", table.column(1).cast(pa.timestamp("ns")))
    path = tmp_path / "e.parquet"
    pq.write_table(table, path)
    assert _parquet_sql(default_connection().con, path, zone, first_seq=0, **reading) is None
    _same_as_reader([path], timezone=zone, **reading)


def test_a_broken_parquet_file_is_named(tmp_path):
    path = tmp_path / "broken.parquet"
    pq.write_table(_messy(), path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(InputError) as err:
        load_files(default_connection(), [path])
    assert "broken.parquet" in str(err.value)


_TEXT = st.text(alphabet=st.sampled_from(["a", "B", "é", " ", "\u00a0", "\u3000", "\t",
                                          "\u2028", "x"]), max_size=6)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(_TEXT, _TEXT, _TEXT), min_size=1, max_size=20))
def test_any_text_is_cleaned_as_the_reader_cleans_it(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("text")
    path = folder / "e.parquet"
    pq.write_table(pa.table({
        "account_id": [r[0] for r in rows],
        "timestamp": pa.array([datetime(2026, 1, 1)] * len(rows), pa.timestamp("us")),
        "kind": [r[1] for r in rows],
        "note": [r[2] for r in rows]}), path)
    _same_as_reader([path])
    csv = folder / "e.csv"  # and the same numbers as the file written as CSV
    pacsv.write_csv(pa.table({"account_id": ["a"], "timestamp": ["2026-01-01"],
                              "kind": ["sale"]}), csv)
    _same_as_reader([path, csv])
