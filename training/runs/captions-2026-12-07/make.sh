#!/usr/bin/env bash
# PLAN.md's candidate: the shipped news reader fine-tuned to read photo credits (training/reader-captions.toml, data
# from training/captions.py), then calibrated as scripts/train-reader calibrates the news reader, with the index
# code of this commit (credit lines kept). Output: var/reader-captions/model (+ calibration.json).
# Usage: make.sh train|calibrate
set -euo pipefail
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
case "${1:?train or calibrate}" in
  train)
    .venv/bin/python training/captions.py
    .venv/bin/qa reader train --config training/reader-captions.toml --out var/reader-captions --max-minutes 40 ;;
  calibrate)
    export QA_READER_RUNTIME=torch
    export QA_READER_PASSAGES=2
    QA_MODEL_PATH=$(.venv/bin/python -c "from index.embedding import packaged_model_path; print(packaged_model_path())")
    export QA_MODEL_PATH
    .venv/bin/qa reader calibrate --config training/reader-news2.toml --reader-model var/reader-captions/model \
      --threshold-gold gold/seed.jsonl --threshold-gold gold/heldout.jsonl --threshold-gold gold/blind18.jsonl \
      --threshold-gold gold/blind19.jsonl --work-dir var/reader-calibrate-captions ;;
  *) echo "train or calibrate" >&2; exit 2 ;;
esac
