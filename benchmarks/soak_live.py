"""Soak test of a live corpus: N clients ask questions while documents are added and deleted over HTTP.

Starts `qa serve` (loopback, a free port, a token) on a copy of the seed corpus, then for --duration
seconds keeps --clients clients asking (closed loop) while a writer adds a new article every --every
seconds and deletes it at the next step. After each change it follows /api/index until the rebuild is
published and checks that the answer follows the corpus (the new article's fact is answered while it is
in, not once it is deleted). Prints errors, latency (all requests, and those in flight during a swap),
the server's resident memory over time and the follow checks.

    .venv/bin/python benchmarks/soak_live.py                     # 8 clients, 120 s, a change every 5 s
    .venv/bin/python benchmarks/soak_live.py --duration 30 --clients 4
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "soak-token-0123456789abcdef"
QUESTIONS = [
    "How much was the lawsuit against the set designer?",
    "Who is Balenciaga's creative director?",
    "When did Kim Kardashian become a Balenciaga ambassador?",
    "Why did Balenciaga cut ties with West?",
    "What is the capital of France?",
]


def article(n: int) -> tuple[str, str, str]:
    """(text, question, expected answer) of the n-th added article: a fact found nowhere else."""
    boats = 100 + 7 * n
    text = (f"Harbour festival number {n} announced\n\nThe harbour festival in the town of Quillon-{n} will "
            f"welcome {boats} sailing boats this summer, the organisers said on Monday.\n")  # fmt: skip
    return text, f"How many sailing boats will the harbour festival in Quillon-{n} welcome?", str(boats)


def cites(answer: dict, doc_id: str) -> bool:
    """Whether the answer's citations or related passages come from `doc_id`."""
    return any(x["doc_id"] == doc_id for x in answer["citations"] + answer.get("related", []))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=120)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--every", type=float, default=5, help="seconds between document changes")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="qa-soak-"))
    shutil.copytree(ROOT / "corpus", work / "corpus")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_CORPUS_DIR=str(work / "corpus"), QA_INDEX_DIR=str(work / "index"), QA_PORT=str(port),
               QA_API_TOKEN=TOKEN, HF_HUB_OFFLINE="1")  # fmt: skip
    log = (work / "server.log").open("w")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "qa"), "serve"], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        async with httpx.AsyncClient(base_url=url, timeout=60) as c:
            while True:
                try:
                    if (await c.get("/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None:
                    sys.exit(f"server exited: see {work / 'server.log'}")
                await asyncio.sleep(0.5)
            print(f"server ready (pid {proc.pid}); soaking for {args.duration:.0f} s with {args.clients} clients")

            stop = time.monotonic() + args.duration
            requests: list[tuple[float, float, int]] = []  # (start, seconds, status)
            swaps: list[float] = []  # when a new build was first seen in use
            memory: list[tuple[float, float]] = []
            follows: list[tuple[str, bool]] = []
            t0 = time.monotonic()

            async def client(i: int) -> None:
                n = i
                while time.monotonic() < stop:
                    q = QUESTIONS[n % len(QUESTIONS)]
                    n += 1
                    start = time.monotonic()
                    try:
                        status = (await c.post("/api/ask", json={"question": q})).status_code
                    except httpx.HTTPError:
                        status = 0
                    requests.append((start, time.monotonic() - start, status))

            async def watch() -> None:
                build = None
                while time.monotonic() < stop:
                    h = (await c.get("/health")).json()
                    if build is not None and h.get("index_build") != build:
                        swaps.append(time.monotonic())
                    build = h.get("index_build")
                    memory.append((time.monotonic() - t0, rss_mb(proc.pid)))
                    await asyncio.sleep(0.25)

            async def settle() -> None:
                while (await c.get("/api/index")).json()["rebuild"]["state"] != "idle":
                    await asyncio.sleep(0.2)

            async def writer() -> None:
                n = 0
                while time.monotonic() < stop - args.every:
                    text, q, want = article(n)
                    r = await c.post("/api/documents", headers=auth, json={"id": f"festival-{n}", "text": text})
                    assert r.status_code == 202, r.text
                    await settle()
                    a = (await c.post("/api/ask", json={"question": q, "threshold": 0})).json()
                    follows.append((f"added festival-{n}", want in a["answer"] and cites(a, f"festival-{n}")))
                    await asyncio.sleep(args.every / 2)
                    r = await c.delete(f"/api/documents/festival-{n}", headers=auth)
                    assert r.status_code == 202, r.text
                    await settle()
                    a = (await c.post("/api/ask", json={"question": q, "threshold": 0})).json()
                    follows.append((f"deleted festival-{n}", not cites(a, f"festival-{n}")))
                    await asyncio.sleep(args.every / 2)
                    n += 1

            await asyncio.gather(*(client(i) for i in range(args.clients)), watch(), writer())
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    lat = [d for _, d, _ in requests]
    errors = sum(1 for *_, s in requests if s != 200)
    during = [d for s0, d, _ in requests if any(s0 <= w <= s0 + d + 0.25 for w in swaps)]
    print(f"requests: {len(requests)} ({len(requests) / args.duration:.1f}/s), errors (non-200): {errors}")
    print(f"latency ms: p50 {pct(lat, .5) * 1000:.0f}, p95 {pct(lat, .95) * 1000:.0f}, "
          f"p99 {pct(lat, .99) * 1000:.0f}, max {max(lat) * 1000:.0f}")  # fmt: skip
    if during:
        print(f"in flight during a swap: {len(during)} requests, max {max(during) * 1000:.0f} ms, "
              f"over 1 s: {sum(d > 1 for d in during)}")  # fmt: skip
    print(f"swaps seen: {len(swaps)}; document changes followed: {sum(ok for _, ok in follows)}/{len(follows)}")
    for what, ok in follows:
        if not ok:
            print(f"  NOT followed: {what}")
    if memory:
        third = max(1, len(memory) // 3)
        first, last = memory[:third], memory[-third:]
        print(f"server RSS MB: first third mean {sum(m for _, m in first) / len(first):.0f}, last third mean "
              f"{sum(m for _, m in last) / len(last):.0f}, max {max(m for _, m in memory):.0f}")  # fmt: skip
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
