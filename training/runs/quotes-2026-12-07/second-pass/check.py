"""Checks /tmp/second/answers.jsonl: one line per item of items.jsonl, same ids, answer verbatim in the article or null."""
import json
items = {json.loads(l)["id"]: json.loads(l) for l in open("/tmp/second/items.jsonl") if l.strip()}
try:
    answers = [json.loads(l) for l in open("/tmp/second/answers.jsonl") if l.strip()]
except FileNotFoundError:
    answers = []
problems = []
seen = set()
for a in answers:
    i = a.get("id")
    if i not in items:
        problems.append(f"unknown id {i!r}"); continue
    if i in seen:
        problems.append(f"duplicate id {i!r}")
    seen.add(i)
    ans = a.get("answer")
    text = open(f"/tmp/second/articles/{items[i]['article']}.txt", encoding="utf-8").read()
    if ans is not None and (not isinstance(ans, str) or not ans.strip() or ans not in text):
        problems.append(f"{i}: answer {ans!r} is not verbatim in the article")
missing = len(items) - len(seen)
print(f"{len(seen)} of {len(items)} answered, {missing} missing, {len(problems)} problems")
for p in problems: print("  " + p)
