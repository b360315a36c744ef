#!/usr/bin/env bash
# The candidate of this plan: the third ingredient's reader (var/reader-news4/model, `qa reader train --config
# training/reader-news4.toml --out var/reader-news4`) averaged into the shipped news soup at 1/3, then calibrated
# exactly as scripts/train-reader calibrates the news reader. Output: var/reader-soup3full (model + calibration.json).
set -euo pipefail
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
.venv/bin/qa reader merge models/reader-news var/reader-news4/model --weight 0.333333 --to var/reader-soup3full
export QA_READER_RUNTIME=torch
QA_MODEL_PATH=$(.venv/bin/python -c "from index.embedding import packaged_model_path; print(packaged_model_path())")
export QA_MODEL_PATH
.venv/bin/qa reader calibrate --config training/reader-news2.toml --reader-model var/reader-soup3full \
  --threshold-gold gold/seed.jsonl --threshold-gold gold/heldout.jsonl --threshold-gold gold/blind18.jsonl \
  --threshold-gold gold/blind19.jsonl --work-dir var/reader-calibrate-soup3full
