"""Passage recall of the retriever on the written dev questions (reader-news2.toml's held-out articles)."""
import sys, shutil
from pathlib import Path
sys.path.insert(0, ".")
from qa.settings import Settings
from qa.engine import Engine, load_embedder
from qa.gold import read_gold
from qa.reading import analyse_question
work = Path("var/reader-calibrate-soup")
gold = read_gold(work / "dev-squad.json")
for model in sys.argv[1:]:
    idx = Path(f"var/devidx-{Path(model).name}")
    s = Settings.from_env(corpus_dir=work / "corpus", index_dir=idx, reader="trained", model_path=None if model == "packaged" else model)
    eng = Engine.load(s, embedder=load_embedder(s), build=True, progress=False)
    for style in ("news", "other"):
        n = 0; hits = {1: 0, 2: 0, 5: 0}
        for q in gold.questions:
            if not q.answers or (q.id.startswith("news") != (style == "news")):
                continue
            n += 1
            question = analyse_question(q.question, [])
            qv = eng.embedder.encode_query(question.search_text)
            res = eng.retriever.search(qv, question.search_text, 5)
            ranks = [i + 1 for i, h in enumerate(res) if any(a in eng.index.chunks[h.chunk_id].text for a in q.answers)]
            for k in hits:
                hits[k] += bool(ranks and ranks[0] <= k)
        print(model, style, n, {k: round(v / n, 3) for k, v in hits.items()}, flush=True)
