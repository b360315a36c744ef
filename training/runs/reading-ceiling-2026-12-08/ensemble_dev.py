"""Development data only: a logit ensemble of news readers (each window's start and end logits averaged over the
shipped news reader and the folders given) against the shipped reader alone, on the news recipe's 1,576 held-out
dev questions (`qa reader calibrate`'s work folder). The shipped calibration scores both, so F1 is given at the
served threshold and at the best threshold on these questions (the fair comparison), with the span F1 on every
answerable question (thresholds ignored).

    HF_HUB_OFFLINE=1 .venv/bin/python training/runs/reading-ceiling-2026-12-08/ensemble_dev.py \\
        var/reader-calibrate-careful [FOLDER,FOLDER,...]
"""

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from index.embedding import Embedder, packaged_model_path  # noqa: E402
from qa import span_reader as sr  # noqa: E402
from qa.engine import Engine  # noqa: E402
from qa.gold import read_gold  # noqa: E402
from qa.metrics import best_f1  # noqa: E402
from qa.settings import Settings  # noqa: E402


def main() -> None:
    work = Path(sys.argv[1])
    extra = [Path(p) for p in sys.argv[2].split(",")] if len(sys.argv) > 2 and sys.argv[2] else []
    settings = Settings.from_env(index_dir=work / "index", corpus_dir=work / "corpus", reader="trained",
                                 corpus_style="news")  # fmt: skip
    engine = Engine.load(settings, Embedder(packaged_model_path()), build=False)
    model = engine.reader.model
    others = [sr.SpanModel(p, threads=2, runtime="onnx", lanes=1) for p in extra]
    shipped_call = model._call

    def call(window: list, alone: bool) -> tuple[np.ndarray, np.ndarray]:
        start, end = shipped_call(window, alone)
        for o in others:
            s2, e2 = o._call(window, True)
            start, end = start + s2, end + e2
        return start / (1 + len(others)), end / (1 + len(others))

    model._lanes._run = call
    questions = read_gold(work / "dev-squad.json").questions
    rows = []
    for q in questions:
        a = engine.ask(q.question, threshold=0.0)
        rows.append((a.confidence, best_f1(q.answers, a.answer or "") if q.answers else 0.0, float(not q.answers)))
    conf, fa, fb = (np.array(x) for x in zip(*rows, strict=True))
    at = np.where(conf >= engine.threshold, fa, fb).mean()
    best = max((np.where(conf >= t, fa, fb).mean(), t) for t in np.linspace(0, 0.6, 121))
    print(f"| {1 + len(others)} | {', '.join(str(p) for p in extra) or 'shipped alone'} | {at:.4f} | "
          f"{best[0]:.4f} ({best[1]:.3f}) | {fa[fb == 0].mean():.4f} |")  # fmt: skip


if __name__ == "__main__":
    main()
