#!/usr/bin/env bash
# PLAN.md's candidate: the shipped news reader fine-tuned on the careful-reading questions (training/careful/,
# converted by training/news_to_squad.py; training/reader-careful.toml), or its weight average with the shipped
# reader (PLAN.md's dev rule picks); calibrated as scripts/train-reader calibrates the news reader.
# Output: var/reader-careful/model (the fine-tune), var/reader-careful-cand (the candidate + calibration.json).
# Usage: make.sh train | finetune | merge   (train, then one of the other two)
set -euo pipefail
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
case "${1:?train, finetune or merge}" in
  train)
    .venv/bin/python training/news_to_squad.py training/careful
    .venv/bin/qa reader train --config training/reader-careful.toml --out var/reader-careful --max-minutes 50
    exit 0 ;;
  finetune) rm -rf var/reader-careful-cand && cp -r var/reader-careful/model var/reader-careful-cand ;;
  merge) rm -rf var/reader-careful-cand && .venv/bin/qa reader merge models/reader-news var/reader-careful/model \
    --weight 0.5 --to var/reader-careful-cand ;;
  *) echo "train, finetune or merge" >&2; exit 2 ;;
esac
export QA_READER_RUNTIME=torch
export QA_READER_PASSAGES=2
QA_MODEL_PATH=$(.venv/bin/python -c "from index.embedding import packaged_model_path; print(packaged_model_path())")
export QA_MODEL_PATH
.venv/bin/qa reader calibrate --config training/reader-news2.toml --reader-model var/reader-careful-cand \
  --threshold-gold gold/seed.jsonl --threshold-gold gold/heldout.jsonl --threshold-gold gold/blind18.jsonl \
  --threshold-gold gold/blind19.jsonl --work-dir var/reader-calibrate-careful
