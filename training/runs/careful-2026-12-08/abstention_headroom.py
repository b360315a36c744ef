"""How much better abstaining could do, from `qa eval` rows: F1 as served, F1 if every question were answered or
abstained on whichever scores more (a perfect abstention), and the AUROC of the confidence for "answering beats
abstaining". Usage: python abstention_headroom.py EVAL_DIR PREFIX SET [SET ...]
(NOTE.md: var/eval/captions shipped, the 69 older sets blind ... blind75 without blind18/19 and dev44-47)."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
from qa.metrics import auroc  # noqa: E402


def main(folder: str, prefix: str, sets: list[str]) -> None:
    rows = [r for s in sets for r in json.loads((Path(folder) / f"{prefix}-{s}" / "results.json").read_text())["rows"]]
    served = sum(r["f1"] for r in rows) / len(rows)
    perfect = sum(max(r["f1_if_answered"], r["f1_if_abstained"]) for r in rows) / len(rows)
    scored = [(r["confidence"] or 0.0, r["f1_if_answered"] > r["f1_if_abstained"]) for r in rows
              if r["f1_if_answered"] != r["f1_if_abstained"]]  # fmt: skip
    area = auroc([better for _, better in scored], [c for c, _ in scored])
    print(f"{len(rows)} questions: F1 as served {served:.3f}; with perfect abstention {perfect:.3f}; AUROC {area:.3f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
