"""Running one contender in a fresh process: wall time, peak memory, its JSON output."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# Peak memory is the larger of the child's own maximum resident set (ru_maxrss) and the
# largest sum, sampled every 0.2 s, over the child and every process it started: a JVM
# that PySpark starts holds most of Spark's memory, and ru_maxrss counts one process only.
RUNNER = """
import resource, subprocess, sys, tempfile, time
import psutil
limit = int(sys.argv[1])
def cap():
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
out, errs = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")
start = time.perf_counter()
child = subprocess.Popen(sys.argv[2:], stdout=out, stderr=errs, text=True, preexec_fn=cap)
tree_peak = 0
parent = psutil.Process(child.pid)
while child.poll() is None:
    try:
        procs = [parent, *parent.children(recursive=True)]
        tree_peak = max(tree_peak, sum(p.memory_info().rss for p in procs))
    except psutil.Error:
        pass
    time.sleep(0.2)
wall = time.perf_counter() - start
peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, tree_peak // 1024)  # KiB
print(f"{wall} {peak} {child.returncode}")
out.seek(0); errs.seek(0)
sys.stdout.write(out.read())
sys.stderr.write(errs.read()[-2000:])
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
        return Run(float(wall), int(peak) / 1024, None, f"failed: {_why(done.stderr, code)}")
    return Run(float(wall), int(peak) / 1024, json.loads(rest))


def _why(stderr: str, code: str) -> str:
    """The line of a failed contender's output that says why: the last one naming an error
    (a Java stack trace ends with its frames, not with the error)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    words = ("Error", "Exception", "error:", "failed", "Killed", "panicked")
    said = [line for line in lines if any(w in line for w in words)
            and not line.startswith("at ")]
    if code in ("-9", "137"):
        return "killed (out of memory?)"
    return (said or lines or [f"exit status {code}"])[-1][:160]


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
