#!/usr/bin/env bash
# The shipped system ("shipped": d92a9b3's code in a git worktree at /tmp/captions-shipped, its own index, the
# shipped weights) and PLAN.md's candidate ("candidate": this commit's code, its index, the news reader
# var/reader-captions/model) on the news gold sets, int8 as served, news style. The shipped rows of the older sets
# are the bylines plan's candidate rows (var/eval/bylines/candidate-SET: the same code and weights, this machine),
# copied, not run again. Output: var/eval/captions/{shipped,candidate}-SET.
set -euo pipefail
cd "$(dirname "$0")/../../.."
sets=("$@"); [ ${#sets[@]} -gt 0 ] || sets=(blind76 blind77 blind78 blind79 blind blind2 blind3 blind4 blind5 blind6
  blind7 blind8 blind9 blind10 blind11 blind12 blind13 blind14 blind15 blind16 blind17 blind20 blind21 blind22
  blind23 blind24 blind25 blind26 blind27 blind28 blind29 blind30 blind31 blind32 blind33 blind34 blind35 blind36
  blind37 blind38 blind39 blind40 blind41 blind42 blind43 blind48 blind49 blind50 blind51 blind52 blind53 blind54
  blind55 blind56 blind57 blind58 blind59 blind60 blind61 blind62 blind63 blind64 blind65 blind66 blind67 blind68
  blind69 blind70 blind71 blind72 blind73 blind74 blind75 seed heldout blind18 blind19)
export HF_HUB_OFFLINE=1
r=$PWD/var/eval/captions
here=$PWD
mkdir -p "$r"
if [ ! -d /tmp/captions-shipped ]; then
  git worktree add -f /tmp/captions-shipped d92a9b3 >/dev/null
  ln -s "$here/.venv" /tmp/captions-shipped/.venv
  rm -rf /tmp/captions-shipped/models && ln -s "$here/models" /tmp/captions-shipped/models
  (cd /tmp/captions-shipped && PYTHONPATH=/tmp/captions-shipped .venv/bin/python -m qa.cli index build --corpus corpus \
    --out var/index --no-progress >/dev/null)
fi
for s in "${sets[@]}"; do
  for who in shipped candidate; do
    out=$r/$who-$s
    [ -f "$out/results.json" ] && continue
    if [ $who = shipped ] && [ -f "var/eval/bylines/candidate-$s/results.json" ]; then
      cp -r "var/eval/bylines/candidate-$s" "$out" && continue
    fi
    if [ $who = shipped ]; then
      (cd /tmp/captions-shipped && PYTHONPATH=/tmp/captions-shipped .venv/bin/python -m qa.cli eval --gold "gold/$s.jsonl" \
        --corpus-style news --reader trained --no-progress --out "$out" >/dev/null)
    else
      .venv/bin/qa eval --gold "gold/$s.jsonl" --corpus-style news --reader trained \
        --reader-model var/reader-captions/model --no-progress --out "$out" >/dev/null
    fi
  done
done
.venv/bin/python benchmarks/reader_table.py "$r"
