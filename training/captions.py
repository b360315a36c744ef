"""Training data for reading photo credits: the written news articles' passages with a photo caption and its credit
line ("Maria Lopez/Getty Images") inserted where a writer placed them, as a news page's text carries them and the
index keeps them (index/cleaning.py keeps credit lines).

Source: training/captions/<writer>/captions.jsonl, written by 8 helper sessions to
training/runs/captions-2026-12-07/BRIEF.md (each saw only the brief and its 20 articles), one row an article: the
paragraph after which the photo sits, the caption, the credit and three questions (who took the photo: the
photographer; which agency: the agency; one the caption does not answer: null). Each passage of
training/labels/*-written.json that holds that paragraph gets the caption and credit after it, keeping its own
questions (the credit must not answer them; their answer offsets moved where needed); the first such passage also
gets the three questions. Writes labels/captions-written.json. Usage: python training/captions.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "training" / "labels"
SOURCES = ["news-written.json", "news2-written.json", "follow-ups-written.json", "paraphrase-written.json",
           "quotes-written.json"]  # fmt: skip
OUT = LABELS / "captions-written.json"


def title_of(article_path: str) -> str:
    """training/news/A/articles/05-x.txt -> news-A-05-x (the written articles' titles in labels/*.json)."""
    parts = Path(article_path).parts
    return f"{parts[1]}-{parts[2]}-{Path(article_path).stem}"


def load_captions() -> dict[str, dict]:
    out = {}
    for path in sorted((ROOT / "training" / "captions").glob("*/captions.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                row["writer"] = path.parent.name
                out[title_of(row["article"])] = row
    return out


def paragraph_after(row: dict) -> str:
    text = (ROOT / row["article"]).read_text(encoding="utf-8")
    [para] = [p.strip() for p in text.split("\n\n") if p.strip().startswith(row["after"])]
    return para


def main() -> None:
    captions = load_captions()
    articles, inserted, asked = [], 0, 0
    for name in SOURCES:
        data = json.loads((LABELS / name).read_text(encoding="utf-8"))
        for article in data["data"]:
            row = captions.get(article["title"])
            if row is None:
                continue
            para = paragraph_after(row)
            photo = f"\n\n{row['caption']}\n{row['credit']}"
            paragraphs, first = [], True
            for p in article["paragraphs"]:
                ctx = p["context"]
                at = ctx.find(para)
                if at < 0:
                    continue
                cut = at + len(para)
                qas = []
                for qa in p["qas"]:
                    moved = [dict(a, answer_start=a["answer_start"] + (len(photo) if a["answer_start"] >= cut else 0))
                             for a in qa.get("answers", [])]  # fmt: skip
                    qas.append(dict(qa, id=f"{qa['id']}-photo", answers=moved))
                new_ctx = ctx[:cut] + photo + ctx[cut:]
                for qa in qas:
                    for a in qa["answers"]:
                        assert new_ctx[a["answer_start"] : a["answer_start"] + len(a["text"])] == a["text"]
                if first and name in ("news-written.json", "news2-written.json"):
                    for k, q in enumerate(row["questions"]):
                        answer = q["answer"]
                        qid = f"{article['title']}-photo-{k}"
                        if answer is None:
                            qas.append({"id": qid, "question": q["question"], "is_impossible": True, "answers": []})
                            continue
                        start = cut + photo.index(row["credit"]) + row["credit"].index(answer)
                        assert new_ctx[start : start + len(answer)] == answer
                        qas.append({"id": qid, "question": q["question"], "is_impossible": False,
                                    "answers": [{"text": answer, "answer_start": start}]})  # fmt: skip
                        asked += 1
                    first = False
                inserted += len(p["qas"])
                paragraphs.append({"context": new_ctx, "qas": qas})
            if paragraphs:
                articles.append({"title": article["title"], "paragraphs": paragraphs})
    OUT.write_text(json.dumps({"version": "captions-1", "data": articles}, ensure_ascii=False, indent=0) + "\n")
    print(f"{OUT}: {len(articles)} article copies, {inserted} questions read beside a photo credit, "
          f"{asked} questions answered by a credit; {len(captions)} captions written")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
