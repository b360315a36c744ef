"""Where a reader's F1 goes on news gold sets, from `qa eval` rows: abstaining, a wrong span, or unanswerable
questions answered, each by where the answer lies among the passages retrieved (searched normalised, as the
metric normalises). Usage: EVAL_DIR=var/eval/para PREFIX=trained python loss.py SET [SET ...]"""

import json
import os
import sqlite3
import string
import sys
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from index.store import current_build_dir  # noqa: E402

PUNCT = set(string.punctuation) | {"’", "‘", "“", "”"}


def norm(s: str) -> str:
    return " ".join("".join(c for c in s.lower() if c not in PUNCT).split())


def bucket(position: int | None) -> str:
    names = {0: "top1", 1: "top2", 2: "top3"}
    return "absent" if position is None else names.get(position, "top4-10")


def main(sets: list[str]) -> None:
    eval_dir, prefix = Path(os.environ.get("EVAL_DIR", "var/eval/para")), os.environ.get("PREFIX", "trained")
    store = sqlite3.connect(current_build_dir(Path("var/index")) / "store.sqlite")
    docs = dict(store.execute("select doc_id, text from documents"))
    loss, counts, abstained_f1 = Counter(), Counter(), []
    for name in sets:
        for r in json.loads((eval_dir / f"{prefix}-{name}" / "results.json").read_text())["rows"]:
            counts["questions"] += 1
            if not r["has_answer"]:
                loss["unanswerable answered"] += r["answered"]
                continue
            expected = [norm(e) for e in r["expected"]]
            hits = (i for i, (d, a, b) in enumerate(r["retrieved"]) if any(e in norm(docs[d][a:b]) for e in expected))
            where = bucket(next(hits, None))
            counts[where] += 1
            if r["answered"]:
                loss[f"wrong span, answer {where}"] += 1 - r["f1"]
            else:
                loss[f"abstained, answer {where}"] += 1
                abstained_f1.append(r["f1_if_answered"])
    n = counts["questions"]
    print(f"{n} questions; answerable by where the answer lies: {dict(counts)}")
    for k, v in sorted(loss.items(), key=lambda x: -x[1]):
        print(f"  {k:32s} {v:7.1f} F1 points  {v / n:.3f}")
    print(f"  total loss {sum(loss.values()) / n:.3f}; abstained answerable would score {np.mean(abstained_f1):.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
