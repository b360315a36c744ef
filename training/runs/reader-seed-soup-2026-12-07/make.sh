#!/usr/bin/env bash
# PLAN.md's candidate: the chat-turn fine-tune again from the same start with seed 23
# (training/reader-follow-ups-seed2.toml), averaged 50/50 with the shipped news reader (its seed-19 twin), then
# calibrated as scripts/train-reader calibrates the news reader. Output: var/reader-seed-soup (model +
# calibration.json). Usage: make.sh train|soup
set -euo pipefail
cd "$(dirname "$0")/../../.."
export HF_HUB_OFFLINE=1
case "${1:?train or soup}" in
  train)
    # the start both ingredients share: the news reader before the chat-turn fine-tune (8fd183b replaced it)
    rm -rf var/reader-news-prev && mkdir -p var/reader-news-prev
    for f in calibration.json config.json model.safetensors tokenizer.json tokenizer_config.json training.json README.md; do
      git show "8fd183b^:models/reader-news/$f" > "var/reader-news-prev/$f"
    done
    .venv/bin/qa reader train --config training/reader-follow-ups-seed2.toml --base-model var/reader-news-prev \
      --out var/reader-seed2 --max-minutes 50 ;;
  soup)
    rm -rf var/reader-seed-soup
    .venv/bin/qa reader merge models/reader-news var/reader-seed2/model --weight 0.5 --to var/reader-seed-soup
    export QA_READER_RUNTIME=torch
    export QA_READER_PASSAGES=2
    QA_MODEL_PATH=$(.venv/bin/python -c "from index.embedding import packaged_model_path; print(packaged_model_path())")
    export QA_MODEL_PATH
    .venv/bin/qa reader calibrate --config training/reader-news2.toml --reader-model var/reader-seed-soup \
      --threshold-gold gold/seed.jsonl --threshold-gold gold/heldout.jsonl --threshold-gold gold/blind18.jsonl \
      --threshold-gold gold/blind19.jsonl --work-dir var/reader-calibrate-seed-soup ;;
  *) echo "train or soup" >&2; exit 2 ;;
esac
