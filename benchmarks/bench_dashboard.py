"""Dashboard response times (p50, p95) on a workspace of about a million events, under load.

    python benchmarks/bench_dashboard.py [--events 1000000] [--concurrency 8]
                                         [--requests 200] [--seconds 30]

Generates the demo company at the requested size, ingests it into a workspace (both in
benchmarks/data/, ignored by git), starts ``valueclock serve -w`` in its own process on
127.0.0.1 and a free port, then sends each address a bounded number of requests
(``--requests``, at most ``--seconds`` each) from ``--concurrency`` concurrent clients (an
httpx async loop; only ever to 127.0.0.1). Each request's latency is recorded; the table
gives p50, p95 and requests per second per address, and the ratio of the p50 to the
baseline measured in the same run: ``/static/style.css``, a static file the server answers
without touching the data (so the ratio is what the data costs, the web stack and the load
client on the same two cores being in both).

The first request of a new filter builds a filtered measurement: it is timed once, alone
("cold"), before the same address is put under load ("warm", from the cache).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RESULTS = HERE / "results"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def workspace(events: int) -> tuple[Path, float, int]:
    """The workspace of the demo company with about ``events`` events (made once)."""
    from valueclock import demo
    from valueclock.workspace import Workspace

    folder = DATA / f"dashboard_ws_{events}"
    done = folder / ".complete"
    if done.exists():
        info = json.loads(done.read_text())
        return folder, info["seconds"], info["rows"]
    shutil.rmtree(folder, ignore_errors=True)
    t0 = time.perf_counter()
    company = demo.generate_events(events, seed=11)
    paths = demo.write(company, DATA / f"dashboard_demo_{events}", format="parquet")
    with Workspace.init(folder) as ws:
        ws.ingest([paths["events"]], accounts=paths["accounts"])
    seconds = time.perf_counter() - t0
    rows = company.events.num_rows
    done.write_text(json.dumps({"seconds": seconds, "rows": rows}))
    return folder, seconds, rows


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


async def load(base: str, paths: list[str], requests: int, concurrency: int,
               seconds: float) -> dict:
    """Send ``requests`` GETs (cycling over ``paths``) from ``concurrency`` clients, for at
    most ``seconds``; latencies in milliseconds."""
    import httpx

    latencies: list[float] = []
    errors = 0
    counter = iter(range(requests))
    deadline = time.perf_counter() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        for i in counter:
            if time.perf_counter() > deadline:
                return
            t0 = time.perf_counter()
            r = await client.get(paths[i % len(paths)])
            latencies.append((time.perf_counter() - t0) * 1000)
            if r.status_code != 200:
                errors += 1

    limits = httpx.Limits(max_connections=concurrency)
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    wall = time.perf_counter() - started
    return {"requests": len(latencies), "errors": errors,
            "p50": percentile(latencies, 0.5), "p95": percentile(latencies, 0.95),
            "mean": statistics.fmean(latencies), "per_second": len(latencies) / wall}


def wait_until_up(base: str, proc: subprocess.Popen, limit: float = 900) -> float:
    import httpx

    t0 = time.perf_counter()
    while time.perf_counter() - t0 < limit:
        if proc.poll() is not None:
            raise SystemExit(f"the server stopped: {proc.stderr.read()}")
        try:
            if httpx.get(base + "/static/style.css", timeout=2).status_code == 200:
                return time.perf_counter() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not start in time")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    import httpx

    DATA.mkdir(exist_ok=True)
    folder, ingest_s, rows = workspace(args.events)
    print(f"workspace: {rows:,} events ({folder.name}, made in {ingest_s:.0f}s)")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != "VALUECLOCK_TOKEN"}
    proc = subprocess.Popen([sys.executable, "-m", "valueclock", "serve", "-w", str(folder),
                             "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=env)
    try:
        startup = wait_until_up(base, proc)
        print(f"serve: measured and listening after {startup:.1f}s")
        rng = random.Random(7)
        accounts = httpx.get(base + "/api/accounts?per_page=200&sort=cases&desc=1",
                             timeout=300).json()["rows"]
        cases = httpx.get(base + "/api/cases?per_page=200&sort=reopens&desc=1",
                          timeout=300).json()["rows"]
        some_accounts = [f"/accounts/{a['account_id']}" for a in rng.sample(accounts, 50)]
        some_cases = [f"/cases/{c['case_id']}" for c in rng.sample(cases, 50)]
        pages = [f"/accounts?sort=ttcv_days&desc=1&page={p}" for p in range(1, 40)]
        searches = [f"/accounts?q=A00{rng.randint(100, 999)}" for _ in range(40)]

        cold = {}
        for path in ("/?by=segment&value=Enterprise", "/?team=Engineering"):
            t0 = time.perf_counter()
            httpx.get(base + path, timeout=900).raise_for_status()
            cold[path] = (time.perf_counter() - t0) * 1000

        plan = [
            ("baseline: /static/style.css", ["/static/style.css"]),
            ("/ (dashboard)", ["/"]),
            ("/api/report", ["/api/report"]),
            ("/?by=segment&value=Enterprise (warm)", ["/?by=segment&value=Enterprise"]),
            ("/accounts sorted, pages 1-39", pages),
            ("/accounts?q= (search)", searches),
            ("/cases?sort=smile_hours&desc=1", ["/cases?sort=smile_hours&desc=1"]),
            ("/accounts/{id} (timeline)", some_accounts),
            ("/cases/{id} (clock)", some_cases),
            ("/teams", ["/teams"]),
        ]
        for _, paths in plan:  # warm each address once (charts, caches), not timed
            httpx.get(base + paths[0], timeout=900).raise_for_status()
        results = {}
        for name, paths in plan:
            results[name] = asyncio.run(load(base, paths, args.requests, args.concurrency,
                                             args.seconds))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()

    baseline = results["baseline: /static/style.css"]["p50"]
    print(f"\n{rows:,} events, {args.concurrency} concurrent clients, up to "
          f"{args.requests} requests per address\n")
    print(f"{'address':44} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>7} "
          f"{'p50/base':>9}")
    for name, r in results.items():
        print(f"{name:44} {r['requests']:>8} {r['p50']:>8.1f} {r['p95']:>8.1f} "
              f"{r['per_second']:>7.1f} {r['p50'] / baseline:>8.1f}x"
              + (f"  ({r['errors']} errors)" if r["errors"] else ""))
    print("\nfirst request of a new filter (cold, alone):")
    for path, ms in cold.items():
        print(f"  {path:42} {ms / 1000:8.1f} s")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"dashboard_{rows}.json"
    out.write_text(json.dumps({"events": rows, "startup_s": startup, "concurrency":
                               args.concurrency, "results": results, "cold_ms": cold},
                              indent=2))
    print(f"\nwritten to {out.relative_to(HERE.parent)}")
    if any(r["errors"] for r in results.values()):
        raise SystemExit("some requests failed")


if __name__ == "__main__":
    main()
