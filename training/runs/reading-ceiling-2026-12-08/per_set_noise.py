"""How many news sets would fall below 0.60 (and behind the rule reader) from sampling alone? Each set's F1 is
resampled from its own questions (bootstrap) to measure the spread a 40-50 question set has around its true score;
then, if every set's true score were the pooled one, how many of the 85 would land below 0.60. Reads the `qa eval`
rows of run.sh (var/eval/s21/{trained,rules}-SET). Usage: python per_set_noise.py"""

import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
SETS = ["blind"] + [f"blind{i}" for i in [*range(2, 18), *range(20, 44), *range(48, 92)]]


def per_question(who: str, name: str) -> dict[str, float]:
    d = json.loads((ROOT / "var/eval/s21" / f"{who}-{name}" / "results.json").read_text())
    t = d["threshold"]
    return {r["id"]: r["f1_if_answered"] if r["confidence"] >= t else r["f1_if_abstained"] for r in d["rows"]}


def main() -> None:
    rng = np.random.default_rng(0)
    trained = {s: per_question("trained", s) for s in SETS}
    rules = {s: per_question("rules", s) for s in SETS}
    f1 = np.array([np.mean(list(trained[s].values())) for s in SETS])
    diff = np.array([np.mean([trained[s][q] - rules[s][q] for q in trained[s]]) for s in SETS])
    pooled = np.mean([v for s in SETS for v in trained[s].values()])
    pooled_diff = np.mean([trained[s][q] - rules[s][q] for s in SETS for q in trained[s]])
    # Sampling spread of one set's F1: resample its questions; the mean over sets of each set's bootstrap SD.
    sd_f1, sd_diff = [], []
    for s in SETS:
        t = np.array(list(trained[s].values()))
        d = np.array([trained[s][q] - rules[s][q] for q in trained[s]])
        idx = rng.integers(0, len(t), size=(2000, len(t)))
        sd_f1.append(t[idx].mean(axis=1).std())
        sd_diff.append(d[idx].mean(axis=1).std())
    # If every set had the pooled score, how many of the 85 would fall below 0.60 or behind the rules by chance:
    # resample each set's questions around a shift that gives it the pooled mean (its spread kept).
    below, behind = [], []
    for _ in range(2000):
        b = h = 0
        for s in SETS:
            t = np.array(list(trained[s].values()))
            d = np.array([trained[s][q] - rules[s][q] for q in trained[s]])
            idx = rng.integers(0, len(t), size=len(t))
            b += (t[idx] - t.mean() + pooled).mean() < 0.60
            h += (d[idx] - d.mean() + pooled_diff).mean() <= 0
        below.append(b)
        behind.append(h)
    print(f"{len(SETS)} sets; pooled F1 {pooled:.3f}; per-set F1: mean {f1.mean():.3f}, SD across sets {f1.std():.3f}, "
          f"sampling SD within a set {np.mean(sd_f1):.3f}")  # fmt: skip
    print(f"observed: {int((f1 < 0.60).sum())} below 0.60; if every set's true F1 were {pooled:.3f}, sampling alone "
          f"puts {np.mean(below):.1f} below (90% of draws {np.percentile(below, 5):.0f}-"
          f"{np.percentile(below, 95):.0f})")  # fmt: skip
    print(f"trained minus rules: pooled {pooled_diff:+.3f}, sampling SD within a set {np.mean(sd_diff):.3f}; observed "
          f"{int((diff <= 0).sum())} behind; sampling alone puts {np.mean(behind):.1f} behind "
          f"(90% of draws {np.percentile(behind, 5):.0f}-{np.percentile(behind, 95):.0f})")  # fmt: skip
    for target in (0.70, 0.75, 0.80):
        print(f"  if every set's true F1 were {target:.2f}: {expected_below(trained, target, rng):.2f} of "
              f"{len(SETS)} below 0.60 on average")  # fmt: skip


def expected_below(trained: dict[str, dict[str, float]], target: float, rng: np.random.Generator) -> float:
    """Expected number of sets below 0.60 if each set's true F1 were `target` (its own spread kept)."""
    total = 0.0
    for scores in trained.values():
        t = np.array(list(scores.values()))
        draws = (t[rng.integers(0, len(t), size=(1000, len(t)))] - t.mean() + target).mean(axis=1)
        total += float((draws < 0.60).mean())
    return total


if __name__ == "__main__":
    main()
