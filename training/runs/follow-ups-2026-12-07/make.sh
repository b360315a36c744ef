#!/usr/bin/env bash
# The candidate of PLAN.md: the shipped news reader fine-tuned on training/follow-ups (training/reader-follow-ups.toml),
# or its weight average with the shipped reader (PLAN.md's dev rule picks); calibrated as scripts/train-reader
# calibrates the news reader. Output: var/reader-follow-ups-cand (model + calibration.json).
# Usage: make.sh finetune|merge
set -euo pipefail
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
rm -rf var/reader-follow-ups-cand
case "${1:?finetune or merge}" in
  finetune) cp -r var/reader-follow-ups/model var/reader-follow-ups-cand ;;
  merge) .venv/bin/qa reader merge models/reader-news var/reader-follow-ups/model --weight 0.5 \
    --to var/reader-follow-ups-cand ;;
  *) echo "finetune or merge" >&2; exit 2 ;;
esac
export QA_READER_RUNTIME=torch
export QA_READER_PASSAGES=2
QA_MODEL_PATH=$(.venv/bin/python -c "from index.embedding import packaged_model_path; print(packaged_model_path())")
export QA_MODEL_PATH
.venv/bin/qa reader calibrate --config training/reader-news2.toml --reader-model var/reader-follow-ups-cand \
  --threshold-gold gold/seed.jsonl --threshold-gold gold/heldout.jsonl --threshold-gold gold/blind18.jsonl \
  --threshold-gold gold/blind19.jsonl --work-dir var/reader-calibrate-follow-ups
