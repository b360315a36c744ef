"""Would the careful-reading fine-tune's spans help under the shipped reader's abstention? From the twentieth
session's `qa eval` rows (var/eval/careful/{shipped,candidate}-SET, same questions, int8 as served), no model run:
the shipped reader decides answer or abstain at its threshold, the candidate's span is the answer. Also: F1 where
both answer, each reader's span F1 on every answerable question (ignoring thresholds), and both readers' F1 over
thresholds. Usage: python gate_combo.py"""

import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
OLDER = ["blind"] + [f"blind{i}" for i in [*range(2, 18), *range(20, 44), *range(48, 84)]]
FRESH = ["blind84", "blind85", "blind86", "blind87"]


def rows(who: str, name: str) -> tuple[float, list[dict]]:
    d = json.loads((ROOT / "var/eval/careful" / f"{who}-{name}" / "results.json").read_text())
    return d["threshold"], d["rows"]


def score(r: dict, answers: bool) -> float:
    return r["f1_if_answered"] if answers else r["f1_if_abstained"]


def combine(sets: list[str]) -> None:
    shipped, candidate, combo, both, n = 0.0, 0.0, 0.0, [], 0
    span_a, span_b = [], []
    for name in sets:
        ta, ra = rows("shipped", name)
        tb, rb = rows("candidate", name)
        by_id = {r["id"]: r for r in rb}
        for a in ra:
            b = by_id[a["id"]]
            ans_a, ans_b = a["confidence"] >= ta, b["confidence"] >= tb
            shipped += score(a, ans_a)
            candidate += score(b, ans_b)
            combo += score(b, ans_a) if ans_a else a["f1_if_abstained"]
            n += 1
            if a["has_answer"]:
                span_a.append(a["f1_if_answered"])
                span_b.append(b["f1_if_answered"])
                if ans_a and ans_b:
                    both.append((a["f1_if_answered"], b["f1_if_answered"]))
    fa, fb = np.mean([x for x, _ in both]), np.mean([y for _, y in both])
    print(f"{len(sets)} sets, {n} questions: shipped {shipped / n:.4f}, candidate {candidate / n:.4f}, "
          f"shipped abstention + candidate span {combo / n:.4f}")  # fmt: skip
    print(f"  answerable, both answer ({len(both)}): shipped {fa:.4f}, candidate {fb:.4f}; span F1 on every "
          f"answerable question: shipped {np.mean(span_a):.4f}, candidate {np.mean(span_b):.4f}")  # fmt: skip


def curve(sets: list[str]) -> None:
    for who in ("shipped", "candidate"):
        all_rows, served = [], 0.0
        for name in sets:
            served, r = rows(who, name)
            all_rows += r
        conf = np.array([r["confidence"] for r in all_rows])
        fa = np.array([r["f1_if_answered"] for r in all_rows])
        fb = np.array([r["f1_if_abstained"] for r in all_rows])
        cells = [f"{t:.3f}: {np.where(conf >= t, fa, fb).mean():.4f}" for t in (served, 0.05, 0.1, 0.15, 0.2)]
        best = max((np.where(conf >= t, fa, fb).mean(), t) for t in np.linspace(0, 0.6, 601))
        print(f"  {who}: F1 at threshold " + ", ".join(cells) + f"; best {best[0]:.4f} at {best[1]:.3f}")


if __name__ == "__main__":
    for sets in (OLDER, FRESH):
        combine(sets)
        curve(sets)
