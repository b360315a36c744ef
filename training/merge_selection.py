"""Dev scores of several readers on training/reader-news.toml's held-out articles: pooled, and the
SQuAD-style questions alone (the rule that chose the merge weight: training/runs/reader-merge-2026-12-06/PLAN.md).
Scores as `qa reader train` logs them (paragraph given, fp32, best threshold); one JSON line per reader.

    python training/merge_selection.py models/reader var/merge-0.25 var/merge-0.5 var/merge-0.75 var/reader-news/model
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.reader_training import dev_scores  # noqa: E402
from training.dev_scores import dev_predictions  # noqa: E402

RECIPE = Path(__file__).resolve().parent / "reader-news.toml"
SQUAD_STYLE = ("squad2-unlabeled", "xquad-en-train")  # the origins of the SQuAD-style dev questions


def main(folders: list[str]) -> None:
    for folder in folders:
        dev, preds = dev_predictions(RECIPE, folder)
        squad = [i for i, e in enumerate(dev) if e.origin in SQUAD_STYLE]
        pooled = dev_scores(dev, preds)
        sq = dev_scores([dev[i] for i in squad], [preds[i] for i in squad])
        row = {"model": folder, "dev_best_f1": pooled["dev_best_f1"], "dev_hasans_f1": pooled["dev_hasans_f1"],
               "squad_style_best_f1": sq["dev_best_f1"], "squad_style_hasans_f1": sq["dev_hasans_f1"]}  # fmt: skip
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
