#!/usr/bin/env bash
# The candidate of this plan (PLAN.md): the shipped news reader fine-tuned on the quote and paraphrase questions
# (training/reader-quotes.toml), or, if its dev best F1 is more than 0.01 below the shipped reader's on the same
# split (shipped-dev.txt), its weight average with the shipped reader; then calibrated exactly as
# scripts/train-reader calibrates the news reader. Output: var/reader-quotes-cand (model + calibration.json).
# Usage: make.sh [finetune|merge]  (which candidate; PLAN.md's dev rule picks it)
set -euo pipefail
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
rm -rf var/reader-quotes-cand
case "${1:?finetune or merge}" in
  finetune) cp -r var/reader-quotes/model var/reader-quotes-cand ;;
  merge) .venv/bin/qa reader merge models/reader-news var/reader-quotes/model --weight 0.5 --to var/reader-quotes-cand ;;
  *) echo "finetune or merge" >&2; exit 2 ;;
esac
export QA_READER_RUNTIME=torch
export QA_READER_PASSAGES=2  # as scripts/train-reader: the shipped calibrations were fitted reading two passages
QA_MODEL_PATH=$(.venv/bin/python -c "from index.embedding import packaged_model_path; print(packaged_model_path())")
export QA_MODEL_PATH
.venv/bin/qa reader calibrate --config training/reader-news2.toml --reader-model var/reader-quotes-cand \
  --threshold-gold gold/seed.jsonl --threshold-gold gold/heldout.jsonl --threshold-gold gold/blind18.jsonl \
  --threshold-gold gold/blind19.jsonl --work-dir var/reader-calibrate-quotes
