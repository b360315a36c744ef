"""Passage recall of the retriever (top_k 5) on the written dev questions of training/reader-news2.toml
(held out of every training), over their own index, news-style questions apart from the others.

    .venv/bin/python training/runs/embedder-ft-2026-12-06/dev_retrieval.py packaged models/embedder

Needs var/reader-calibrate-soup (`qa reader calibrate --config training/reader-news2.toml ... --work-dir`).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from index.embedding import packaged_model_path
from qa.engine import Engine, load_embedder
from qa.gold import read_gold
from qa.reading import analyse_question
from qa.settings import Settings

work = Path("var/reader-calibrate-soup")
gold = read_gold(work / "dev-squad.json")
for model in sys.argv[1:]:
    path = packaged_model_path() if model == "packaged" else model
    s = Settings.from_env(
        corpus_dir=work / "corpus", index_dir=Path(f"var/devidx-{Path(model).name}"), reader="trained", model_path=path
    )
    eng = Engine.load(s, embedder=load_embedder(s), build=True, progress=False)
    for style in ("news", "other"):
        n, hits = 0, {1: 0, 2: 0, 5: 0}
        for q in gold.questions:
            if not q.answers or q.id.startswith("news") != (style == "news"):
                continue
            n += 1
            question = analyse_question(q.question, [])
            res = eng.retriever.search(eng.embedder.encode_query(question.search_text), question.search_text, 5)
            ranks = [i + 1 for i, h in enumerate(res) if any(a in eng.index.chunks[h.chunk_id].text for a in q.answers)]
            for k in hits:
                hits[k] += bool(ranks and ranks[0] <= k)
        print(model, style, n, {k: round(v / n, 3) for k, v in hits.items()}, flush=True)
