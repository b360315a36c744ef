#!/usr/bin/env bash
# PLAN.md's candidate: the seed soup of training/runs/reader-seed-soup-2026-12-07 (make.sh there: `train`, then
# `soup`, which leaves var/reader-seed-soup), calibrated again as scripts/train-reader calibrates the news reader
# but with its news threshold chosen on the eight development sets (seed, heldout, blind18, blind19, dev44-47)
# instead of four. Output: var/reader-soup-thr (model + calibration.json).
set -euo pipefail
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
rm -rf var/reader-soup-thr
cp -r var/reader-seed-soup var/reader-soup-thr
export QA_READER_RUNTIME=torch
export QA_READER_PASSAGES=2
QA_MODEL_PATH=$(.venv/bin/python -c "from index.embedding import packaged_model_path; print(packaged_model_path())")
export QA_MODEL_PATH
gold=()
for s in seed heldout blind18 blind19 dev44 dev45 dev46 dev47; do gold+=(--threshold-gold "gold/$s.jsonl"); done
.venv/bin/qa reader calibrate --config training/reader-news2.toml --reader-model var/reader-soup-thr "${gold[@]}" \
  --work-dir var/reader-calibrate-soup-thr
