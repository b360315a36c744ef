"""Label quality: agreement of the primary labels with the independent second pass, and with XQuAD's
labels for the 482 questions the two files share. Usage: python training/agreement.py"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from qa.metrics import compute_exact, compute_f1  # noqa: E402
from qa.reader_training import read_labels  # noqa: E402

SHARED = HERE.parent.parent / "shared" / "train"


def main() -> None:
    primary = read_labels(HERE / "labels" / "squad2-unlabeled.labels.jsonl")
    second = read_labels(HERE / "labels" / "squad2-unlabeled.second-pass.jsonl")
    print(f"primary labels: {len(primary)}, unanswerable {sum(v is None for v in primary.values())}")
    both = [k for k in second if k in primary]
    same = sum((primary[k] is None) == (second[k] is None) for k in both)
    pa = sum(primary[k] is None for k in both) / len(both)
    pb = sum(second[k] is None for k in both) / len(both)
    pe = pa * pb + (1 - pa) * (1 - pb)
    kappa = (same / len(both) - pe) / (1 - pe)
    answered = [k for k in both if primary[k] and second[k]]
    em = sum(compute_exact(primary[k], second[k]) for k in answered) / len(answered)
    f1 = sum(compute_f1(primary[k], second[k]) for k in answered) / len(answered)
    print(f"second pass: {len(both)} questions; answerable-or-not agreement {same / len(both):.3f} "
          f"(Cohen's kappa {kappa:.3f}); both answered {len(answered)}: EM {em:.3f}, F1 {f1:.3f}")  # fmt: skip
    xquad = json.loads((SHARED / "xquad-en-train.json").read_text())
    unlabeled = json.loads((SHARED / "squad2-unlabeled.json").read_text())
    by_text = {q["question"].strip(): q["id"] for a in unlabeled["data"] for p in a["paragraphs"] for q in p["qas"]}
    n = ans = 0
    em = f1 = 0.0
    for a in xquad["data"]:
        for p in a["paragraphs"]:
            for q in p["qas"]:
                qid = by_text.get(q["question"].strip())
                if qid is None or qid not in primary:
                    continue
                n += 1
                gold = [g["text"] for g in q["answers"]]
                if primary[qid] is not None:
                    ans += 1
                    em += max(compute_exact(g, primary[qid]) for g in gold)
                    f1 += max(compute_f1(g, primary[qid]) for g in gold)
    print(f"XQuAD overlap: {n} questions (all answerable in XQuAD); labelled answerable {ans} ({ans / n:.3f}); "
          f"on those EM {em / max(ans, 1):.3f}, F1 {f1 / max(ans, 1):.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
