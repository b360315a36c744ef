"""Checks one captions.jsonl file written to BRIEF.md. Usage: python3 check.py FILE"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
AGENCIES = ("Getty Images", "Shutterstock", "AP Photo", "Reuters", "AFP")


def main(path: str) -> int:
    problems, names = [], set()
    rows = [line for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    if len(rows) != 20:
        problems.append(f"{len(rows)} lines, want 20")
    for n, line in enumerate(rows, 1):
        try:
            r = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {n}: not JSON ({exc})")
            continue
        art = ROOT / r.get("article", "")
        if not art.is_file():
            problems.append(f"line {n}: no such article {r.get('article')!r}")
            continue
        paras = [p.strip() for p in art.read_text(encoding="utf-8").split("\n\n") if p.strip()]
        after = r.get("after", "")
        hits = [i for i, p in enumerate(paras) if after and p.startswith(after)]
        if len(hits) != 1:
            problems.append(f"line {n}: 'after' must start exactly one paragraph ({len(hits)} found)")
        elif hits[0] < 2 or hits[0] == len(paras) - 1:
            problems.append(f"line {n}: 'after' must be a middle body paragraph, not the headline, first or last")
        cap = r.get("caption", "")
        if not (8 <= len(cap.split()) <= 35) or "\n" in cap:
            problems.append(f"line {n}: caption must be one sentence of 10-30 words")
        m = re.fullmatch(r"([A-Z][\w.'-]*(?: [A-Z][\w.'-]*){1,3})/(.+)", r.get("credit", ""))
        if not m or m.group(2) not in AGENCIES:
            problems.append(f"line {n}: credit must be 'Firstname Lastname/Agency' with one of {AGENCIES}")
            continue
        name, agency = m.groups()
        if name in names:
            problems.append(f"line {n}: photographer {name!r} used twice")
        names.add(name)
        qs = r.get("questions", [])
        if len(qs) != 3:
            problems.append(f"line {n}: want 3 questions")
            continue
        want = [name, agency, None]
        for k, (q, w) in enumerate(zip(qs, want, strict=True), 1):
            if not q.get("question", "").strip():
                problems.append(f"line {n} question {k}: empty")
            if q.get("answer") != w:
                problems.append(f"line {n} question {k}: answer must be {w!r}")
    for p in problems:
        print(p)
    print("OK" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
