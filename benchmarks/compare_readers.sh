#!/usr/bin/env bash
# Every gold set and the public SQuAD subset (open corpus and given its paragraph), scored with each reader
# at its own calibrated threshold for the set's corpus style (news; SQuAD: encyclopaedia); then one
# side-by-side table (benchmarks/reader_table.py). "trained" is each style's shipped reader (news: models/reader-news,
# SQuAD: models/reader) unless QA_READER_MODEL names one folder for all.
# Usage: benchmarks/compare_readers.sh [set ...]   (sets: NAME for gold/NAME.jsonl, squad, squad-given; default:
# every gold set in gold/, then squad and squad-given)
# CANDIDATE=FOLDER adds a third reader, "candidate": a trained model folder (with its calibration.json) to
# compare with the shipped one; READERS="trained candidate" picks which readers run (default: all).
set -euo pipefail
if [ -n "${CANDIDATE:-}" ]; then
  case "$CANDIDATE" in /*) ;; *) CANDIDATE="$PWD/$CANDIDATE" ;; esac  # relative to where it is run from
  [ -f "$CANDIDATE/model.safetensors" ] && [ -f "$CANDIDATE/calibration.json" ] \
    || { echo "CANDIDATE=$CANDIDATE: no model.safetensors and calibration.json there" >&2; exit 2; }
fi
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1
sets=("$@")
if [ ${#sets[@]} -eq 0 ]; then  # every gold file, so a set added later is never left out of "every set"
  while read -r f; do sets+=("$(basename "$f" .jsonl)"); done < <(ls gold/*.jsonl | sort -V)
  sets+=(squad squad-given)
fi
default_readers="trained rules${CANDIDATE:+ candidate}"
read -r -a readers <<< "${READERS:-$default_readers}"
[ ${#readers[@]} -gt 0 ] || { echo "READERS names no reader" >&2; exit 2; }
for reader in "${readers[@]}"; do
  case "$reader" in
    trained|rules) ;;
    candidate) [ -n "${CANDIDATE:-}" ] || { echo "READERS has candidate: set CANDIDATE=model folder" >&2; exit 2; } ;;
    *) echo "unknown reader $reader (trained, rules, candidate)" >&2; exit 2 ;;
  esac
done
for reader in "${readers[@]}"; do
  case "$reader" in
    candidate) rargs=(--reader trained --reader-model "$CANDIDATE") ;;
    *) rargs=(--reader "$reader") ;;
  esac
  for s in "${sets[@]}"; do
    case "$s" in
      # SQuAD's articles are Wikipedia's: the encyclopaedia style's threshold; the gold sets are news
      squad) args=(--gold ../shared/bench/squad2-dev-public.json --corpus-style encyclopaedia) ;;
      squad-given) args=(--gold ../shared/bench/squad2-dev-public.json --given-paragraph --corpus-style encyclopaedia) ;;
      *) args=(--gold "gold/$s.jsonl" --corpus-style news) ;;
    esac
    echo "== $reader $s" >&2
    .venv/bin/qa eval "${args[@]}" "${rargs[@]}" --no-progress --out "var/eval/readers/$reader-$s" >/dev/null
    # which model a "candidate" row is: the table warns when its rows come from different folders
    if [ "$reader" = candidate ]; then echo "$CANDIDATE" > "var/eval/readers/$reader-$s/model.txt"; fi
  done
done
.venv/bin/python benchmarks/reader_table.py var/eval/readers
