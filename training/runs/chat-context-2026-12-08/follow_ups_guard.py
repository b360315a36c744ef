"""The gold follow-ups (asked with their own history, as `qa eval` does) with this checkout's code, against the
rows of the shipped system's last `qa eval` run (var/eval/s21/trained-SET, made before the change): F1 at the
served threshold over every follow-up of the given sets, and the questions whose F1 changed.
Usage: HF_HUB_OFFLINE=1 .venv/bin/python training/runs/chat-context-2026-12-08/follow_ups_guard.py SET ..."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from qa.engine import Engine  # noqa: E402
from qa.gold import read_gold  # noqa: E402
from qa.metrics import best_f1  # noqa: E402
from qa.settings import Settings  # noqa: E402


def main(sets: list[str]) -> None:
    engine = Engine.load(Settings.from_env(corpus_style="news"))
    before, after, n, changed = 0.0, 0.0, 0, []
    for name in sets:
        run = json.loads((ROOT / "var/eval/s21" / f"trained-{name}" / "results.json").read_text())
        rows = {r["id"]: r for r in run["rows"]}
        for q in read_gold(ROOT / "gold" / f"{name}.jsonl").questions:
            if not q.history:
                continue
            r = rows[q.id]
            old = r["f1_if_answered"] if r["confidence"] >= run["threshold"] else r["f1_if_abstained"]
            a = engine.ask(q.question, history=q.history_dicts())
            new = (float(a.abstained) if not q.answers else
                   0.0 if a.abstained else best_f1(q.answers, a.answer or ""))  # fmt: skip
            before, after, n = before + old, after + new, n + 1
            if abs(new - old) > 1e-9:
                changed.append(f"{q.id}: {old:.2f} -> {new:.2f}")
    print(f"{len(sets)} sets, {n} follow-ups: F1 before {before / n:.4f}, after {after / n:.4f}; "
          f"{len(changed)} changed: {changed}")  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])
