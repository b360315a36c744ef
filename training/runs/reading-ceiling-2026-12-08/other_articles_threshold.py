"""Does the news threshold, chosen on questions about the served corpus, suit other news articles? The shipped
system (packaged retrieval model, as the calibration reads them) on the news recipe's 1,576 held-out dev questions
about written articles it never saw, F1 over thresholds, as they are (37.5% unanswerable) and weighted to the gold
sets' share of unanswerable questions (7 in 50). Usage:
    HF_HUB_OFFLINE=1 .venv/bin/python training/runs/reading-ceiling-2026-12-08/other_articles_threshold.py \\
        var/reader-calibrate-careful"""

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from index.embedding import Embedder, packaged_model_path  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.gold import read_gold  # noqa: E402
from qa.metrics import best_f1  # noqa: E402
from qa.settings import Settings  # noqa: E402

GOLD_UNANSWERABLE = 7 / 50


def main() -> None:
    work = Path(sys.argv[1])
    settings = Settings.from_env(index_dir=work / "index", corpus_dir=work / "corpus", reader="trained",
                                 corpus_style="news")  # fmt: skip
    engine = Engine.load(settings, Embedder(packaged_model_path()), build=False)
    rows = []
    for q in read_gold(work / "dev-squad.json").questions:
        a = engine.ask(q.question, threshold=0.0)
        rows.append((a.confidence, best_f1(q.answers, a.answer or "") if q.answers else 0.0, bool(q.answers)))
    conf = np.array([r[0] for r in rows])
    f1 = np.array([r[1] for r in rows])
    has = np.array([r[2] for r in rows])
    served = engine.threshold
    for label, share in (("as written", 1 - has.mean()), ("weighted to the gold sets' share", GOLD_UNANSWERABLE)):
        weight = np.where(has, 1.0, share / (1 - share) * has.sum() / (~has).sum())

        def score(t: float, weight: np.ndarray = weight) -> float:
            return float((np.where(conf >= t, f1, (~has).astype(float)) * weight).sum() / weight.sum())

        best = max((score(t), t) for t in np.linspace(0, 0.7, 141))
        print(f"{label} ({share:.1%} unanswerable): F1 at the served {served:.3f} {score(served):.4f}; "
              f"best {best[0]:.4f} at {best[1]:.3f}")  # fmt: skip


if __name__ == "__main__":
    main()
