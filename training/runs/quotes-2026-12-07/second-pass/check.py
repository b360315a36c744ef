"""Checks /tmp/second/answers.jsonl: one line per item of items.jsonl, same ids, each answer verbatim in its
article or null. The second annotator's checking tool (the same checks as the one that ran, rewritten to pass ruff);
the paraphrase questions' annotator ran it with /tmp/second2 for /tmp/second."""

import json
from pathlib import Path

HERE = Path("/tmp/second")
items = {}
for line in (HERE / "items.jsonl").read_text(encoding="utf-8").splitlines():
    if line.strip():
        items[json.loads(line)["id"]] = json.loads(line)
path = HERE / "answers.jsonl"
answers = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()] if path.exists() else []
problems = []
seen = set()
for a in answers:
    i = a.get("id")
    if i not in items:
        problems.append(f"unknown id {i!r}")
        continue
    if i in seen:
        problems.append(f"duplicate id {i!r}")
    seen.add(i)
    ans = a.get("answer")
    text = (HERE / "articles" / f"{items[i]['article']}.txt").read_text(encoding="utf-8")
    if ans is not None and (not isinstance(ans, str) or not ans.strip() or ans not in text):
        problems.append(f"{i}: answer {ans!r} is not verbatim in the article")
missing = len(items) - len(seen)
print(f"{len(seen)} of {len(items)} answered, {missing} missing, {len(problems)} problems")
for p in problems:
    print("  " + p)
