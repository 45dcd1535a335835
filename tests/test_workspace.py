"""The workspace: ingest all or nothing, idempotent, provenance, quarantine, mappings."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import valueclock
from tests.conftest import SEED_EXAMPLE, write_log
from tests.workspace_helpers import fingerprint, numbers, write_csv
from valueclock import demo
from valueclock.errors import InputError, UsageError
from valueclock.workspace import CONFIG_NAME, DB_NAME, Workspace, find_workspace


@pytest.fixture(scope="module")
def company():
    return demo.generate(seed=11, accounts=250)


@pytest.fixture(scope="module")
def company_files(company, tmp_path_factory):
    return demo.write(company, tmp_path_factory.mktemp("company"))


@pytest.fixture
def ws(tmp_path):
    with Workspace.init(tmp_path / "ws") as w:
        yield w


def test_init_makes_a_folder_with_a_database_and_readable_settings(tmp_path):
    folder = tmp_path / "new" / "ws"
    Workspace.init(folder, timezone="Europe/Amsterdam", time_format="%d/%m/%Y %H:%M",
                   columns={"account_id": "Company ID"}, kinds=["Closed Won=sale"]).close()
    assert (folder / DB_NAME).is_file()
    settings = tomllib.loads((folder / CONFIG_NAME).read_text())
    assert settings == {"schema_version": 1, "timezone": "Europe/Amsterdam",
                        "time_format": "%d/%m/%Y %H:%M",
                        "columns": {"account_id": "Company ID"},
                        "kinds": {"closed won": "sale"}}
    assert find_workspace(folder) == folder
    assert sorted(p.name for p in folder.iterdir()) == [DB_NAME, CONFIG_NAME]
    with pytest.raises(InputError, match="already a valueclock workspace"):
        Workspace.init(folder)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="is a file, not a folder"):
        Workspace.init(tmp_path / "file")
    with pytest.raises(InputError, match="not a valueclock workspace"):
        Workspace.open(tmp_path)


def test_the_article_example_through_a_workspace(ws):
    result = ws.ingest([SEED_EXAMPLE])
    assert (result.ingest_id, result.rows_read, result.added) == (1, 8, 8)
    m = ws.measure()
    summary = m.summary()
    assert summary["ttcv_text"] == "11 days, 5 hours"
    assert summary["teams"] == [{"team": "Engineering", "hours": 24.0, "cases": 1},
                                {"team": "Support", "hours": 5.0, "cases": 1}]
    assert summary["data_problems"] == []
    # The same table the engine takes from files, provenance included.
    events = ws.events().order_by("_seq").to_pyarrow()
    from_file = valueclock.read_events(SEED_EXAMPLE)
    assert events.column_names == from_file.column_names
    assert events.to_pylist() == from_file.to_pylist()
    source = ws.sources()[0]
    assert source["files"] == [str(SEED_EXAMPLE)] and source["events"] == 8
    # valueclock.measure takes the workspace's table as any Ibis table.
    assert valueclock.measure(ws.events()).summary()["ttcv_text"] == "11 days, 5 hours"


def _split(table: pa.Table, start: float, stop: float) -> pa.Table:
    n = table.num_rows
    return table.slice(int(n * start), int(n * stop) - int(n * start))


@pytest.mark.parametrize("with_ids", [True, False], ids=["event_id", "content-hash"])
def test_twice_or_overlapping_exports_give_the_numbers_of_one_clean_ingest(
        company, company_files, tmp_path, with_ids):
    events = company.events if with_ids else company.events.drop(["event_id"])
    full = write_csv(events, tmp_path / "full.csv")
    early = write_csv(_split(events, 0, 0.7), tmp_path / "early.csv")
    late = write_csv(_split(events, 0.4, 1), tmp_path / "late.csv")

    with Workspace.init(tmp_path / "clean") as clean:
        clean.ingest([full], accounts=company_files["accounts"])
        expected = clean.measure().summary()
        expected_accounts = clean.measure().accounts.to_pyarrow()
    # Reading the file directly gives the same numbers too.
    direct = valueclock.measure(full, accounts=company_files["accounts"]).summary()
    assert numbers(direct) == numbers(expected)

    with Workspace.init(tmp_path / "messy") as messy:
        messy.ingest([early], accounts=company_files["accounts"])
        messy.ingest([late])
        again = messy.ingest([late, early], accounts=company_files["accounts"])
        assert (again.added, again.accounts_added) == (0, 0)
        assert again.already_present == again.rows_read
        messy.ingest([full])
        m = messy.measure()
        assert numbers(m.summary()) == numbers(expected)
        assert m.accounts.to_pyarrow().equals(expected_accounts)
        assert messy.counts()["events"] == events.num_rows


def test_identical_rows_in_one_export_are_two_events_and_stay_two(ws, tmp_path):
    rows = """
        a,2026-01-01T09:00:00Z,value,,Marketing,Webinar
        a,2026-01-01T09:00:00Z,value,,Marketing,Webinar
        a,2026-01-02T09:00:00Z,sale,,Sales,
    """
    both = write_log(tmp_path / "both.csv", rows)
    one = write_log(tmp_path / "one.csv", "a,2026-01-01T09:00:00Z,value,,Marketing,Webinar")
    assert ws.ingest([both]).added == 3
    assert ws.ingest([both]).added == 0
    assert ws.ingest([one]).added == 0
    assert ws.counts()["events"] == 3


def _bad_rows(tmp_path: Path) -> Path:
    return write_log(tmp_path / "bad.csv", """
        event_id,account_id,timestamp,kind,case_id,team
        e1,a,2026-01-01T09:00:00Z,value,,Marketing
        e2,a,2026-01-05T09:00:00Z,sale,,Sales
        e3,a,yesterday,value,,Marketing
        e4,a,2026-01-06T09:00:00Z,Closed Won,,Sales
        e5,,2026-01-06T09:00:00Z,value,,Sales
        e6,a,2026-01-07T09:00:00Z,interruption,,Support
        e1,a,2026-01-08T09:00:00Z,value,,Marketing
        e7,a,2026-01-09T09:00:00Z,value,,Training
    """, header="event_id,account_id,timestamp,kind,case_id,team")


def test_rows_that_cannot_be_used_are_quarantined_with_reason_and_place(ws, tmp_path):
    bad = _bad_rows(tmp_path)
    result = ws.ingest([bad])
    assert (result.rows_read, result.added, result.quarantined) == (8, 3, 5)
    q = {r["_row"]: (r["reason"], r["detail"], r["_source"])
         for r in ws.quarantine().to_pyarrow().to_pylist()}
    assert q == {
        4: ("unparseable_timestamp", "unparseable timestamp 'yesterday'", str(bad)),
        5: ("unknown_kind", "unknown kind 'closed won'", str(bad)),
        6: ("missing_account_id", "missing account id (account_id empty)", str(bad)),
        7: ("missing_case_id", "missing case id (kind interruption)", str(bad)),
        8: ("duplicate_event_id", "duplicate event id 'e1'", str(bad)),
    }
    # The same rows are problems when the file is read directly; the numbers agree.
    direct = valueclock.measure(bad).summary()
    summary = ws.measure().summary()
    assert numbers(summary) == numbers(direct)
    assert sum(p["count"] for p in direct["data_problems"]) == 5
    problems = {p["problem"]: p for p in summary["data_problems"]}
    assert problems["quarantined"]["count"] == 5
    assert problems["quarantined"]["reasons"] == {
        "missing_account_id": 1, "unparseable_timestamp": 1, "unknown_kind": 1,
        "missing_case_id": 1, "duplicate_event_id": 1}
    assert problems["quarantined"]["examples"][0] == (
        f"{bad} line 4: unparseable timestamp 'yesterday'")
    # Ingesting the file again quarantines nothing more.
    again = ws.ingest([bad])
    assert (again.added, again.quarantined, again.already_quarantined) == (0, 0, 5)
    assert ws.counts()["quarantine"] == 5


def test_fixing_the_options_and_ingesting_again_empties_the_quarantine(ws, tmp_path):
    bad = _bad_rows(tmp_path)
    ws.ingest([bad])
    fixed = ws.ingest([bad], kinds=["Closed Won=sale"])
    assert (fixed.added, fixed.resolved) == (1, 1)
    reasons = {r["problem"] for r in ws.quarantine_summary()}
    assert "unknown_kind" not in reasons and len(reasons) == 4


def test_another_event_under_a_known_event_id_is_quarantined_and_the_first_kept(ws, tmp_path):
    header = "event_id,account_id,timestamp,kind,case_id,team"
    first = write_log(tmp_path / "first.csv", "x1,a,2026-01-01T09:00:00Z,sale,,Sales",
                      header=header)
    second = write_log(tmp_path / "second.csv", "x1,a,2026-03-01T09:00:00Z,sale,,Sales",
                       header=header)
    ws.ingest([first])
    result = ws.ingest([second])
    assert (result.added, result.quarantined) == (0, 1)
    assert ws.events().to_pyarrow().column("timestamp")[0].as_py().month == 1
    assert ws.quarantine().to_pyarrow().column("reason").to_pylist() == [
        "duplicate_event_id"]


def test_sources_and_forget(ws, company_files, tmp_path):
    ws.ingest([SEED_EXAMPLE])
    before = fingerprint(ws)
    events_before = ws.events().order_by("_seq").to_pyarrow()
    ws.ingest([company_files["events"]], accounts=company_files["accounts"])
    assert [s["ingest_id"] for s in ws.sources()] == [1, 2]
    assert ws.sources()[1]["what"] == "events+accounts"
    removed = ws.forget("2")
    assert removed["events"] > 1000 and removed["accounts"] > 100
    after = fingerprint(ws)
    assert after["sources"] == before["sources"]
    # The attribute columns the forgotten ingest brought stay, empty.
    events_after = ws.events().order_by("_seq").to_pyarrow()
    assert events_after.select(events_before.column_names).equals(events_before)
    assert {"priority", "channel"} <= set(events_after.column_names)
    assert ws.accounts() is None and ws.counts()["ingests"] == 1
    with pytest.raises(InputError, match="no ingest 7 in this workspace"):
        ws.forget(7)
    with pytest.raises(UsageError, match="an ingest is a number"):
        ws.forget("latest")
    # Ids are not reused.
    assert ws.ingest([company_files["events"]]).ingest_id == 3


def test_accounts_latest_attributes_win(ws, tmp_path):
    v1 = tmp_path / "v1.csv"
    v1.write_text("account_id,segment,region\nacme,SMB,EMEA\nbeta,SMB,AMER\n")
    v2 = tmp_path / "v2.csv"
    v2.write_text("account_id,segment,plan\nacme,Enterprise,Gold\nacme,Mid-Market,Gold\n")
    ws.ingest([SEED_EXAMPLE], accounts=v1)

    def acme() -> dict:
        return next(r for r in ws.accounts().to_pyarrow().to_pylist()
                    if r["account_id"] == "acme")

    assert (acme()["segment"], acme()["region"]) == ("SMB", "EMEA")
    result = ws.ingest(accounts=v2)
    assert (result.accounts_read, result.accounts_added, result.accounts_repeated) == (2, 1, 1)
    assert (acme()["segment"], acme()["plan"], acme()["region"]) == ("Mid-Market", "Gold",
                                                                     None)
    assert ws.ingest(accounts=v2).accounts_added == 0
    row = ws.measure().accounts.to_pyarrow().to_pylist()[0]
    assert (row["segment"], row["plan"]) == ("Mid-Market", "Gold")
    ws.forget(2)
    assert acme()["segment"] == "SMB"


MESSY = (
    "Company ID;When;What;Ticket;Owner;Note\n"
    "acme;01/01/2026 10:00;Content used;;Marketing;Guide lu en français\n"
    "acme;11/01/2026 10:00;Closed Won;;Sales;Signé\n"
    "acme;31/01/2026 10:00;Content used;;Professional Services;First value\n"
    "acme;10/02/2026 09:00;Ticket opened;T1;Support;\n"
    "acme;10/02/2026 09:30;Reassigned;T1;Support;\n"
    "acme;10/02/2026 13:30;Reassigned;T1;Engineering;\n"
    "acme;11/02/2026 13:30;Reassigned;T1;Support;\n"
    "acme;11/02/2026 14:00;Solved;T1;Support;\n"
)
MESSY_OPTIONS = {
    "columns": {"account_id": "Company ID", "timestamp": "When", "kind": "What",
                "case_id": "Ticket", "team": "Owner", "label": "Note"},
    "kinds": ["Content used=value", "Closed Won=sale", "Ticket opened=interruption",
              "Reassigned=handoff", "Solved=smile"],
    "time_format": "%d/%m/%Y %H:%M",
    "timezone": "Europe/Amsterdam",
}


def test_a_messy_export_works_with_mappings_and_a_time_format(ws, tmp_path):
    messy = tmp_path / "export.csv"
    messy.write_bytes(MESSY.encode("cp1252"))  # as Excel writes it on Windows
    result = ws.ingest([messy], **MESSY_OPTIONS, save=True)
    assert result.layouts == ["CSV, semicolon-separated, Windows-1252"]
    assert (result.added, result.quarantined) == (8, 0)
    assert ws.measure().summary()["ttcv_text"] == "11 days, 5 hours"
    labels = ws.events().to_pyarrow().column("label").to_pylist()
    assert "Guide lu en français" in labels and "Signé" in labels
    # Saved: the next export is read the same way without options.
    settings = tomllib.loads((ws.folder / CONFIG_NAME).read_text())
    assert settings["columns"]["account_id"] == "Company ID"
    assert settings["kinds"]["closed won"] == "sale"
    more = tmp_path / "export2.csv"
    more.write_bytes((MESSY.splitlines()[0] + "\nbeta;01/03/2026 10:00;Closed Won;;Sales;\n")
                     .encode("cp1252"))
    assert ws.ingest([more]).added == 1
    reopened = Workspace.open(ws.folder)  # a second handle in this process
    assert reopened.config.time_format == "%d/%m/%Y %H:%M"
    reopened.close()
    # The reader takes the same options for files.
    direct = valueclock.read_events(messy, columns=MESSY_OPTIONS["columns"],
                                    kinds=valueclock.events.parse_kind_map(
                                        MESSY_OPTIONS["kinds"]),
                                    time_format="%d/%m/%Y %H:%M",
                                    timezone="Europe/Amsterdam")
    assert valueclock.measure(direct).summary()["ttcv_text"] == "11 days, 5 hours"


def test_headers_written_another_way_are_recognised(ws, tmp_path):
    path = tmp_path / "e.csv"
    path.write_text(SEED_EXAMPLE.read_text().replace(
        "account_id,timestamp,kind,case_id,team,label",
        "Account ID,Timestamp,Kind,Case-ID,Team,Label"))
    ws.ingest([path])
    assert ws.measure().summary()["ttcv_text"] == "11 days, 5 hours"


def test_parquet_and_jsonl_and_compressed_csv(ws, company, tmp_path):
    pq.write_table(company.events, tmp_path / "e.parquet")
    assert ws.ingest([tmp_path / "e.parquet"]).added == company.events.num_rows
    import gzip
    gz = tmp_path / "e.csv.gz"
    gz.write_bytes(gzip.compress(write_csv(company.events, tmp_path / "e.csv").read_bytes()))
    result = ws.ingest([gz])
    assert (result.added, result.already_present) == (0, company.events.num_rows)
    assert result.layouts == ["CSV, gzip"]


def test_read_only_workspaces_refuse_to_write(ws, tmp_path):
    ws.close()
    with Workspace.open(ws.folder, read_only=True) as ro:
        with pytest.raises(UsageError, match="read-only"):
            ro.ingest([SEED_EXAMPLE])


def test_ingest_in_batches_gives_the_same_rows(tmp_path, company):
    path = write_csv(company.events, tmp_path / "e.csv")
    with Workspace.init(tmp_path / "a") as a, Workspace.init(tmp_path / "b") as b:
        a.ingest([path])
        b.ingest([path], batch_rows=500)
        ta = a.events().order_by("_seq").to_pyarrow()
        tb = b.events().order_by("_seq").to_pyarrow()
    assert ta.equals(tb)
    assert pc.max(ta.column("_row")).as_py() == company.events.num_rows + 1


def test_measure_takes_a_workspace_and_files_written_another_way(ws, tmp_path):
    messy = tmp_path / "export.csv"
    messy.write_bytes(MESSY.encode("cp1252"))
    ws.ingest([messy], **MESSY_OPTIONS)
    assert valueclock.measure(ws).summary()["ttcv_text"] == "11 days, 5 hours"
    accounts = pa.table({"account_id": ["acme"], "segment": ["SMB"]})
    assert valueclock.measure(ws, accounts=accounts).accounts.to_pyarrow().column(
        "segment").to_pylist() == ["SMB"]
    kinds = dict(item.split("=") for item in MESSY_OPTIONS["kinds"])
    direct = valueclock.measure(messy, columns=MESSY_OPTIONS["columns"], kinds=kinds,
                                time_format="%d/%m/%Y %H:%M", timezone="Europe/Amsterdam")
    assert direct.summary()["ttcv_text"] == "11 days, 5 hours"
    assert valueclock.Workspace is Workspace
