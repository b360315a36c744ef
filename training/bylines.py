"""Training data for reading a byline with every passage of its article (qa/reader_passages.py).

The served reader reads a chunk followed by its article's byline when the chunk lacks it, so it must learn that
the byline answers who wrote the article and nothing else. From the written news articles (training/labels/*.json,
never the corpus's gold sets), for every article whose text has a byline line (index/cleaning.py `is_byline`):
each other paragraph again with the byline after it, as the reader will see it, keeping that paragraph's
questions and answers (the byline must not answer them), and for a share of them a question asking who wrote the
article, answered by the byline's names. The questions' wording comes from WHO_WROTE below, with the article's
headline where it has a slot. Deterministic (fixed seed). Usage: python training/bylines.py (writes OUT).
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from index.cleaning import is_byline  # noqa: E402
from qa.reader_passages import SEPARATOR  # noqa: E402

LABELS = ROOT / "training" / "labels"
SOURCES = ["news-written.json", "news2-written.json", "follow-ups-written.json", "paraphrase-written.json",
           "quotes-written.json"]  # fmt: skip
OUT = LABELS / "bylines-written.json"
SEED = 7
ASK_SHARE = 0.25  # of the paragraphs read with a byline, the share that also get a "who wrote" question
WHO_WROTE = [
    "Who wrote this article?",
    "Who wrote the story about {h}?",
    "Who is the author of the article '{h}'?",
    "Which reporter wrote the piece on {h}?",
    "Whose byline is on the story '{h}'?",
    "Who wrote the report?",
    "Who penned the article about {h}?",
    "Who is credited with writing the story '{h}'?",
    "Which journalist reported the story '{h}'?",
    "Who wrote the news piece headlined '{h}'?",
    "Who is the writer of this report?",
    "Who authored the article?",
]
_NAMES = re.compile(r"^(?:written by|by)\s+([^,]+)", re.IGNORECASE)


def byline_of(contexts: list[str]) -> str | None:
    for ctx in contexts:
        for line in ctx.splitlines():
            if is_byline(line):
                return line.strip()
    return None


def main() -> None:
    rng = random.Random(SEED)
    articles, asked, kept = [], 0, 0
    for name in SOURCES:
        data = json.loads((LABELS / name).read_text(encoding="utf-8"))
        for article in data["data"]:
            contexts = [p["context"] for p in article["paragraphs"]]
            byline = byline_of(contexts)
            if byline is None:
                continue
            m = _NAMES.match(byline)
            assert m, byline
            names = m.group(1).strip()
            headline = contexts[0].splitlines()[0].strip()
            paragraphs = []
            for i, para in enumerate(article["paragraphs"]):
                if byline in para["context"]:
                    continue
                ctx = para["context"] + SEPARATOR + byline
                qas = [dict(qa, id=f"{qa['id']}-byline") for qa in para["qas"]]
                kept += len(qas)
                if rng.random() < ASK_SHARE:
                    question = rng.choice(WHO_WROTE).format(h=headline)
                    start = len(para["context"]) + len(SEPARATOR) + byline.index(names)
                    assert ctx[start : start + len(names)] == names
                    qid = f"{article['title']}-{name.split('-')[0]}-{i}-who-wrote"
                    qas.append({"id": qid, "question": question, "is_impossible": False,
                                "answers": [{"text": names, "answer_start": start}]})  # fmt: skip
                    asked += 1
                paragraphs.append({"context": ctx, "qas": qas})
            if paragraphs:
                articles.append({"title": article["title"], "paragraphs": paragraphs})
    OUT.write_text(json.dumps({"version": "bylines-1", "data": articles}, ensure_ascii=False, indent=0) + "\n")
    print(f"{OUT}: {len(articles)} article copies, {kept} questions read beside a byline, {asked} who-wrote questions")


if __name__ == "__main__":
    main()
