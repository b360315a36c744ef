#!/usr/bin/env bash
# PLAN.md's candidate: training/reader-careful2.toml (the careful-reading fine-tune with twice the retrieved
# negatives), calibrated as scripts/train-reader calibrates the news reader.
# Output: var/reader-careful2/model (+ calibration.json). Usage: make.sh train|calibrate
set -euo pipefail
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
case "${1:?train or calibrate}" in
  train) .venv/bin/qa reader train --config training/reader-careful2.toml --out var/reader-careful2 --max-minutes 50 ;;
  calibrate)
    export QA_READER_RUNTIME=torch
    export QA_READER_PASSAGES=2
    QA_MODEL_PATH=$(.venv/bin/python -c "from index.embedding import packaged_model_path; print(packaged_model_path())")
    export QA_MODEL_PATH
    .venv/bin/qa reader calibrate --config training/reader-news2.toml --reader-model var/reader-careful2/model \
      --threshold-gold gold/seed.jsonl --threshold-gold gold/heldout.jsonl --threshold-gold gold/blind18.jsonl \
      --threshold-gold gold/blind19.jsonl --work-dir var/reader-calibrate-careful2 ;;
  *) echo "train or calibrate" >&2; exit 2 ;;
esac
