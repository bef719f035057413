#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Regenerates tests/data/tokenizers/spm-tiny/: a tiny SentencePiece BPE model (byte fallback,
# identity normalization, as LLaMA's tokenizer.model) trained on golden_strings.json, and
# goldens.jsonl with the ids spm_encode gives (no BOS/EOS) for single-line strings.
# Needs Debian's `sentencepiece` package (spm_train, spm_encode) and python3.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/../data/tokenizers/spm-tiny
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# Corpus: every golden string, newlines folded into spaces; test lines: the single-line ones.
python3 - "$here/golden_strings.json" "$work" <<'PY'
import json, sys
strings = json.load(open(sys.argv[1], encoding="utf-8"))["strings"]
with open(sys.argv[2] + "/corpus.txt", "w", encoding="utf-8") as f:
    for s in strings:
        line = " ".join(s.split())
        if line:
            f.write(line + "\n")
with open(sys.argv[2] + "/lines.txt", "w", encoding="utf-8") as f:
    for s in strings:
        if s and "\n" not in s and "\r" not in s and s == " ".join(s.split()) and \
                "<s>" not in s and "</s>" not in s and "<unk>" not in s and "\x00" not in s:
            f.write(s + "\n")
PY

# Relative paths: the model records them, and the output should not depend on mktemp's name.
(cd "$work" && spm_train --input=corpus.txt --model_prefix=tokenizer --model_type=bpe \
  --vocab_size=1000 --hard_vocab_limit=false --byte_fallback=true --character_coverage=0.98 \
  --normalization_rule_name=identity --split_digits=true --add_dummy_prefix=true \
  --allow_whitespace_only_pieces=true --remove_extra_whitespaces=false \
  --num_threads=1 --minloglevel=2 >train.log 2>&1) || { cat "$work/train.log"; exit 1; }
spm_encode --model="$work/tokenizer.model" --output_format=id <"$work/lines.txt" >"$work/ids.txt"
spm_encode --model="$work/tokenizer.model" --output_format=piece <"$work/lines.txt" \
  >"$work/pieces.txt"

cp "$work/tokenizer.model" "$out/tokenizer.model"
python3 - "$work" "$out/goldens.jsonl" <<'PY'
import json, sys
work, dest = sys.argv[1], sys.argv[2]
lines = open(work + "/lines.txt", encoding="utf-8").read().split("\n")[:-1]
ids = open(work + "/ids.txt", encoding="utf-8").read().split("\n")[:-1]
pieces = open(work + "/pieces.txt", encoding="utf-8").read().split("\n")[:-1]
assert len(lines) == len(ids) == len(pieces), (len(lines), len(ids), len(pieces))
with open(dest, "w", encoding="utf-8") as f:
    for text, row, row_pieces in zip(lines, ids, pieces):
        f.write(json.dumps({"text": text, "ids": [int(x) for x in row.split()],
                            "pieces": row_pieces.split(" ")}, ensure_ascii=False) + "\n")
print(f"spm-tiny: {len(lines)} goldens")
PY
