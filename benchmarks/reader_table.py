"""Side-by-side table of `qa eval` runs (folders named READER-SET under the given folder), in Markdown.
READER is any label without a hyphen: `trained`, `rules`, or a candidate's name."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.metrics import auroc  # noqa: E402


def main(folder: Path) -> None:
    runs = {}
    for results in sorted(folder.glob("*/results.json")):
        reader, _, name = results.parent.name.partition("-")
        runs[(name, reader)] = json.loads(results.read_text())
    models = {(results.parent / "model.txt").read_text().strip() for results in folder.glob("candidate-*/results.json")
              if (results.parent / "model.txt").is_file()}  # fmt: skip
    if len(models) > 1:
        print(f"warning: the candidate rows come from {len(models)} model folders: {sorted(models)}", file=sys.stderr)
    names = sorted({n for n, _ in runs}, key=lambda n: (n.startswith("squad"), n))
    # the two served readers first, then any other (e.g. a candidate model evaluated with --reader-model)
    readers = sorted({r for _, r in runs}, key=lambda r: (r != "trained", r != "rules", r))
    print(
        "| set | reader | threshold | F1 | EM | HasAns F1 | NoAns | citation precision | doc recall@1 | best F1 (at) |"
        " AUROC | p50 ms |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name in names:
        for reader in readers:
            r = runs.get((name, reader))
            if r is None:
                continue
            c = r["configured"]
            na = c["NoAns_f1"] if c["NoAns_total"] else None
            rec = r["retrieval"].get("recall@1")
            cells = [name, reader, f"{r['threshold']:.2f}", f"{c['f1']:.3f}", f"{c['exact']:.3f}",
                     _f(c["HasAns_f1"]), _f(na), _f(c["citation_precision"]), _f(rec),
                     f"{r['best_f1']:.3f} ({r['best_f1_thresh']:.2f})", _f(_auroc(r)),
                     f"{r['latency_ms']['p50']:.0f}"]  # fmt: skip
            print("| " + " | ".join(cells) + " |")


def _auroc(r: dict) -> float | None:
    """How well the confidence separates answerable from unanswerable questions (no answer offered: 0)."""
    rows = r["rows"]
    value = auroc([row["has_answer"] for row in rows], [row["confidence"] if row["offered"] else 0.0 for row in rows])
    return None if math.isnan(value) else value


def _f(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "var/eval/readers"))
