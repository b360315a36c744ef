#!/usr/bin/env bash
# PLAN.md's candidate: the sixteenth session's paraphrase fine-tune with its own calibration
# (var/reader-paraphrase-cand, training/runs/paraphrase-2026-12-07/make.sh) and the shipped news threshold.
# Output: var/reader-parathr-cand.
set -euo pipefail
cd "$(dirname "$0")/../../.."
rm -rf var/reader-parathr-cand
cp -r var/reader-paraphrase-cand var/reader-parathr-cand
.venv/bin/python - <<'PY'
import json
from pathlib import Path

shipped = json.loads(Path("models/reader-news/calibration.json").read_text())
path = Path("var/reader-parathr-cand/calibration.json")
cal = json.loads(path.read_text())
cal["thresholds"]["news"] = shipped["thresholds"]["news"]
cal["threshold_chosen_on"]["news"] = ["the shipped news reader's threshold (training/runs/paraphrase-threshold-2026-12-07)"]
cal["f1_at_threshold"].pop("news", None)
path.write_text(json.dumps(cal, indent=1) + "\n")
print("news threshold", cal["thresholds"]["news"])
PY
