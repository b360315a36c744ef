#!/usr/bin/env bash
# Plan 1 candidate: both readers recalibrated with the shipped retrieval model (models/embedder), torch outputs as before
set -euo pipefail
cd /work/main
export HF_HUB_OFFLINE=1 QA_READER_RUNTIME=torch
.venv/bin/qa index build --corpus corpus --out var/index --no-progress
.venv/bin/qa reader calibrate --config training/reader-news2.toml --reader-model var/cand/reader-news \
  --threshold-gold gold/seed.jsonl --threshold-gold gold/heldout.jsonl --threshold-gold gold/blind18.jsonl \
  --threshold-gold gold/blind19.jsonl --work-dir var/cand/calibrate-news
.venv/bin/qa reader calibrate --config training/reader.toml --reader-model var/cand/reader \
  --threshold-gold gold/seed.jsonl --threshold-gold gold/heldout.jsonl --work-dir var/cand/calibrate1
echo CALIBRATED
