#!/usr/bin/env bash
# The candidate of PLAN.md: the shipped news reader's weights with the threshold chosen on eight development gold
# sets (seed, heldout, blind18, blind19, dev44-47), calibrated as scripts/train-reader calibrates the news reader.
# Output: var/reader-news-dev8 (model + calibration.json).
set -euo pipefail
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
rm -rf var/reader-news-dev8
cp -r models/reader-news var/reader-news-dev8
export QA_READER_RUNTIME=torch
export QA_READER_PASSAGES=2
QA_MODEL_PATH=$(.venv/bin/python -c "from index.embedding import packaged_model_path; print(packaged_model_path())")
export QA_MODEL_PATH
gold=()
for g in seed heldout blind18 blind19 dev44 dev45 dev46 dev47; do gold+=(--threshold-gold "gold/$g.jsonl"); done
.venv/bin/qa reader calibrate --config training/reader-news2.toml --reader-model var/reader-news-dev8 "${gold[@]}" \
  --work-dir var/reader-calibrate-dev8
