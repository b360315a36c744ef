"""HTTP load benchmark for POST /api/ask: requests/s and latency percentiles at several concurrency levels.

Starts the real server (uvicorn, loopback, a free port; with --workers N, `python -m server.run` with
QA_WORKERS=N, granian as deployed) unless --url points at a running one, then keeps N clients busy for
--duration seconds per level, each on its own keep-alive connection, sending the next of ~10 realistic
questions as soon as its previous answer arrives (closed loop).

    .venv/bin/python benchmarks/bench_http.py                      # 1, 8, 32 clients, 10 s each
    .venv/bin/python benchmarks/bench_http.py --url http://127.0.0.1:8000 --levels 1,8 --duration 5
    .venv/bin/python benchmarks/bench_http.py --workers 2 --levels 8 --duration 20

With several workers the kernel hands each connection to one of them, not always evenly: the "per worker"
column says how many of the level's connections each worker got.

The client runs on the same machine as the server and takes CPU from it; on a small machine the figures
are a lower bound for the server alone.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from servers import SERVE, free_port, start_server  # noqa: E402  (the tests' server helpers)

QUESTIONS = [
    "How much was the lawsuit against the set designer?",
    "Who is Balenciaga's creative director?",
    "When did Kim Kardashian become a Balenciaga ambassador?",
    "Which podcast did Kim Kardashian speak on about the backlash?",
    "Who photographed the teddy bear campaign?",
    "What did the children in the campaign hold?",
    "How many children does Kim Kardashian share with Kanye West?",
    "Who took the black and white portrait of Kim Kardashian?",
    "What production company handled the campaign?",
    "What is the capital of France?",  # unanswerable: exercises the abstention path too
]


@dataclass
class LevelResult:
    clients: int
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    engine_p50_ms: float  # time inside engine.ask (from timings_ms), to tell queueing from work
    per_worker: list[int] = field(default_factory=list)  # connections each server process got


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(q / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


async def run_level(url: str, clients: int, duration: float, warmup: float) -> LevelResult:
    questions = itertools.cycle(QUESTIONS)
    latencies: list[float] = []
    engine_ms: list[float] = []
    errors = 0
    one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    connections = [httpx.AsyncClient(base_url=url, limits=one, timeout=60.0) for _ in range(clients)]
    try:
        # The process serving each connection (it keeps it): /health's pid on the connection's first request.
        pids = [(await c.get("/health")).json().get("pid") for c in connections]

        async def worker(client: httpx.AsyncClient, stop_at: float, record: bool) -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                payload = {"question": next(questions)}
                t0 = time.perf_counter()
                try:
                    r = await client.post("/api/ask", json=payload)
                    ok = r.status_code == 200
                    body = r.json() if ok else None
                except httpx.HTTPError:
                    ok, body = False, None
                elapsed = (time.perf_counter() - t0) * 1000
                if not record:
                    continue
                if ok and body is not None:
                    latencies.append(elapsed)
                    engine_ms.append(float(body.get("timings_ms", {}).get("total_ms", 0.0)))
                else:
                    errors += 1

        if warmup > 0:  # connections open, caches warm; not measured
            await asyncio.gather(*(worker(c, time.perf_counter() + warmup, False) for c in connections))
        t_start = time.perf_counter()
        await asyncio.gather(*(worker(c, t_start + duration, True) for c in connections))
        seconds = time.perf_counter() - t_start
    finally:
        for c in connections:
            await c.aclose()
    latencies.sort()
    engine_ms.sort()
    return LevelResult(
        clients=clients,
        requests=len(latencies),
        errors=errors,
        seconds=round(seconds, 2),
        rps=round(len(latencies) / seconds, 1),
        p50_ms=round(_percentile(latencies, 50), 1),
        p95_ms=round(_percentile(latencies, 95), 1),
        p99_ms=round(_percentile(latencies, 99), 1),
        max_ms=round(latencies[-1], 1) if latencies else float("nan"),
        engine_p50_ms=round(_percentile(engine_ms, 50), 1),
        per_worker=sorted(Counter(pids).values(), reverse=True),
    )


@contextmanager
def started_server(index_dir: Path, corpus_dir: Path, workers: int | None = None,
                   timeout: float = 300.0) -> Iterator[str]:  # fmt: skip
    """The real server in a subprocess, every worker ready to answer: `uvicorn server.app:app`, or with
    `workers` `python -m server.run` with QA_WORKERS (granian's worker processes)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k.startswith("QA_")}  # the caller's settings still apply
    env.update(QA_INDEX_DIR=str(index_dir), QA_CORPUS_DIR=str(corpus_dir))
    if workers is None:
        cmd = [sys.executable, "-m", "uvicorn", "server.app:app", "--host", "127.0.0.1", "--port", str(port)]
        cmd += ["--log-level", "warning"]  # an access-log line per request would cost the server CPU
    else:
        cmd = list(SERVE)
        env["QA_WORKERS"] = str(workers)
    fd, log = tempfile.mkstemp(prefix="bench-server-", suffix=".log")
    os.close(fd)
    with start_server(env, Path(log), cmd, port) as server:
        pids = server.wait_workers(workers or 1, timeout=timeout)
        print(f"server log: {log}", flush=True)
        yield server.url
        # Memory after the load: each worker holds its own models and index.
        rss = ", ".join(f"{rss_mb(pid):.0f}" for pid in sorted(pids))
        if len(pids) > 1:
            print(f"RSS MB: workers {rss}; supervisor {rss_mb(server.proc.pid):.0f}", flush=True)
        else:
            print(f"RSS MB: server {rss}", flush=True)


def rss_mb(pid: int) -> float:
    """Resident memory of a process on this machine (Linux /proc), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", help="a running server (default: start one on a free loopback port)")
    p.add_argument("--levels", default="1,8,32", help="concurrent clients per level, comma-separated")
    p.add_argument("--duration", type=float, default=10.0, help="measured seconds per level")
    p.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each level")
    p.add_argument("--index-dir", type=Path, help="index for a started server (default: a temporary one)")
    p.add_argument("--corpus", type=Path, default=ROOT / "corpus", help="corpus for a started server")
    p.add_argument("--workers", type=int, help="start `python -m server.run` with QA_WORKERS=N (default: uvicorn)")
    p.add_argument("--json", type=Path, help="also write the results here as JSON")
    args = p.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",") if x.strip()]

    def bench(url: str) -> list[LevelResult]:
        health = httpx.get(f"{url}/health", timeout=5).json()
        print(f"server {url}: {health.get('documents')} documents, {health.get('chunks')} chunks", flush=True)
        print(f"{'clients':>7} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
              f"{'max ms':>7} {'engine p50':>10} {'errors':>6}  per worker", flush=True)  # fmt: skip
        results = []
        for n in levels:
            r = asyncio.run(run_level(url, n, args.duration, args.warmup))
            results.append(r)
            print(f"{r.clients:>7} {r.requests:>8} {r.rps:>7.1f} {r.p50_ms:>7.1f} {r.p95_ms:>7.1f} {r.p99_ms:>7.1f} "
                  f"{r.max_ms:>7.1f} {r.engine_p50_ms:>10.1f} {r.errors:>6}  {'/'.join(map(str, r.per_worker))}",
                  flush=True)  # fmt: skip
        return results

    if args.url:
        results = bench(args.url.rstrip("/"))
    else:
        with (
            tempfile.TemporaryDirectory(prefix="bench-index-") as tmp,
            started_server(args.index_dir or Path(tmp), args.corpus, args.workers) as url,
        ):
            results = bench(url)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
