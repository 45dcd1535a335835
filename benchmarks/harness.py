"""Running one contender in a fresh process: wall time, peak memory, its JSON output."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

RUNNER = """
import resource, subprocess, sys, time
limit = int(sys.argv[1])
def cap():
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
start = time.perf_counter()
done = subprocess.run(sys.argv[2:], capture_output=True, text=True, preexec_fn=cap)
wall = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
print(f"{wall} {peak} {done.returncode}")
sys.stdout.write(done.stdout)
sys.stderr.write(done.stderr[-2000:])
"""


@dataclass
class Run:
    seconds: float
    peak_mib: float
    output: dict | None
    error: str | None = None


def run(cmd: list[str], timeout: float = 3600, address_limit: int = 0) -> Run:
    """Run ``cmd`` once in its own process; ``address_limit`` caps its address space."""
    try:
        done = subprocess.run([sys.executable, "-c", RUNNER, str(address_limit), *cmd],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return Run(timeout, float("nan"), None, f"timed out after {timeout:.0f}s")
    first, _, rest = done.stdout.partition("\n")
    wall, peak, code = first.split()
    if code != "0":
        last = (done.stderr.strip().splitlines() or ["?"])[-1]
        return Run(float(wall), int(peak) / 1024, None, f"failed: {last[:120]}")
    return Run(float(wall), int(peak) / 1024, json.loads(rest))


def machine() -> str:
    """One line describing this machine."""
    cpu = "unknown CPU"
    info = Path("/proc/cpuinfo")
    if info.exists():
        for line in info.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    cores = len([1 for line in info.read_text().splitlines() if line.startswith("processor")]) \
        if info.exists() else "?"
    mem = "?"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        mem = f"{kib / 1024 / 1024:.0f} GiB"
    return (f"{cores} cores ({cpu}), {mem} memory, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")
