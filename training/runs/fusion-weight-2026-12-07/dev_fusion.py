"""Passage recall @1/@2/@5 of the hybrid retriever on the written dev questions of training/reader-news2.toml
(held out of every training and of every gold set), over their own index, for several dense/lexical weights.

    .venv/bin/python training/runs/fusion-weight-2026-12-07/dev_fusion.py [weight ...]

Builds var/dev-fusion (the dev questions, their articles as a corpus, the index with the shipped retrieval model).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
import qa.retrieval as retrieval
from qa.engine import Engine, load_embedder
from qa.gold import read_gold, write_squad_corpus
from qa.reader_training import TrainConfig, load_examples, split_dev, write_dev_squad
from qa.reading import analyse_question
from qa.settings import ROOT, Settings

work = Path("var/dev-fusion")
if not (work / "dev-squad.json").exists():
    cfg = TrainConfig.load(ROOT / "training" / "reader-news2.toml")
    _, dev = split_dev(load_examples(cfg.data, cfg.seed, cfg.dev_articles), cfg.dev_articles)
    work.mkdir(parents=True, exist_ok=True)
    write_dev_squad(dev, work / "dev-squad.json")
gold = read_gold(work / "dev-squad.json")
if not (work / "corpus").exists():
    write_squad_corpus(gold, work / "corpus")
s = Settings.from_env(corpus_dir=work / "corpus", index_dir=work / "index", reader="trained")
eng = Engine.load(s, embedder=load_embedder(s), build=True, progress=False)
questions = [q for q in gold.questions if q.answers]
vectors = {}
for q in questions:
    question = analyse_question(q.question, [])
    vectors[q.id] = (question.search_text, eng.embedder.encode_query(question.search_text))
weights = [float(w) for w in sys.argv[1:]] or [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
for w in weights:
    retrieval.DENSE_WEIGHT, retrieval.LEXICAL_WEIGHT = w, round(1 - w, 6)
    for style in ("news", "other"):
        n, hits = 0, {1: 0, 2: 0, 5: 0}
        for q in questions:
            if q.id.startswith("news") != (style == "news"):
                continue
            n += 1
            text, vec = vectors[q.id]
            res = eng.retriever.search(vec, text, 5)
            ranks = [i + 1 for i, h in enumerate(res) if any(a in eng.index.chunks[h.chunk_id].text for a in q.answers)]
            for k in hits:
                hits[k] += bool(ranks and ranks[0] <= k)
        print(f"dense {w:.2f} {style:5s} n={n} " + " ".join(f"@{k} {v / n:.3f}" for k, v in hits.items()), flush=True)
