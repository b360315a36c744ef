"""Two more features for the news reader's confidence, checked on development data only (the written dev
questions `qa reader calibrate` fits on; 5-fold by question): the best cosine of the question to a sentence the
span covers, and the span's margin minus the question's best margin. Run as make.sh calibrate runs (packaged
embedder, two passages) after a calibration has built its work folder:

    QA_READER_RUNTIME=torch QA_READER_PASSAGES=2 QA_MODEL_PATH=<packaged MiniLM> python confidence_features.py
"""

import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))
WORK = ROOT / "var" / "reader-calibrate-bylines"  # the shipped reader's calibration folder (make.sh calibrate)


def rows() -> tuple[list, list[bool]]:
    from qa.engine import Engine, load_embedder
    from qa.gold import read_gold
    from qa.metrics import best_f1
    from qa.reading import analyse_question, sentences_covering
    from qa.settings import Settings

    settings = Settings.from_env().with_(reader_model=ROOT / "models" / "reader-news")
    emb = load_embedder(settings)
    settings = settings.with_(corpus_dir=WORK / "corpus", index_dir=WORK / "index", reader="trained")
    eng = Engine.load(settings, embedder=emb, build=True, progress=False)
    gold = read_gold(WORK / "dev-squad.json")
    out = []
    for qi, q in enumerate(gold.questions):
        question = analyse_question(q.question, [])
        qvec = np.asarray(eng.embedder.encode_query(question.search_text)).reshape(-1)
        hits = eng.retriever.search(qvec, question.search_text, settings.top_k)
        for c in eng.reader.candidates(question.reader_text, hits, every_passage=True):
            text = eng.index.documents[c.doc_id].text[c.start : c.end]
            a, b = sentences_covering(eng.index, c.chunk_id, c.start, c.end)
            sim = float((eng.index.sentence_vectors[a : b + 1] @ qvec).max())
            out.append((qi, (*c.features, sim), best_f1(q.answers, text) if q.answers else 0.0))
    return out, [bool(q.answers) for q in gold.questions]


def dev_f1(data: list, has: list[bool], cols: list[int], folds: int = 5) -> float:
    from sklearn.linear_model import LogisticRegression

    from qa.metrics import Scored, best_threshold

    qi = np.array([r[0] for r in data])
    x = np.array([r[1] for r in data])
    f1 = np.array([r[2] for r in data])
    conf = np.zeros(len(data))
    for k in range(folds):
        test = qi % folds == k
        lr = LogisticRegression(C=1.0, max_iter=2000).fit(x[~test][:, cols], f1[~test] >= 0.5)
        conf[test] = lr.predict_proba(x[test][:, cols])[:, 1]
    best: dict[int, tuple[float, float]] = {}
    for i, q in enumerate(qi):
        if q not in best or conf[i] > best[q][0]:
            best[q] = (conf[i], f1[i])
    scored = []
    for q, answerable in enumerate(has):
        p, f = best.get(q, (0.0, 0.0))
        scored.append(Scored(answerable, p, q in best, 0.0, f if answerable else 0.0, 0.0, 0.0 if answerable else 1.0))
    return best_threshold(scored).f1


def main() -> None:
    data, has = rows()
    best_margin: dict[int, float] = defaultdict(lambda: -1e9)
    for q, feats, _ in data:
        best_margin[q] = max(best_margin[q], feats[0])
    data = [(q, (*feats, feats[0] - best_margin[q]), f1) for q, feats, f1 in data]
    for name, cols in (("shipped features", [0, 1, 2, 3]), ("+ sentence similarity", [0, 1, 2, 3, 4]),
                       ("+ similarity + margin gap", [0, 1, 2, 3, 4, 5])):  # fmt: skip
        print(f"{name:28s} dev F1 {dev_f1(data, has, cols):.4f}")


if __name__ == "__main__":
    main()
