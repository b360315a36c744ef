"""F1 by the gold sets' question kind, pooled over sets, for each reader of var/eval/readers (PLAN.md; EVAL_DIR
names another folder of `trained-SET` and `candidate-SET` runs; READERS other prefixes, e.g. "shipped candidate").

.venv/bin/python training/runs/quotes-2026-12-07/kinds.py blind40 blind41
"""

import json
import os
import sys
from collections import defaultdict
from pathlib import Path

sets = sys.argv[1:]
root = Path(os.environ.get("EVAL_DIR", "var/eval/readers"))
for reader in os.environ.get("READERS", "trained candidate").split():
    by: dict[str, list[float]] = defaultdict(list)
    for s in sets:
        for r in json.loads((root / f"{reader}-{s}" / "results.json").read_text())["rows"]:
            by[r["kind"]].append(r["f1"])
            by["all"].append(r["f1"])
    print(reader, " ".join(f"{k} {sum(v) / len(v):.3f} ({len(v)})" for k, v in sorted(by.items())))
