"""Check and convert the articles and questions written for this project into SQuAD's JSON format, so
`qa reader train` reads them like any other data file: news-style articles (training/news/<writer>/) and
encyclopaedia-style articles about invented subjects (training/encyclopaedia/<writer>/).

    python training/news_to_squad.py training/news            # check every writer's folder, write the JSON
    python training/news_to_squad.py training/encyclopaedia   # the same for the encyclopaedia-style ones
    python training/news_to_squad.py training/news2           # the second batch of news (labels/news2-written.json)
    python training/news_to_squad.py training/quotes          # quote questions on those articles
    python training/news_to_squad.py training/paraphrase      # questions in a reader's own words on others
    python training/news_to_squad.py training/follow-ups      # chat turns: follow-ups with their history
    python training/news_to_squad.py training/news/A --check  # check one folder only, write nothing

The output is training/labels/<collection>-written.json (collection: the folder's name, `news` or
`encyclopaedia`); article titles are `<collection>-<writer>-<article>`, the names `dev_articles` use.

Each article is cut into passages by the index's own cleaner and chunker (160-token chunks), as the served
corpus is, and each question goes with a passage: an answerable one with the first passage holding its
answer (an answer cut by a chunk boundary, or in text the cleaner drops, leaves its question out); an
unanswerable one with the passage sharing most words with it (the passage retrieval would likely hand
the reader). Training then adds retrieved passages of the same article that lack the answer as negatives.

Each writer's folder holds `articles/<name>.txt` (first line the headline, then a blank line, then the body)
and `questions.jsonl`, one question a line: {"article": "<name>", "question": "...", "answer": "<verbatim
text of the article>" or null (unanswerable), "occurrence": n (optional, 1-based: which occurrence of the
answer text is meant, when it occurs more than once), "history": [{"role": "user", "content": "..."}, {"role":
"assistant", "content": "..."}] (optional: the chat turns before a follow-up)}. A question with history is kept as
the text the served reader reads for it (`qa.reading.analyse_question`: a pronoun replaced by the name the last
answer gave, or the earlier turns appended), so training sees what serving asks. A folder without `articles/`
(training/quotes/, training/paraphrase/, training/follow-ups/) asks about other collections' articles: its
"article" is `<collection>/<writer>/<name>`. The articles are fictional, written by helper sessions that never
saw the corpus, the gold sets or the code (training/README.md).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.chunking import ChunkingConfig, chunk_document  # noqa: E402
from index.cleaning import clean  # noqa: E402
from qa.conversation import parse_history  # noqa: E402
from qa.errors import QuestionError  # noqa: E402
from qa.reading import analyse_question  # noqa: E402
from qa.settings import Settings  # noqa: E402

LABELS = ROOT / "training" / "labels"
WORD = re.compile(r"\w+")


def passages(text: str) -> list[tuple[int, int]]:
    """The article's chunks, as served (index.cleaning + index.chunking with the default settings)."""
    return [(c.start, c.end) for c in chunk_document(text, clean(text), ChunkingConfig())]


def _words(text: str) -> set[str]:
    return {w for w in WORD.findall(text.lower()) if len(w) > 2}


def borrowed_articles(lines: list[str]) -> dict[str, str]:
    """The articles named by a folder without articles of its own (training/quotes/, training/paraphrase/): each
    "article" of its questions is "<collection>/<writer>/<name>", the file
    training/<collection>/<writer>/articles/<name>.txt."""
    out: dict[str, str] = {}
    for line in lines:
        try:
            name = json.loads(line).get("article") if line.strip() else None
        except ValueError:
            continue  # reported by the caller
        if not isinstance(name, str) or name in out or name.count("/") != 2:
            continue
        collection, writer, stem = name.split("/")
        path = ROOT / "training" / collection / writer / "articles" / f"{stem}.txt"
        if path.is_file():
            out[name] = path.read_text(encoding="utf-8")
    return out


def read_writer(folder: Path, collection: str) -> tuple[list[dict], list[str], int]:
    """SQuAD `data` entries (one per article, its passages as paragraphs), the problems found, and how many
    answerable questions were left out because no passage holds their answer whole."""
    problems: list[str] = []
    dropped = 0
    lines = (folder / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    if (folder / "articles").is_dir():
        articles = {p.stem: p.read_text(encoding="utf-8") for p in sorted((folder / "articles").glob("*.txt"))}
    else:  # questions about other collections' articles: "article" is "<collection>/<writer>/<name>"
        articles = borrowed_articles(lines)
    qas: dict[str, list[dict]] = {name: [] for name in articles}
    seen: set[tuple[str, str]] = set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{folder.name}/questions.jsonl:{n}"
        try:
            q = json.loads(line)
        except ValueError as exc:
            problems.append(f"{where}: not JSON ({exc})")
            continue
        name, question, answer = q.get("article"), q.get("question"), q.get("answer")
        if name not in articles:
            problems.append(f"{where}: no article named {name!r}")
            continue
        if not isinstance(question, str) or not question.strip().endswith("?"):
            problems.append(f"{where}: the question must be a string ending with '?'")
            continue
        history = q.get("history")
        if history is not None:
            # the text the served reader reads for this turn, made by the engine's own question analysis
            last = history[-1] if isinstance(history, list) and history else None
            if not isinstance(last, dict) or last.get("role") != "assistant":
                problems.append(f"{where}: history must be a list of turns ending with the assistant's answer")
                continue
            try:
                turns = parse_history(history, max_messages=Settings.max_history_messages)
                question = analyse_question(question, turns).reader_text
            except QuestionError as exc:
                problems.append(f"{where}: history: {exc}")
                continue
        if (name, question.strip().lower()) in seen:
            problems.append(f"{where}: duplicate question")
            continue
        seen.add((name, question.strip().lower()))
        text = articles[name]
        qid = f"{collection}-{folder.name}-{name.replace('/', '-')}-{len(qas[name])}"
        if answer is None:
            qas[name].append({"id": qid, "question": question, "answers": [], "is_impossible": True, "start": None})
            continue
        if not isinstance(answer, str) or not answer.strip() or answer != answer.strip():
            problems.append(f"{where}: the answer must be non-empty text without surrounding spaces, or null")
            continue
        starts = [i for i in range(len(text)) if text.startswith(answer, i)]
        occurrence = q.get("occurrence", 1)
        if not starts:
            problems.append(f"{where}: answer {answer!r} is not in the article verbatim")
            continue
        if len(starts) > 1 and "occurrence" not in q:
            problems.append(f'{where}: answer {answer!r} occurs {len(starts)} times: add "occurrence": n')
            continue
        if not isinstance(occurrence, int) or not 1 <= occurrence <= len(starts):
            problems.append(f"{where}: occurrence must be 1..{len(starts)}")
            continue
        qas[name].append({"id": qid, "question": question, "is_impossible": False, "answer": answer,
                          "start": starts[occurrence - 1]})  # fmt: skip
    data = []
    for name, text in articles.items():
        spans = passages(text)
        if not qas[name] or not spans:
            continue
        held: list[list[dict]] = [[] for _ in spans]
        span_words = [_words(text[s:e]) for s, e in spans]
        for q in qas[name]:
            if q["start"] is None:
                qw = _words(q["question"])
                best = max(range(len(spans)), key=lambda i: len(qw & span_words[i]))
                held[best].append({"id": q["id"], "question": q["question"], "answers": [], "is_impossible": True})
                continue
            a, b = q["start"], q["start"] + len(q["answer"])
            inside = [i for i, (s, e) in enumerate(spans) if s <= a and b <= e]
            if not inside:
                dropped += 1
                continue
            s = spans[inside[0]][0]
            held[inside[0]].append({"id": q["id"], "question": q["question"], "is_impossible": False,
                                    "answers": [{"text": q["answer"], "answer_start": a - s}]})  # fmt: skip
        paragraphs = [{"context": text[s:e], "qas": h} for (s, e), h in zip(spans, held, strict=True)]
        data.append({"title": f"{collection}-{folder.name}-{name.replace('/', '-')}", "paragraphs": paragraphs})
    return data, problems, dropped


def main(argv: list[str]) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Check training/<collection>/<writer>/ folders and write "
                                 "training/labels/<collection>-written.json")  # fmt: skip
    ap.add_argument("root", nargs="?", type=Path, default=ROOT / "training" / "news",
                    help="training/news or training/encyclopaedia (every writer), or one writer's folder")  # fmt: skip
    ap.add_argument("--check", action="store_true", help="check only, write nothing")
    ns = ap.parse_args(argv)
    root: Path = ns.root
    single = (root / "questions.jsonl").is_file()
    collection = (root.resolve().parent if single else root.resolve()).name
    folders = [root] if single else sorted(p.parent for p in root.glob("*/questions.jsonl"))
    if not folders:
        print(f"no questions.jsonl in {root} or its subfolders", file=sys.stderr)
        return 2
    data, problems, dropped = [], [], 0
    for folder in folders:
        d, p, n = read_writer(folder, collection)
        data += d
        problems += p
        dropped += n
    questions = [q for a in data for p in a["paragraphs"] for q in p["qas"]]
    unanswerable = sum(q["is_impossible"] for q in questions)
    print(f"{len(data)} articles, {len(questions)} questions ({unanswerable} unanswerable), {len(problems)} problems"
          f" ({dropped} answerable left out: no passage holds the answer whole)")  # fmt: skip
    for p in problems:
        print("  " + p)
    if single and not ns.check and not problems:
        print(f"{root} is one writer's folder: checked only (the output file holds every writer; pass the collection"
              " folder to write it)")  # fmt: skip
    elif not ns.check:
        out = LABELS / f"{collection}-written.json"
        body = json.dumps({"version": f"{collection}-written", "data": data}, ensure_ascii=False, indent=0)
        out.write_text(body + "\n", encoding="utf-8")
        print(f"wrote {out}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
