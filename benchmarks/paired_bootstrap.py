"""Paired bootstrap over questions: F1 of reader B minus reader A at each one's own served threshold.

    python benchmarks/paired_bootstrap.py A_DIR B_DIR [A_DIR B_DIR ...] [--resamples N]

Each DIR is a `qa eval --out` folder (results.json). Pairs are pooled (e.g. two gold sets together); the
questions must be the same in A and B. Prints A's F1, B's F1, the difference and its 95% interval.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def per_question_f1(folder: Path) -> dict[str, float]:
    """Each question's F1 as `qa eval` scored it, at the threshold that run served (its rows' "f1")."""
    res = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    return {r["id"]: float(r["f1"]) for r in res["rows"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dirs", nargs="+", type=Path, help="pairs of eval folders: A B [A B ...]")
    ap.add_argument("--resamples", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    ns = ap.parse_args()
    if len(ns.dirs) % 2:
        ap.error("give eval folders in pairs (A B)")
    a_all: list[float] = []
    b_all: list[float] = []
    for a_dir, b_dir in zip(ns.dirs[::2], ns.dirs[1::2], strict=True):
        a, b = per_question_f1(a_dir), per_question_f1(b_dir)
        if set(a) != set(b):
            ap.error(f"{a_dir} and {b_dir} scored different questions")
        ids = sorted(a)
        a_all += [a[i] for i in ids]
        b_all += [b[i] for i in ids]
    av, bv = np.array(a_all), np.array(b_all)
    rng = np.random.default_rng(ns.seed)
    idx = rng.integers(0, len(av), size=(ns.resamples, len(av)))
    diffs = bv[idx].mean(axis=1) - av[idx].mean(axis=1)
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    print(f"questions {len(av)}: A {av.mean():.3f}  B {bv.mean():.3f}  B-A {bv.mean() - av.mean():+.3f} "
          f"(95% interval {lo:+.3f} to {hi:+.3f}, {ns.resamples} resamples)")  # fmt: skip


if __name__ == "__main__":
    main()
