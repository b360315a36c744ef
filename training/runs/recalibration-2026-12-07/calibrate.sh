#!/usr/bin/env bash
# Plan 1 candidate: copies of both shipped readers (var/cand/reader-news, var/cand/reader) recalibrated with the
# shipped retrieval model (models/embedder, the default), torch outputs as the shipped calibrations were fitted.
set -euo pipefail
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1 QA_READER_RUNTIME=torch
mkdir -p var/cand
for m in reader-news reader; do rm -rf "var/cand/$m"; cp -r "models/$m" "var/cand/$m"; done
.venv/bin/qa index build --corpus corpus --out var/index --no-progress
.venv/bin/qa reader calibrate --config training/reader-news2.toml --reader-model var/cand/reader-news \
  --threshold-gold gold/seed.jsonl --threshold-gold gold/heldout.jsonl --threshold-gold gold/blind18.jsonl \
  --threshold-gold gold/blind19.jsonl --work-dir var/cand/calibrate-news
.venv/bin/qa reader calibrate --config training/reader.toml --reader-model var/cand/reader \
  --threshold-gold gold/seed.jsonl --threshold-gold gold/heldout.jsonl --work-dir var/cand/calibrate1
echo CALIBRATED
