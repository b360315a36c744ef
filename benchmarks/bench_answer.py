"""In-process answering latency on the seed corpus, next to the bare question-embedding time.

    .venv/bin/python benchmarks/bench_answer.py [--repeat 20] [--reader trained|rules] [--reader-passages N]

Prints p50/p95 of: the embedding model call alone (encode one question), the whole `Engine.ask`, and its
parts from the answer's timings: the question embedding, retrieval, the reader, and everything but the
embedding.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.build import build_index  # noqa: E402
from qa.engine import Engine, load_embedder  # noqa: E402
from qa.settings import Settings  # noqa: E402

QUESTIONS = [
    "When did Demna apologize?",
    "Who is Balenciaga's president and CEO?",
    "How much was the lawsuit against the set designer?",
    "Who photographed the portrait of Kim for Balenciaga?",
    "How many kids does Kim Kardashian have?",
    "What did Balenciaga say in its apology on November 23?",
    "Why did Balenciaga cut ties with West?",
    "What is Kim Kardashian's relationship with Balenciaga?",
    "What is the capital of France?",
    "How much was Kim paid to be ambassador?",
]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=20, help="passes over the question set")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--reader", choices=["trained", "rules"], default="trained")
    parser.add_argument("--reader-passages", type=int, help="passages the trained reader reads (default: setting)")
    args = parser.parse_args()

    embedder = load_embedder(Settings.from_env())  # QA_EMBED_RUNTIME=torch measures the TorchScript embedding
    with tempfile.TemporaryDirectory() as tmp:
        build_index(args.corpus, Path(tmp), embedder, progress=False)
        settings = Settings.from_env(index_dir=Path(tmp), corpus_dir=args.corpus, reader=args.reader,
                                     reader_passages=args.reader_passages)  # fmt: skip
        engine = Engine.load(settings, embedder, build=False)
        for q in QUESTIONS:  # warm-up: first calls pay for lazy initialisation
            engine.ask(q)
        bare_ms, ask_ms, rest_ms, parts = [], [], [], {"embed_ms": [], "search_ms": [], "read_ms": []}
        for _ in range(args.repeat):
            for q in QUESTIONS:
                t0 = time.perf_counter()
                embedder.encode_query(q)
                bare_ms.append((time.perf_counter() - t0) * 1000)
                t1 = time.perf_counter()
                answer = engine.ask(q)
                ask_ms.append((time.perf_counter() - t1) * 1000)
                # Everything the engine does besides its own model call (from its timings, same request).
                rest_ms.append(answer.timings_ms["total_ms"] - answer.timings_ms["embed_ms"])
                for k, v in parts.items():
                    v.append(answer.timings_ms[k])
        n = len(ask_ms)
        print(f"questions: {n} ({len(QUESTIONS)} distinct x {args.repeat}); chunks: {len(engine.index.chunks)}; "
              f"reader: {engine.reader.name} ({engine.reader.runtime}); embedding: {embedder.runtime}")  # fmt: skip
        print(f"{'':<30}{'p50 ms':>10}{'p95 ms':>10}{'mean ms':>10}")
        rows = (("embed question (bare model)", bare_ms), ("Engine.ask (everything)", ask_ms),
                ("  question embedding", parts["embed_ms"]), ("  retrieval", parts["search_ms"]),
                ("  reader", parts["read_ms"]), ("everything but the embedding", rest_ms))  # fmt: skip
        for name, values in rows:
            print(f"{name:<30}{pct(values, 0.5):>10.2f}{pct(values, 0.95):>10.2f}{statistics.mean(values):>10.2f}")
        before = embedder.calls
        reads = getattr(getattr(engine.reader, "model", None), "windows", 0)
        for q in QUESTIONS:
            engine.ask(q)
        print(f"embedding calls per Engine.ask: {(embedder.calls - before) / len(QUESTIONS):.2f}")
        if hasattr(engine.reader, "model"):
            windows = (engine.reader.model.windows - reads) / len(QUESTIONS)
            print(f"reader windows (model calls) per Engine.ask: {windows:.2f}")


if __name__ == "__main__":
    main()
