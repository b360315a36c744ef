"""How often the trained reader can stop after the best-ranked passage, and what it costs in F1, on the
development sets only (QA_READER_CONFIDENT is chosen here, never on the sets reported as unseen).

    .venv/bin/qa reader calibrate --reader-model /tmp/copy-of-models-reader   # once: writes var/reader-calibrate
    .venv/bin/python benchmarks/reader_cascade.py [--levels 0.5,0.6,0.7]
    # the news reader, on its own recipe's held-out articles, scored at the news threshold:
    .venv/bin/qa reader calibrate --reader-model /tmp/copy-of-models-reader-news --work-dir var/reader-calibrate-news
    .venv/bin/python benchmarks/reader_cascade.py --reader-model models/reader-news \
        --work-dir var/reader-calibrate-news --dev-style news --levels 0.1,0.2,0.3

Every question is asked at threshold 0 by engines that differ only in how they read: the first passage
only, the first two in one call (`QA_READER_CONFIDENT=1`), and the served cascade at each level. The served
threshold then decides answer or abstain, and SQuAD F1 is computed as `qa eval` does (an abstention on an
unanswerable question scores 1); "stops" is the share of questions for which one passage was read. Sets: the
held-out dev questions of the reader's recipe (651 for `training/reader.toml`; from `qa reader calibrate`'s work
folder), and
`gold/seed.jsonl` and `gold/heldout.jsonl` (the sets the threshold was chosen with). Follow-up questions
are asked without their history here, the same way by every engine.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.embedding import Embedder  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.gold import read_gold  # noqa: E402
from qa.metrics import best_f1  # noqa: E402
from qa.settings import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="0.5,0.6,0.7,0.8", help="cascade levels to score")
    parser.add_argument("--reader-model", type=Path, help="reader folder (default: each corpus style's own)")
    parser.add_argument("--work-dir", type=Path, default=ROOT / "var" / "reader-calibrate",
                        help="`qa reader calibrate`'s work folder: the dev questions, corpus and index")  # fmt: skip
    parser.add_argument("--dev-style", default="encyclopaedia", help="corpus style whose threshold scores dev")
    args = parser.parse_args()
    levels = [float(x) for x in args.levels.split(",")]
    work = args.work_dir
    if not (work / "index").is_dir():
        sys.exit(f"{work}/index is missing: run `qa reader calibrate` first (see this file's docstring)")
    # (name, index, corpus, gold, corpus style: which calibrated threshold scores it)
    dev = work / "dev-squad.json"
    sets = [("dev", work / "index", work / "corpus", dev, args.dev_style),
            ("seed", ROOT / "var" / "index", ROOT / "corpus", ROOT / "gold" / "seed.jsonl", "news"),
            ("heldout", ROOT / "var" / "index", ROOT / "corpus", ROOT / "gold" / "heldout.jsonl", "news")]  # fmt: skip
    embedder = Embedder()
    print("| set | questions | first passage only | first two | " + " | ".join(f"cascade {t}" for t in levels) + " |")
    print("|---|---:|---:|---:|" + "---:|" * len(levels))
    for name, index_dir, corpus_dir, gold, style in sets:
        base = Settings.from_env(index_dir=index_dir, corpus_dir=corpus_dir, reader="trained", reader_confident=1.0,
                                 corpus_style=style, reader_model=args.reader_model)  # fmt: skip
        engines = [
            Engine.load(base.with_(reader_passages=1), embedder, build=False),
            Engine.load(base, embedder, build=False),
        ]
        engines += [Engine.load(base.with_(reader_confident=t), embedder, build=False) for t in levels]
        questions = read_gold(gold).questions
        cells = []
        for engine in engines:
            threshold, model = engine.threshold, engine.reader.model
            scores, stops = [], 0
            for q in questions:
                windows = model.windows
                a = engine.ask(q.question, threshold=0.0)
                stops += model.windows - windows == 1  # one passage (a chunk is one window) read
                right = best_f1(q.answers, a.answer or "") if q.answers else 0.0
                scores.append((right if q.answers else 0.0) if a.confidence >= threshold else float(not q.answers))
            cells.append(f"{sum(scores) / len(scores):.4f}" + (f" (stops {stops / len(questions):.0%})" if
                                                               engine.reader.confident < 1 else ""))  # fmt: skip
        print(f"| {name} | {len(questions)} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
