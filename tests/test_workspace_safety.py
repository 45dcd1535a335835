"""The workspace never loses or half-writes: bad inputs, locks, newer versions, a full disk,
Ctrl-C and SIGKILL all leave it exactly as it was, and usable."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

import valueclock
from tests.conftest import SEED_EXAMPLE
from tests.workspace_helpers import fingerprint, numbers, write_csv
from valueclock import demo
from valueclock.errors import InputError
from valueclock.workspace import CONFIG_NAME, DB_NAME, Workspace

SEED = SEED_EXAMPLE.read_text()


@pytest.fixture
def seeded(tmp_path):
    """A workspace holding the article's example; closed, so other processes can open it."""
    folder = tmp_path / "ws"
    with Workspace.init(folder) as ws:
        ws.ingest([SEED_EXAMPLE])
    return folder


def _bad(tmp_path: Path, name: str, content: str | bytes | None) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    return path


BAD_INPUTS = {
    "missing": ("events.csv", None, "events.csv: file not found"),
    "empty": ("events.csv", "", "events.csv: the file is empty"),
    "blank lines": ("events.csv", "\n\n  \n", "the file is empty"),
    "binary": ("events.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", "is a binary file"),
    "excel": ("events.csv", b"PK\x03\x04\x14\x00\x06\x00", "is a ZIP archive or an Excel"),
    "header only": ("events.csv", "account_id,timestamp,kind\n",
                    "no data rows (the file has a header only)"),
    "header only, no newline": ("events.csv", "account_id,timestamp,kind",
                                "no data rows (the file has a header only)"),
    "duplicate columns": ("events.csv", "account_id,kind,timestamp,kind\na,sale,2026,sale\n",
                          "duplicate column name 'kind' in the header"),
    "missing column": ("events.csv", "account,timestamp,kind\na,2026-01-01,sale\n",
                       "required column 'account_id' is missing"),
    "unknown type": ("events.xlsx", "x", "unknown file type"),
    "bad parquet": ("events.parquet", "account_id,timestamp,kind\n", "cannot read as Parquet"),
    "broken json": ("events.jsonl", '{"account_id": "a", "timestamp": \n',
                    "cannot read as JSON lines"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_a_bad_input_is_one_clear_error_and_nothing_is_written(seeded, tmp_path, case):
    name, content, message = BAD_INPUTS[case]
    path = _bad(tmp_path, name, content)
    before = fingerprint(seeded)
    with Workspace.open(seeded) as ws, pytest.raises(InputError) as info:
        ws.ingest([SEED_EXAMPLE, path])  # a good file first: it is not kept either
    assert message in str(info.value)
    assert str(path) in str(info.value)
    assert "\n" not in str(info.value)
    assert fingerprint(seeded) == before


def test_a_directory_is_refused(seeded, tmp_path):
    before = fingerprint(seeded)
    with Workspace.open(seeded) as ws, pytest.raises(InputError, match="is a directory"):
        ws.ingest([tmp_path])
    assert fingerprint(seeded) == before


def test_an_error_deep_in_a_big_file_undoes_the_rows_already_staged(seeded, tmp_path):
    good = "".join(SEED.splitlines(True)[1:]) * 2000
    path = _bad(tmp_path, "events.csv", SEED + good + 'acme,"2026-01-01,value\n')
    before = fingerprint(seeded)
    with Workspace.open(seeded) as ws, pytest.raises(InputError, match="cannot read as CSV"):
        ws.ingest([path], batch_rows=1000)
    assert fingerprint(seeded) == before


def test_a_bad_accounts_table_stops_the_events_too(seeded, tmp_path, company_csv):
    accounts = _bad(tmp_path, "accounts.csv", "customer,segment\nacme,SMB\n")
    before = fingerprint(seeded)
    with Workspace.open(seeded) as ws, pytest.raises(
            InputError, match="required column 'account_id' is missing"):
        ws.ingest([company_csv], accounts=accounts)
    assert fingerprint(seeded) == before


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1252", "latin-1", "utf-16"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_other_delimiters_and_encodings_are_read(tmp_path, delimiter, encoding):
    label = "Lu le guide gratuit, très clair"
    rows = [[label if c == "Read the free guide" else c for c in line.split(",")]
            for line in SEED.splitlines()]
    if delimiter == ",":
        rows = [[f'"{c}"' if "," in c else c for c in r] for r in rows]
    path = tmp_path / "events.csv"
    path.write_bytes(("\n".join(delimiter.join(r) for r in rows) + "\n").encode(encoding))
    with Workspace.init(tmp_path / "ws") as ws:
        result = ws.ingest([path])
        assert result.added == 8, result
        assert ws.measure().summary()["ttcv_text"] == "11 days, 5 hours"
        assert label in ws.events().to_pyarrow().column("label").to_pylist()


def test_a_workspace_locked_by_another_process(seeded):
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from valueclock.workspace import Workspace
            ws = Workspace.open({str(seeded)!r})
            print("holding", flush=True)
            time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        for read_only in (False, True):
            with pytest.raises(InputError) as info:
                Workspace.open(seeded, read_only=read_only)
            assert f"locked by another process (PID {holder.pid})" in str(info.value)
            assert str(seeded) in str(info.value)
    finally:
        holder.kill()
        holder.wait()
    with Workspace.open(seeded) as ws:
        assert ws.ingest([SEED_EXAMPLE]).already_present == 8


def test_a_workspace_from_a_newer_version_is_refused(seeded):
    before = fingerprint(seeded)
    settings = seeded / CONFIG_NAME
    original = settings.read_text()
    settings.write_text(original.replace("schema_version = 1", "schema_version = 99"))
    with pytest.raises(InputError, match=r"made by a newer valueclock \(workspace format 99"):
        Workspace.open(seeded)
    settings.write_text(original)
    con = duckdb.connect(str(seeded / DB_NAME))
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(InputError, match="made by a newer valueclock"):
        Workspace.open(seeded, read_only=True)
    con = duckdb.connect(str(seeded / DB_NAME))
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    con.close()
    assert fingerprint(seeded) == before


def test_a_damaged_settings_file_is_named(seeded):
    (seeded / CONFIG_NAME).write_text("timezone = \n")
    with pytest.raises(InputError, match="valueclock.toml: cannot read the settings"):
        Workspace.open(seeded)


@pytest.fixture(scope="module")
def company_csv(tmp_path_factory):
    return write_csv(demo.generate(seed=5, accounts=2000).events,
                     tmp_path_factory.mktemp("company") / "events.csv")


def test_a_file_size_limit_is_a_clear_error_and_nothing_is_written(seeded, company_csv):
    """A full disk, simulated with RLIMIT_FSIZE: writes fail with EFBIG like ENOSPC."""
    before = fingerprint(seeded)
    limit = (seeded / DB_NAME).stat().st_size + 300_000
    script = textwrap.dedent(f"""
        import resource, signal, sys
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
        from valueclock.errors import InputError
        from valueclock.workspace import Workspace
        ws = Workspace.open({str(seeded)!r})
        try:
            ws.ingest([{str(company_csv)!r}])
        except InputError as exc:
            print(exc)
            sys.exit(2)
        print("ingested")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "no space left to write the workspace" in out.stdout
    assert fingerprint(seeded) == before


def _mount_tmpfs(folder: Path, size: str) -> bool:
    if os.geteuid() != 0:
        return False
    folder.mkdir()
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True).returncode == 0


def test_a_full_disk_is_a_clear_error_and_nothing_is_written(tmp_path, company_csv):
    small = tmp_path / "small"
    assert _mount_tmpfs(small, "3m"), ("this test mounts a 3 MB tmpfs to fill: run the "
                                       "suite as root, as scripts/test.sh does in CI")
    try:
        with Workspace.init(small / "ws") as ws:
            ws.ingest([SEED_EXAMPLE])
            before = fingerprint(ws)
            with pytest.raises(InputError) as info:
                ws.ingest([company_csv])
            assert "no space left to write the workspace" in str(info.value)
            assert fingerprint(ws) == before
        assert fingerprint(small / "ws") == before
        with Workspace.open(small / "ws") as ws:  # still usable
            assert ws.measure().summary()["ttcv_text"] == "11 days, 5 hours"
    finally:
        subprocess.run(["umount", "-l", str(small)], capture_output=True)


# --------------------------------------------------------------------------------------------
# Killed and interrupted ingests
# --------------------------------------------------------------------------------------------

INGEST_SCRIPT = textwrap.dedent("""
    import sys
    from valueclock.workspace import Workspace
    ws = Workspace.open(sys.argv[1])
    def progress(stage, done, total):
        print(stage, done, total or 0, flush=True)
    ws.ingest([sys.argv[2]], progress=progress, batch_rows=20_000)
    ws.close()
    print("finished", flush=True)
""")


@pytest.fixture(scope="module")
def big_csv(tmp_path_factory):
    """About 300,000 events: a few seconds to ingest, long enough to be killed midway."""
    return write_csv(demo.generate_events(300_000, seed=3).events,
                     tmp_path_factory.mktemp("big") / "big.csv")


def _ingest_until(folder: Path, path: Path, when: str, sig: int, delay: float = 0.0) -> str:
    """Run an ingest in a subprocess and send ``sig`` when its progress reaches ``when``:
    ``half`` (half the file read) or ``save`` (reading done, checking and writing).
    Returns everything the process printed."""
    proc = subprocess.Popen([sys.executable, "-c", INGEST_SCRIPT, str(folder), str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            stage, *numbers_ = line.split()
            if when == "half" and stage == "read" and int(numbers_[0]) * 2 >= int(numbers_[1]):
                break
            if when == "save" and stage == "save":
                break
        time.sleep(delay)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    return "".join(lines) + out + err


def test_sigkill_midway_leaves_the_workspace_unchanged_and_usable(seeded, big_csv):
    before = fingerprint(seeded)
    finished = None
    for when, delay in (("half", 0.0), ("save", 0.0), ("save", 0.3), ("save", 1.0)):
        output = _ingest_until(seeded, big_csv, when, signal.SIGKILL, delay)
        after = fingerprint(seeded)
        if "finished" in output or (delay > 0 and after != before):
            # The kill came after the commit (perhaps before "finished" was printed): then
            # it must all be there, which ingesting the file again shows (it adds nothing).
            assert delay > 0, output
            finished = after
            break
        assert after == before, (when, delay)
    with Workspace.open(seeded) as ws:
        result = ws.ingest([big_csv])
        rows = result.rows_read
        if finished is None:
            assert result.added + result.quarantined == rows
        else:
            assert result.added == 0
        summary = ws.measure().summary()
    direct = valueclock.measure([SEED_EXAMPLE, big_csv]).summary()
    assert numbers(summary) == numbers(direct)


@pytest.mark.parametrize("when", ["half", "save"])
def test_ctrl_c_midway_leaves_the_workspace_unchanged(seeded, big_csv, when):
    before = fingerprint(seeded)
    output = _ingest_until(seeded, big_csv, when, signal.SIGINT)
    assert "KeyboardInterrupt" in output and "finished" not in output
    assert fingerprint(seeded) == before


def test_ctrl_c_on_the_command_line(seeded, big_csv):
    before = fingerprint(seeded)
    proc = subprocess.Popen([sys.executable, "-m", "valueclock", "ingest", str(big_csv), "-w",
                             str(seeded), "--progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in proc.stderr:
            if line.startswith("valueclock: reading ") and int(line.split()[2][:-1]) >= 50:
                break
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode == 130, out + err
    assert err.strip().endswith("valueclock: interrupted: nothing was ingested (the "
                                "workspace is as it was)")
    assert fingerprint(seeded) == before
