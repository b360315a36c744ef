"""The news threshold each reader's calibration would pick on the written news dev questions (information for
the next plan, not a decision): every question of a news writer's held-out first article, asked over the
calibration folder's index of all dev articles with every passage read, as `qa reader calibrate` asks its dev
questions (torch unless QA_READER_RUNTIME says otherwise; top_k 5), each answered with its most probable span.

    QA_READER_RUNTIME=torch python training/runs/reader-news2-2026-12-06/news_dev_threshold.py \
        models/reader-news var/reader-news2/model > training/runs/reader-news2-2026-12-06/news_dev_threshold.txt

Needs var/reader-calibrate-news2 (`qa reader calibrate --config training/reader-news2.toml ... --work-dir`).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from qa.engine import Engine, load_embedder
from qa.gold import read_gold
from qa.metrics import best_threshold, sweep
from qa.reader_calibration import candidate_rows, most_probable
from qa.settings import Settings

work = Path("var/reader-calibrate-news2")
gold = read_gold(work / "dev-squad.json")
qs = [q for q in gold.questions if q.id.startswith("news")]
for folder in sys.argv[1:]:
    s = Settings.from_env(
        corpus_dir=work / "corpus", index_dir=work / "index", reader="trained", reader_model=Path(folder)
    )
    eng = Engine.load(s, embedder=load_embedder(s), build=False, progress=False)
    r = eng.reader
    rows = most_probable(candidate_rows(eng, qs), r.calibration, qs)
    b = best_threshold(rows)
    served = r.calibration.thresholds["news"]
    at = sweep(rows, [served])[0]
    print(folder, len(qs), "best", round(b.threshold, 4), round(b.f1, 4), "at served", served, round(at.f1, 4))
    for t in (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4):
        print("  ", t, round(sweep(rows, [t])[0].f1, 4))
