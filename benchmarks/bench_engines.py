"""valueclock against the floor and the alternatives, on 1, 10 and 50 million events.

    python benchmarks/bench_engines.py [--sizes 1000000 10000000 50000000]
                                       [--only NAME ...] [--timeout SECONDS]
                                       [--out docs/benchmarks.md]

For each size it generates the demo company as Parquet (timestamps in UTC, with the read
order as ``_seq``), then runs every contender once in a fresh process and records its
wall time and peak memory, as a ratio to the floor (one hand-written DuckDB SQL query)
measured in the same run. Every contender's numbers are checked against the floor's.
The table is written to docs/benchmarks.md with the machine it ran on.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import Run, machine, run  # noqa: E402

C = HERE / "contenders"
PY = sys.executable


def contenders(path: Path) -> dict[str, tuple[list[str], int]]:
    """Name -> (command, address-space cap in bytes or 0)."""
    p = str(path)
    return {
        "floor: hand-written DuckDB SQL": ([PY, str(C / "floor.py"), p], 0),
        "valueclock report (end to end)": ([PY, "-m", "valueclock", "report", p, "--format",
                                            "json"], 0),
        "valueclock engine on DuckDB": ([PY, str(C / "valueclock_engine.py"), p], 0),
        # No address-space caps: polars' allocator reserves address space well beyond what
        # it uses (a 22 GiB cap failed it at 12 GiB resident); a contender that outgrows
        # the machine is stopped by the kernel and shows as failed.
        "pandas": ([PY, str(C / "pandas_reference.py"), p], 0),
        "polars": ([PY, str(C / "polars_reference.py"), p], 0),
        "pm4py case durations (Time to Smile only)": ([PY, str(C / "pm4py_durations.py"), p],
                                                      0),
        "valueclock engine on PySpark local[2]": ([PY, str(C / "valueclock_engine.py"), p,
                                                   "spark://local[2]"], 0),
    }


def generate(n: int) -> Path:
    from valueclock import demo

    path = HERE / "data" / f"engines_{n}.parquet"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    events = demo.generate_events(n, seed=5).events
    events = events.set_column(events.schema.get_field_index("timestamp"), "timestamp",
                               events.column("timestamp").cast(pa.timestamp("us")))
    events = events.append_column("_seq", pa.array(np.arange(events.num_rows, dtype=np.int64)))
    pq.write_table(events, path, row_group_size=1 << 20)
    print(f"generated {events.num_rows:,} events in {time.perf_counter() - t0:.0f}s -> {path}")
    return path


KEYS = ("ttv_before_days", "ttv_after_days", "smile_hours", "ttcv_days", "cases",
        "resolved_cases")


def agrees(result: Run, floor: Run) -> str:
    if result.output is None or floor.output is None:
        return ""
    keys = [k for k in KEYS if k in result.output]
    if not keys:
        return "n/a (cases: " + ("same" if result.output.get("cases") == floor.output["cases"]
                                 else "differ") + ")"
    for key in keys:
        a, b = result.output[key], floor.output[key]
        if not (a == b or (a is not None and b is not None
                           and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9))):
            return f"NO ({key}: {a} vs {b})"
    return "yes"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+",
                        default=[1_000_000, 10_000_000, 50_000_000])
    parser.add_argument("--only", nargs="*", help="run only contenders whose name contains one "
                                                  "of these words (the floor always runs)")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--out", type=Path, default=HERE.parent / "docs" / "benchmarks.md")
    args = parser.parse_args()

    lines: list[tuple[int, str]] = []
    for n in args.sizes:
        path = generate(n)
        rows = pq.ParquetFile(path).metadata.num_rows
        results: dict[str, Run] = {}
        for name, (cmd, cap) in contenders(path).items():
            if args.only and not name.startswith("floor") and not any(
                    w.lower() in name.lower() for w in args.only):
                continue
            results[name] = run(cmd, timeout=args.timeout, address_limit=cap)
            r = results[name]
            print(f"{rows:>11,} {name:45} {r.seconds:8.1f}s {r.peak_mib:8.0f} MiB "
                  f"{r.error or ''}", flush=True)
        floor = results["floor: hand-written DuckDB SQL"]
        for name, r in results.items():
            ratio = "" if r.error else f"{r.seconds / floor.seconds:.2f}"
            mem = "" if math.isnan(r.peak_mib) else f"{r.peak_mib:,.0f}"
            status = r.error or agrees(r, floor)
            lines.append((rows, f"| {rows:,} | {name} | {r.seconds:,.1f} | {ratio} | {mem} | "
                                f"{status} |"))
    if not args.only:  # the sizes not measured now keep the rows of their own run
        measured = {rows for rows, _ in lines}
        lines += [(size, line) for size, line in _table_rows(args.out) if size not in measured]
    lines.sort(key=lambda item: item[0])  # stable: each size's rows in their run's order

    text = f"""# Benchmarks: valueclock against the floor and the alternatives

Generated by `python benchmarks/bench_engines.py` on {date.today():%Y-%m-%d}.
Machine: {machine()}.

Each contender ran once in a fresh process on the same Parquet file of the demo company
(`valueclock.demo.generate_events`). *x floor* is wall time divided by the floor's, measured
in the same run: one hand-written DuckDB SQL query computing the same per-case and
per-account numbers. *peak MiB* is the most resident memory the contender's processes held
at once (Spark's JVM included). *agrees* compares the parts of the law and the case counts
with the floor's (relative difference below 1e-9);
pm4py measures elapsed case time, a different quantity, so only its case count is compared.

The rows of each size come from one run; running some sizes again (`--sizes`) replaces
their rows and keeps the others.

| events | contender | seconds | x floor | peak MiB | agrees |
|---:|---|---:|---:|---:|---|
""" + "\n".join(line for _, line in lines) + "\n"
    args.out.write_text(text + NOTES)
    print(f"\nwrote {args.out}")


def _table_rows(path: Path) -> list[tuple[int, str]]:
    """The result rows of an earlier docs/benchmarks.md, with their number of events."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        first = line.split("|")[1].strip().replace(",", "") if line.startswith("| ") else ""
        if first.isdigit():
            out.append((int(first), line))
    return out


NOTES = """
## What each contender is

- **floor**: `benchmarks/contenders/floor.py`, DuckDB SQL written for DuckDB only
  (`LAST_VALUE ... IGNORE NULLS`, `MAX_BY`, `FILTER`).
- **valueclock report (end to end)**: the command a user runs, file to JSON report. The
  file is typed Parquet, so DuckDB normalises it in SQL as valueclock's reader would
  (trimmed text, empty as null, file and row of every row kept for the problems).
- **valueclock engine**: the portable Ibis expressions on a table the engine read itself.
- **pandas**, **polars**: the same definitions as an analyst would write them
  (`benchmarks/contenders/`).
- **pm4py**: process mining's case durations (first to last event per case).
- **valueclock on PySpark**: the same engine on Spark in local mode, the scaling path.

## What the floor leaves out

The floor computes the three parts of the law and the hours per team, which is what the
*agrees* column checks. valueclock's report computes more from the same events, and that
work is in its times: every row classified into the data problems the report lists with
examples (repeated event ids found and dropped, unknown kinds, case events before their
case, events after as_of...), the Kaplan-Meier curves of Time to Value after sale and of
Time to Smile, six percentiles and a histogram of each of four parts, each account's own
total against its target, and the teams. The engine is also portable SQL: no
`LAST_VALUE ... IGNORE NULLS`, `MAX_BY` or `FILTER`, which the floor uses.
"""


if __name__ == "__main__":
    main()
