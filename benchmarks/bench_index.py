"""Index build throughput against the raw encoder's, on the seed corpus replicated N times.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_index.py [--copies 15] [--repeats 1]

raw encoder: Embedder.encode over exactly the chunk + sentence texts a build embeds (after a warm-up);
full build:  build_index into a fresh folder (read, clean, chunk, window checks, encode, write, publish),
             vectors/s = (chunks + sentences) / wall seconds of build_index; the model is loaded before.
Target: build >= 90% of the raw encoder's throughput (the work around the encoder costs < 10%).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.build import build_index, plan_document  # noqa: E402
from index.chunking import ChunkingConfig  # noqa: E402
from index.documents import read_corpus  # noqa: E402
from index.embedding import Embedder  # noqa: E402


def replicate(src: Path, dst: Path, copies: int) -> None:
    """`copies` copies of every article under new names, so each is a distinct document."""
    dst.mkdir(parents=True)
    for i in range(copies):
        for p in sorted(src.iterdir()):
            if p.is_file() and not p.name.startswith("."):
                shutil.copyfile(p, dst / f"c{i:03d}_{p.name}")


def build_texts(corpus: Path, embedder: Embedder, config: ChunkingConfig) -> list[str]:
    """The texts a fresh build sends to the encoder, in the same order (see index.build.build_index)."""
    texts: list[str] = []
    for doc in sorted(read_corpus(corpus).documents, key=lambda d: d.doc_id):
        plan = plan_document(doc, config, embedder)
        texts += [doc.text[s:e] for s, e in plan.chunks]
        texts += [doc.text[s:e] for s, e, _ in plan.sentences]
    return texts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=ROOT / "corpus", help="articles to replicate (default: seeds)")
    ap.add_argument("--copies", type=int, default=15, help="copies of the corpus (15 seeds: ~3,000 texts)")
    ap.add_argument("--repeats", type=int, default=1, help="encoder/build/encoder runs; medians reported")
    ap.add_argument("--index-type", default="flat", choices=["flat", "hnsw", "ivf"])
    ap.add_argument("--profile", action="store_true", help="cProfile one build and print where non-encode time goes")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    embedder = Embedder()
    print(f"model loaded in {time.perf_counter() - t0:.1f} s (not counted); torch threads: {_threads()}")
    config = ChunkingConfig()
    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        corpus = Path(tmp) / "corpus"
        replicate(args.corpus, corpus, args.copies)
        texts = build_texts(corpus, embedder, config)
        print(f"corpus: {len(list(corpus.iterdir()))} documents, {len(texts)} texts (chunks + sentences)")
        embedder.encode(texts[:128])  # warm-up: first-call allocations, thread pools

        # Each run times the encoder just before and just after the build and compares the build with
        # their mean, so a change in machine load (other processes) skews the ratio as little as possible.
        raw, build, ratio, overhead, share = [], [], [], [], []
        for r in range(args.repeats):
            before_rate = _encode_rate(embedder, texts)
            out = Path(tmp) / f"index-{r}"
            count = embedder.texts_encoded
            t = time.perf_counter()
            report = build_index(corpus, out, embedder, config, args.index_type, progress=False)
            seconds = time.perf_counter() - t
            n = report.chunks + report.sentences
            assert embedder.texts_encoded - count == n == len(texts), "the build embedded other texts"
            after_rate = _encode_rate(embedder, texts)
            raw.append((before_rate + after_rate) / 2)
            build.append(n / seconds)
            ratio.append(build[-1] / raw[-1])
            overhead.append(seconds - report.embed_seconds)
            share.append(overhead[-1] / seconds)
            print(
                f"run {r + 1}: encoder {before_rate:.1f} / {after_rate:.1f} texts/s (before / after), "
                f"build {build[-1]:.1f} vectors/s ({seconds:.1f} s, {overhead[-1]:.2f} s outside the encoder)"
            )
            shutil.rmtree(out)

        print(f"raw encoder throughput: {statistics.median(raw):.1f} texts/s")
        print(f"full build throughput:  {statistics.median(build):.1f} vectors/s")
        print(f"build / encoder: {100 * statistics.median(ratio):.1f}% (target >= 90%)")
        # Measured within the build itself, so immune to load changes between runs.
        print(
            f"build time outside the encoder: {statistics.median(overhead):.2f} s "
            f"({100 * statistics.median(share):.1f}% of the build)"
        )

        if args.profile:
            prof = cProfile.Profile()
            prof.runcall(build_index, corpus, Path(tmp) / "index-prof", embedder, config, args.index_type, False)
            stats = pstats.Stats(prof)
            stats.sort_stats("cumulative").print_stats(r"index/|tiktoken|tokenizers|sqlite|faiss|hashlib", 25)
    return 0 if statistics.median(ratio) >= 0.9 else 1


def _encode_rate(embedder: Embedder, texts: list[str]) -> float:
    t = time.perf_counter()
    embedder.encode(texts)
    return len(texts) / (time.perf_counter() - t)


def _threads() -> int:
    import torch

    return torch.get_num_threads()


if __name__ == "__main__":
    sys.exit(main())
