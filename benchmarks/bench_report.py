"""Time ``valueclock report`` on a large log against a straightforward pandas version.

    python benchmarks/bench_report.py [--events 1000000] [--repeat 3]

Generates the demo company at the requested size (CSV, in benchmarks/data/), then runs
each contender in its own process, several times, and reports the best wall time and the
peak memory (maximum resident set size) of each, with ratios to the pandas baseline
measured in the same run. It also checks that both give the same numbers.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNNER = """
import resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - start
if done.returncode:
    sys.stderr.write(done.stderr)
    sys.exit(done.returncode)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
print(f"{wall} {peak}")
sys.stdout.write(done.stdout)
"""


def measure(cmd: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak MiB and standard output of one run of ``cmd``."""
    out = subprocess.run([sys.executable, "-c", RUNNER, *cmd], capture_output=True, text=True,
                         check=True).stdout
    first, _, rest = out.partition("\n")
    wall, peak = first.split()
    return float(wall), int(peak) / 1024, rest


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
        "pandas (baseline)": [sys.executable, str(HERE / "pandas_reference.py"), str(data)],
        "valueclock report": [sys.executable, "-m", "valueclock", "report", str(data),
                              "--format", "json"],
    }
    results = {}
    for name, cmd in contenders.items():
        runs = [measure(cmd) for _ in range(args.repeat)]
        results[name] = (min(r[0] for r in runs), max(r[1] for r in runs),
                         json.loads(runs[0][2]))

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
