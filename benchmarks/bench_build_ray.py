"""The Ray build engine's overhead against the local build, and the figures behind BENCHMARKS.md's
"Distributed build (Ray)".

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_build_ray.py [--shards 10] [--pools 2x1,1x2]

Corpora: the seed articles (corpus/), and every paragraph of the public SQuAD 2.0 dev file as .jsonl
records written to a temporary folder, in `--shards` files (and, with --one-file, in one file too).
For each: the raw encoder's rate over exactly the texts a build embeds; a local build; Ray builds into a fresh
folder for each actor pool (`AxC`: A actors of C CPUs), with Ray cold (started and stopped by the build,
as `qa index build --engine ray` does) and warm (already running: actors still start per build), and a warm
Ray refresh with nothing changed. "write" is the driver's part after the map step: assemble, write the
build folder (SQLite, .npy, FAISS), publish: the serial part of a distributed build.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dataclasses  # noqa: E402

import msgspec  # noqa: E402
import numpy as np  # noqa: E402

from index.build import MapResult, build_index, local_map_step, plan_document  # noqa: E402
from index.build_ray import RayMapStep, ray_session  # noqa: E402
from index.chunking import ChunkingConfig  # noqa: E402
from index.documents import read_corpus  # noqa: E402
from index.embedding import Embedder  # noqa: E402

SQUAD = ROOT.parent / "shared" / "bench" / "squad2-dev-public.json"


class Timed:
    """A map step that notes when it returns, so the build's remaining time (the write step) can be read."""

    def __init__(self, step) -> None:
        self.step = step
        self.ended = 0.0

    def __call__(self, *args):
        result = self.step(*args)
        self.ended = time.perf_counter()
        return result


def squad_corpus(dst: Path, shards: int) -> int:
    data = json.loads(SQUAD.read_text())["data"]
    records = [
        {"id": f"squad-{a}-{p}", "title": art["title"].replace("_", " "), "text": para["context"]}
        for a, art in enumerate(data)
        for p, para in enumerate(art["paragraphs"])
    ]
    dst.mkdir(parents=True)
    per = -(-len(records) // shards)
    for s in range(shards):
        lines = [json.dumps(r) for r in records[s * per : (s + 1) * per]]
        if lines:
            (dst / f"squad-{s:03d}.jsonl").write_text("\n".join(lines) + "\n")
    return len(records)


def texts_of(corpus: Path, embedder: Embedder) -> tuple[int, list[str]]:
    docs = read_corpus(corpus).documents
    texts: list[str] = []
    for doc in docs:
        plan = plan_document(doc, ChunkingConfig(), embedder)
        texts += [doc.text[s:e] for s, e in plan.chunks] + [doc.text[s:e] for s, e, _ in plan.sentences]
    return len(docs), texts


def timed_build(corpus: Path, out: Path, embedder: Embedder, step) -> tuple[float, float, int]:
    timed = Timed(step)
    t = time.perf_counter()
    report = build_index(corpus, out, embedder, progress=False, map_step=timed)
    end = time.perf_counter()
    return end - t, end - timed.ended, report.embedded_texts


def run_corpus(name: str, corpus: Path, work: Path, embedder: Embedder, pools: list[tuple[int, int]]) -> None:
    n_docs, texts = texts_of(corpus, embedder)
    embedder.encode(texts[:256])  # warm-up on these texts' lengths
    t = time.perf_counter()
    embedder.encode(texts)
    rate = len(texts) / (time.perf_counter() - t)
    print(f"\n## {name}: {n_docs} documents, {len(texts)} texts ({len(texts) / n_docs:.1f} per document)")
    print(f"raw encoder: {rate:.1f} texts/s ({len(texts) / rate:.1f} s)")
    total, write, n = timed_build(corpus, work / f"{name}-local", embedder, local_map_step)
    print(f"local build: {total:.1f} s, {n / total:.1f} vectors/s, write step {write:.2f} s")
    for actors, cpus in pools:
        label = f"ray {actors}x{cpus}"
        total, write, n = timed_build(corpus, work / f"{name}-cold-{actors}x{cpus}", embedder, RayMapStep(actors, cpus))
        print(f"{label} cold (starts Ray): {total:.1f} s, {n / total:.1f} vectors/s, write step {write:.2f} s")
        with ray_session(num_cpus=os.cpu_count()):
            out = work / f"{name}-warm-{actors}x{cpus}"
            step = RayMapStep(actors, cpus)
            total, write, n = timed_build(corpus, out, embedder, step)
            print(
                f"{label} warm (Ray up):   {total:.1f} s, {n / total:.1f} vectors/s, write step {write:.2f} s, "
                f"actors' encode {step.encode_seconds:.1f} s in all"
            )
            total, write, n = timed_build(corpus, out, embedder, RayMapStep(actors, cpus))
            print(f"{label} warm refresh, nothing changed: {total:.1f} s ({n} texts embedded)")


def write_scale(corpus: Path, work: Path, embedder: Embedder, copies: int) -> None:
    """The driver's serial part alone at a larger scale: `copies` copies of the corpus's plans under new ids,
    with random unit vectors, through build_index (assemble, write, flat FAISS, publish)."""
    docs = read_corpus(corpus).documents
    base = [plan_document(d, ChunkingConfig(), embedder) for d in docs]
    rng = np.random.default_rng(0)

    def unit(n: int) -> np.ndarray:
        v = rng.standard_normal((n, embedder.dimension)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    plans = []
    for c in range(copies):
        for p in base:
            doc = msgspec.structs.replace(p.doc, doc_id=f"{p.doc.doc_id}-{c}")
            plans.append(dataclasses.replace(p, doc=doc, fresh=(unit(len(p.chunks)), unit(len(p.sentences)))))
    n = sum(len(p.chunks) + len(p.sentences) for p in plans)

    def step(*_args):
        return MapResult(plans, [], [], n, 0.0)

    total, write, _ = timed_build(corpus, work / "write-scale", embedder, step)
    size = sum(f.stat().st_size for f in (work / "write-scale").rglob("*") if f.is_file())
    print(
        f"\n## driver's write step alone: {len(plans)} documents, {n} texts: {write:.1f} s "
        f"({1e6 * write / n:.0f} us per text), {size / n:.0f} bytes on disk per text"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shards", type=int, default=10, help="files the SQuAD paragraphs are written to")
    ap.add_argument("--pools", default="2x1,1x2", help="actor pools to try, ACTORSxCPUS, comma-separated")
    ap.add_argument("--one-file", action="store_true", help="also the SQuAD paragraphs in one .jsonl file")
    ap.add_argument("--skip-seed", action="store_true", help="only the SQuAD corpus")
    ap.add_argument("--write-copies", type=int, default=50, help="copies of the SQuAD plans for the write step alone")
    ap.add_argument("--write-only", action="store_true", help="only the write step at scale")
    args = ap.parse_args(argv)
    pools = [tuple(int(x) for x in p.split("x")) for p in args.pools.split(",")]

    embedder = Embedder()
    embedder.encode(["warm-up"] * 64)
    print(f"{os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as tmp:
        work = Path(tmp)
        if args.write_only:
            squad_corpus(work / "squad", args.shards)
            write_scale(work / "squad", work, embedder, args.write_copies)
            return 0
        if not args.skip_seed:
            run_corpus("seed", ROOT / "corpus", work, embedder, pools)
        squad_corpus(work / "squad", args.shards)
        run_corpus(f"squad-{args.shards}-files", work / "squad", work, embedder, pools)
        if args.one_file:
            squad_corpus(work / "squad1", 1)
            run_corpus("squad-1-file", work / "squad1", work, embedder, pools[:1])
        write_scale(work / "squad", work, embedder, args.write_copies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
