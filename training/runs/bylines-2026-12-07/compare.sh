#!/usr/bin/env bash
# The shipped system ("shipped": 3436b03's code in a git worktree at /tmp/bylines-shipped, its own index, the
# shipped weights) and PLAN.md's candidate ("candidate": this commit's code, its index, the news reader
# var/reader-bylines/model) on the news gold sets, int8 as served, news style. The shipped rows of the older sets
# were run at the same weights and code in the eighteenth session (var/eval/soup-thr/shipped-SET, this machine's
# kind) and are copied, not run again. Output: var/eval/bylines/{shipped,candidate}-SET.
set -euo pipefail
cd "$(dirname "$0")/../../.."
sets=("$@"); [ ${#sets[@]} -gt 0 ] || sets=(blind72 blind73 blind74 blind75 blind blind2 blind3 blind4 blind5 blind6
  blind7 blind8 blind9 blind10 blind11 blind12 blind13 blind14 blind15 blind16 blind17 blind20 blind21 blind22
  blind23 blind24 blind25 blind26 blind27 blind28 blind29 blind30 blind31 blind32 blind33 blind34 blind35 blind36
  blind37 blind38 blind39 blind40 blind41 blind42 blind43 blind48 blind49 blind50 blind51 blind52 blind53 blind54
  blind55 blind56 blind57 blind58 blind59 blind60 blind61 blind62 blind63 blind64 blind65 blind66 blind67 blind68
  blind69 blind70 blind71 seed heldout blind18 blind19)
export HF_HUB_OFFLINE=1
r=$PWD/var/eval/bylines
here=$PWD
mkdir -p "$r"
if [ ! -d /tmp/bylines-shipped ]; then
  git worktree add -f /tmp/bylines-shipped 3436b03 >/dev/null
  ln -s "$here/.venv" /tmp/bylines-shipped/.venv
  rm -rf /tmp/bylines-shipped/models && ln -s "$here/models" /tmp/bylines-shipped/models
  (cd /tmp/bylines-shipped && PYTHONPATH=/tmp/bylines-shipped .venv/bin/python -m qa.cli index build --corpus corpus \
    --out var/index --no-progress >/dev/null)
fi
for s in "${sets[@]}"; do
  for who in shipped candidate; do
    out=$r/$who-$s
    [ -f "$out/results.json" ] && continue
    if [ $who = shipped ] && [ -f "var/eval/soup-thr/shipped-$s/results.json" ]; then
      cp -r "var/eval/soup-thr/shipped-$s" "$out" && continue
    fi
    if [ $who = shipped ]; then
      (cd /tmp/bylines-shipped && PYTHONPATH=/tmp/bylines-shipped .venv/bin/python -m qa.cli eval --gold "gold/$s.jsonl" \
        --corpus-style news --reader trained --no-progress --out "$out" >/dev/null)
    else
      .venv/bin/qa eval --gold "gold/$s.jsonl" --corpus-style news --reader trained \
        --reader-model var/reader-bylines/model --no-progress --out "$out" >/dev/null
    fi
  done
done
.venv/bin/python benchmarks/reader_table.py "$r"
