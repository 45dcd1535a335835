"""Time ``valueclock report`` on a large log against a straightforward pandas version.

    python benchmarks/bench_report.py [--events 1000000] [--repeat 3]

Generates the demo company at the requested size (CSV, in benchmarks/data/), then runs
each contender in its own process, several times, and reports the best wall time and the
peak memory (maximum resident set size) of each, with ratios to the pandas baseline
measured in the same run. It also checks that both give the same numbers.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from harness import run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from valueclock import demo

    data = HERE / "data" / f"events_{args.events}.csv"
    if not data.exists():
        t0 = time.perf_counter()
        company = demo.generate_events(args.events, seed=11)
        paths = demo.write(company, data.parent / f"demo_{args.events}")
        paths["events"].rename(data)
        print(f"generated {company.events.num_rows:,} events in {time.perf_counter() - t0:.1f}s")
    rows = sum(1 for _ in data.open()) - 1
    contenders = {
        "pandas (baseline)": [sys.executable, str(HERE / "contenders" / "pandas_reference.py"),
                              str(data)],
        "valueclock report": [sys.executable, "-m", "valueclock", "report", str(data),
                              "--format", "json"],
    }
    results = {}
    for name, cmd in contenders.items():
        runs = [run(cmd) for _ in range(args.repeat)]
        failed = [r.error for r in runs if r.error]
        if failed:
            sys.exit(f"{name}: {failed[0]}")
        results[name] = (min(r.seconds for r in runs), max(r.peak_mib for r in runs),
                         runs[0].output)

    base_wall, base_mem, base_out = results["pandas (baseline)"]
    vc_out = results["valueclock report"][2]
    for key in ("ttv_before_days", "ttv_after_days", "smile_hours", "ttcv_days", "cases",
                "resolved_cases"):
        a, b = base_out[key], vc_out[key]
        same = a == b or (a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9))
        if not same:
            sys.exit(f"disagreement on {key}: pandas {a} vs valueclock {b}")

    print(f"\n{rows:,} events, best of {args.repeat} runs, each in a fresh process")
    print(f"{'':22} {'seconds':>9} {'x pandas':>9} {'peak MiB':>9} {'x pandas':>9}")
    for name, (wall, mem, _) in results.items():
        print(f"{name:22} {wall:9.2f} {wall / base_wall:9.2f} {mem:9.0f} {mem / base_mem:9.2f}")
    print("both agree on every part of the law and on the case counts")


if __name__ == "__main__":
    main()
