"""Reading status logs from files and writing canonical events."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from valueclock.errors import InputError
from valueclock.sources.files import read_table, write_events
from valueclock.sources.status_log import EVENTS_SCHEMA

ROWS = [
    {"ticket": "007", "at": "2024-03-01 09:00", "state": "New", "group": "Support"},
    {"ticket": "007", "at": "2024-03-01 12:00", "state": "Resolved, at last", "group": ""},
]


@pytest.fixture(params=["csv", "csv.gz", "tsv", "parquet", "jsonl"])
def status_file(request, tmp_path):
    ext = request.param
    path = tmp_path / f"log.{ext}"
    table = pa.Table.from_pylist(ROWS)
    if ext in ("csv", "csv.gz", "tsv"):
        sep = "\t" if ext == "tsv" else ","
        text = sep.join(ROWS[0]) + "\n" + "".join(
            sep.join(f'"{v}"' if "," in v else v for v in r.values()) + "\n" for r in ROWS)
        with pa.output_stream(str(path)) as out:  # compresses by extension
            out.write(("\ufeff" + text).encode())
    elif ext == "parquet":
        pq.write_table(table, path)
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return path


def test_csv_parquet_and_json_lines_read_alike(status_file):
    table = read_table(status_file, ["ticket", "state", "at"])
    assert table.column_names == ["ticket", "state", "at"]
    assert table.column("ticket").to_pylist() == ["007", "007"]  # text, zeros kept
    assert table.column("state").to_pylist()[1] == "Resolved, at last"


def test_a_missing_column_names_the_file_and_the_column(status_file):
    with pytest.raises(InputError) as info:
        read_table(status_file, ["ticket", "assignee"])
    assert str(status_file) in str(info.value) and "'assignee'" in str(info.value)
    assert info.value.column == "assignee" and info.value.path == str(status_file)


def test_a_missing_or_unknown_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_table(tmp_path / "nope.csv", ["a"])
    (tmp_path / "log.xlsx").write_text("x")
    with pytest.raises(InputError, match="unknown file type"):
        read_table(tmp_path / "log.xlsx", ["a"])
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InputError, match="empty"):
        read_table(tmp_path / "empty.csv", ["a"])


def events(micro: int = 0) -> pa.Table:
    return pa.table({
        "event_id": ["e1", "e2"], "account_id": ["acme, inc", "acme, inc"],
        "timestamp": [datetime(2024, 3, 1, 9, 0, 0, micro, tzinfo=UTC),
                      datetime(2024, 3, 1, 12, tzinfo=UTC)],
        "kind": ["interruption", "smile"], "case_id": ["C1", "C1"],
        "team": ["Support", None], "label": ["New", 'said "thanks"'],
    }, schema=EVENTS_SCHEMA)


def test_events_are_written_as_csv_with_utc_times_and_empty_nulls(tmp_path):
    out = write_events(events(), tmp_path / "events.csv")
    assert out.read_text().splitlines() == [
        "event_id,account_id,timestamp,kind,case_id,team,label",
        'e1,"acme, inc",2024-03-01T09:00:00Z,interruption,C1,Support,New',
        'e2,"acme, inc",2024-03-01T12:00:00Z,smile,C1,,"said ""thanks"""',
    ]
    assert [p.name for p in tmp_path.iterdir()] == ["events.csv"]  # no temporary left


def test_microseconds_are_written_only_when_there_are_some(tmp_path):
    out = write_events(events(micro=250), tmp_path / "events.csv")
    assert "2024-03-01T09:00:00.000250Z" in out.read_text()


def test_events_are_written_as_parquet(tmp_path):
    out = write_events(events(), tmp_path / "events.parquet")
    assert pq.read_table(out).equals(events())


def test_writing_into_a_missing_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        write_events(events(), tmp_path / "no" / "events.csv")
