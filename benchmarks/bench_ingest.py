"""How fast valueclock ingests a big export into a workspace, against DuckDB loading it alone.

    python benchmarks/bench_ingest.py                 # 5,000,000 events, CSV and Parquet
    python benchmarks/bench_ingest.py --events 500000 --formats csv

The events come from the demo company (``valueclock.demo.generate_events``), written once
as CSV (ISO 8601 text timestamps, as exports have them) and as Parquet. Each measured thing
runs in a fresh subprocess, which reports its wall time (from after its imports) and its
peak resident memory (``ru_maxrss``, imports included), so one run's memory does not leak
into the next:

- ``duckdb``: the baseline, DuckDB loading the file into a new database file by itself
  (``CREATE TABLE AS SELECT * FROM read_csv(...)`` / ``read_parquet``), types detected by
  DuckDB;
- ``ingest``: ``Workspace.init`` plus ``Workspace.ingest`` of the file into a new workspace
  (reading and checking every row, parsing timestamps into UTC, keys for deduplication,
  quarantine, provenance, one transaction, closed and checkpointed);
- ``re-ingest``: ingesting the same file again into that workspace (every row is already
  there: the cost of idempotency).

Ratios are against the baseline of the same format, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _child(kind: str, source: str, target: str) -> None:
    """Run one measured thing in this process and print its figures as JSON."""
    rows = 0
    if kind == "duckdb":
        import duckdb

        start = time.perf_counter()  # after the imports: they are not the ingest
        con = duckdb.connect(target)
        reader = "read_parquet" if source.endswith(".parquet") else "read_csv"
        con.execute(f"CREATE TABLE events AS SELECT * FROM {reader}('{source}')")
        rows = con.execute("SELECT count(*) FROM events").fetchone()[0]
        con.close()
    else:
        from valueclock.workspace import Workspace

        start = time.perf_counter()
        ws = (Workspace.init(target) if kind == "ingest" else Workspace.open(target))
        result = ws.ingest([source])
        ws.close()
        rows = result.rows_read
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "rows": rows, "peak_mb": peak_kb / 1024}))


def _measure(kind: str, source: Path, target: Path) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(source), str(target)],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{kind} {source.name} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--formats", default="csv,parquet")
    parser.add_argument("--dir", type=Path, default=None,
                        help="Folder for the files (default: a temporary folder, removed).")
    parser.add_argument("--child", nargs=3, metavar=("KIND", "SOURCE", "TARGET"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return

    from valueclock import demo

    work = args.dir or Path(tempfile.mkdtemp(prefix="valueclock-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        t = time.perf_counter()
        company = demo.generate_events(args.events)
        n = company.events.num_rows
        files = {}
        for fmt in args.formats.split(","):
            files[fmt] = demo.write(company, work / fmt, format=fmt)["events"]
        del company
        print(f"{n:,} events generated and written in {time.perf_counter() - t:.1f} s "
              f"({', '.join(f'{f}: {_size(p) / 1e6:,.0f} MB' for f, p in files.items())})",
              flush=True)

        results = []
        for fmt, source in files.items():
            base = _measure("duckdb", source, work / f"{fmt}-baseline.duckdb")
            base["db_mb"] = _size(work / f"{fmt}-baseline.duckdb") / 1e6
            ws = work / f"{fmt}-workspace"
            first = _measure("ingest", source, ws)
            first["db_mb"] = _size(ws) / 1e6
            again = _measure("re-ingest", source, ws)
            again["db_mb"] = _size(ws) / 1e6
            for kind, r in (("duckdb (baseline)", base), ("valueclock ingest", first),
                            ("valueclock re-ingest", again)):
                r.update(format=fmt, kind=kind, base=base)
                results.append(r)
                print(f"  {fmt:8} {kind:22} {r['seconds']:7.1f} s", flush=True)

        print()
        print(f"Ingesting {n:,} events (demo company), each run in a fresh process "
              f"({sys.platform}, Python {sys.version.split()[0]})")
        head = (f"{'input':8} {'what':22} {'seconds':>8} {'rows/s':>11} {'peak MB':>8} "
                f"{'DB MB':>7} {'x time':>7} {'x memory':>8}")
        print(head)
        print("-" * len(head))
        for r in results:
            rate = n / r["seconds"] if r["seconds"] else float("inf")
            print(f"{r['format']:8} {r['kind']:22} {r['seconds']:8.1f} {rate:11,.0f} "
                  f"{r['peak_mb']:8,.0f} {r['db_mb']:7,.0f} "
                  f"{r['seconds'] / r['base']['seconds']:7.1f} "
                  f"{r['peak_mb'] / r['base']['peak_mb']:8.1f}")
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
