"""F1 by the gold sets' question kind, pooled over sets, for each reader of var/eval/readers (PLAN.md).

.venv/bin/python training/runs/quotes-2026-12-07/kinds.py blind40 blind41
"""

import json
import sys
from collections import defaultdict
from pathlib import Path

sets = sys.argv[1:]
for reader in ("trained", "candidate"):
    by: dict[str, list[float]] = defaultdict(list)
    for s in sets:
        for r in json.loads(Path(f"var/eval/readers/{reader}-{s}/results.json").read_text())["rows"]:
            by[r["kind"]].append(r["f1"])
            by["all"].append(r["f1"])
    print(reader, " ".join(f"{k} {sum(v) / len(v):.3f} ({len(v)})" for k, v in sorted(by.items())))
