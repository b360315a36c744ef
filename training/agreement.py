"""Label quality: agreement of the primary labels with the independent second pass, and with XQuAD's
labels for the 482 questions the two files share; then the questions written for this project
(training/news/, news2/, encyclopaedia/, quotes/, paraphrase/, follow-ups/, careful/) against a second annotator's blind
answers to a sample of them.
Usage: python training/agreement.py"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from qa.metrics import compute_exact, compute_f1  # noqa: E402
from qa.reader_training import read_labels  # noqa: E402

SHARED = HERE.parent.parent / "shared" / "train"


def agreement(primary: dict[str, str | None], second: dict[str, str | None]) -> str:
    """Answerable-or-not agreement (and Cohen's kappa), then EM/F1 where both gave a span."""
    both = [k for k in second if k in primary]
    unmatched = len(second) - len(both)
    if not both:
        return f"no question of the second pass matches a label ({unmatched} unmatched)"
    same = sum((primary[k] is None) == (second[k] is None) for k in both)
    pa = sum(primary[k] is None for k in both) / len(both)
    pb = sum(second[k] is None for k in both) / len(both)
    pe = pa * pb + (1 - pa) * (1 - pb)
    kappa = f"{(same / len(both) - pe) / (1 - pe):.3f}" if pe < 1 else "n/a"  # n/a: one label only
    answered = [k for k in both if primary[k] and second[k]]
    em = sum(compute_exact(primary[k], second[k]) for k in answered) / max(len(answered), 1)
    f1 = sum(compute_f1(primary[k], second[k]) for k in answered) / max(len(answered), 1)
    return (f"{len(both)} questions; answerable-or-not agreement {same / len(both):.3f} "
            f"(Cohen's kappa {kappa}); both answered {len(answered)}: EM {em:.3f}, F1 {f1:.3f}"
            + (f"; {unmatched} second-pass ids unmatched" if unmatched else ""))  # fmt: skip


def written_labels(collection: str) -> dict[str, str | None]:
    """The writers' own answers (training/<collection>/), keyed as the second pass keys them:
    `<writer>:<article>:<line index>`."""
    out: dict[str, str | None] = {}
    for path in sorted((HERE / collection).glob("*/questions.jsonl")):
        folder = path.parent
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        for i, line in enumerate(lines):
            q = json.loads(line)
            out[f"{folder.name}:{q['article']}:{i}"] = q["answer"]
    return out


def main() -> None:
    primary = read_labels(HERE / "labels" / "squad2-unlabeled.labels.jsonl")
    second = read_labels(HERE / "labels" / "squad2-unlabeled.second-pass.jsonl")
    print(f"primary labels: {len(primary)}, unanswerable {sum(v is None for v in primary.values())}")
    print(f"second pass: {agreement(primary, second)}")
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
    for collection in ("news", "news2", "encyclopaedia", "quotes", "paraphrase", "follow-ups", "careful"):
        second = read_labels(HERE / "labels" / f"{collection}-written.second-pass.jsonl")
        print(f"{collection}-style questions, writers against a blind second annotator: "
              f"{agreement(written_labels(collection), second)}")  # fmt: skip


if __name__ == "__main__":
    main()
