# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the bad inputs of the corpus under $F (sourced by run_badinput.sh): one fx_* per group.
# Needs $APP, $DATA (tests/data) and $F; bash and coreutils only. Big or deep inputs are made here.

fx_die() { echo "fixture error: $*" >&2; exit 99; }
# rep N TEXT: TEXT repeated N times (no argv limit: printf is a builtin).
rep() {
  if [ ${#2} = 1 ]; then printf "%${1}s" '' | tr ' ' "$2"; return; fi
  local i; for ((i = 0; i < $1; i++)); do printf '%s' "$2"; done
}
# le64 N: N as 8 little-endian bytes (the safetensors header length).
le64() {
  local n=$1 i s=''
  for i in 0 1 2 3 4 5 6 7; do s+=$(printf '\\x%02x' $(((n >> (8 * i)) & 255))); done
  printf "$s"
}

# Shared by every group: deep texts, a regular file used as a folder, an empty folder.
fx_common() {
  mkdir -p "$F/common/emptydir"
  rep 70000 '[' >"$F/common/open70k.txt"
  { rep 70000 '['; rep 70000 ']'; } >"$F/common/deep70k.json"
  { rep 30000 "["; rep 30000 "]"; } >"$F/common/deep30k.json"  # fits in one argv string (128 KiB)
  echo "not a folder" >"$F/common/afile"
}

# cfgvar NAME SED: tiny-random.json edited by SED into $F/cfg/NAME.json; in the result @OPEN@ and
# @CLOSE@ become 70,000 '[' and ']', @OBJ@ and @OBJEND@ 100 nested {"a": and }.
cfgvar() {
  local out=$F/cfg/$1.json text
  text=$(sed -e "$2" "$BASE")
  [ "$text" != "$(cat "$BASE")" ] || fx_die "cfgvar $1: '$2' changed nothing"
  text=${text//@OPEN@/$(rep 70000 '[')}
  text=${text//@CLOSE@/$(rep 70000 ']')}
  text=${text//@OBJ@/$(rep 100 '{"a": ')}
  text=${text//@OBJEND@/$(rep 100 '}')}
  printf '%s\n' "$text" >"$out"
}

fx_config() {
  BASE=$DATA/cli/tiny-random.json
  mkdir -p "$F/cfg"
  head -c 300 "$BASE" >"$F/cfg/truncated.json"
  { cat "$BASE"; echo '} trailing'; } >"$F/cfg/trailing.json"
  : >"$F/cfg/empty.json"
  echo '[1, 2, 3]' >"$F/cfg/array.json"
  printf '\x00\x01\xff\xfe binary \x00' >"$F/cfg/binary.json"
  printf '\xef\xbb\xbf{"name": "bom"' >"$F/cfg/bom_truncated.json"
  { printf '{"name": "big", "description": "'; head -c 17000000 /dev/zero | tr '\0' x; echo '"}'; } \
    >"$F/cfg/oversized.json"
  cfgvar deep_backbone 's/"config": {"architectures".*$/"config": @OPEN@/'
  cfgvar deep_r_balanced 's/"r": 4,/"r": @OPEN@@CLOSE@,/'
  cfgvar deep_objects 's/"seed": 3/"seed": @OBJ@1@OBJEND@/'
  cfgvar deep_epl 's/"experts_per_layer": \[2, 4\]/"experts_per_layer": [2, @OPEN@/'
  cfgvar epl_overflow 's/"experts_per_layer": \[2, 4\]/"experts_per_layer": [4294967298, 4]/'
  cfgvar epl_negative 's/"experts_per_layer": \[2, 4\]/"experts_per_layer": [2, -4]/'
  cfgvar epl_zero 's/"experts_per_layer": \[2, 4\]/"experts_per_layer": [0, 4]/'
  cfgvar epl_length 's/"experts_per_layer": \[2, 4\]/"experts_per_layer": [2, 4, 4]/'
  cfgvar epl_string 's/"experts_per_layer": \[2, 4\]/"experts_per_layer": "2,4"/'
  cfgvar epl_fraction 's/"experts_per_layer": \[2, 4\]/"experts_per_layer": [2.5, 4]/'
  cfgvar steps_overflow 's/"steps": 3,/"steps": 4294967298,/'
  cfgvar steps_u64_overflow 's/"steps": 3,/"steps": 99999999999999999999999,/'
  cfgvar steps_negative 's/"steps": 3,/"steps": -3,/'
  cfgvar steps_zero 's/"steps": 3,/"steps": 0,/'
  cfgvar steps_string 's/"steps": 3,/"steps": "3",/'
  cfgvar steps_fraction 's/"steps": 3,/"steps": 3.5,/'
  cfgvar lr_1e999 's/"warmup_steps": 1}/"warmup_steps": 1, "lr": 1e999}/'
  cfgvar lr_negative 's/"warmup_steps": 1}/"warmup_steps": 1, "lr": -0.001}/'
  cfgvar lr_nan 's/"warmup_steps": 1}/"warmup_steps": 1, "lr": NaN}/'
  cfgvar dup_steps 's/"steps": 3,/"steps": 3, "steps": 5,/'
  cfgvar dup_top 's/"seed": 3/"seed": 3, "seed": 4/'
  cfgvar dup_adapters 's/"seed": 3/"seed": 3, "adapters": {"method": "lora"}/'
  cfgvar adapters_array 's/"adapters": {.*},$/"adapters": [],/'
  cfgvar ckpt_bool 's/"warmup_steps": 1}/"warmup_steps": 1, "gradient_checkpointing": "yes"}/'
  cfgvar method_number 's/"method": "moe_lora"/"method": 5/'
  cfgvar unknown_top 's/"seed": 3/"seed": 3, "sede": 4/'
  cfgvar unknown_train 's/"warmup_steps": 1}/"warmup_steps": 1, "stpes": 4}/'
  cfgvar unknown_method 's/"method": "moe_lora"/"method": "moe_lorax"/'
  cfgvar mbs_zero 's/"micro_batch_size": 4,/"micro_batch_size": 0,/'
  cfgvar mbs_huge 's/"micro_batch_size": 4,/"micro_batch_size": 2000000000,/'
  cfgvar mbs_overflow 's/"micro_batch_size": 4,/"micro_batch_size": 4294967300,/'
  cfgvar examples_huge 's/"train_examples": 64,/"train_examples": 2000000000,/'
  cfgvar eval_examples_negative 's/"eval_examples": 12,/"eval_examples": -12,/'
  cfgvar seq_huge 's/"max_seq_len": 64}/"max_seq_len": 2147483647}/'
  cfgvar seq_zero 's/"max_seq_len": 64}/"max_seq_len": 0}/'
  cfgvar r_negative 's/"r": 4,/"r": -4,/'
  cfgvar r_zero 's/"r": 4,/"r": 0,/'
  cfgvar r_overflow 's/"r": 4,/"r": 4294967298,/'
  cfgvar topk_zero 's/"top_k": 2}/"top_k": 0}/'
  cfgvar log_every_zero 's/"log_every": 1,/"log_every": 0,/'
  cfgvar grad_accum_huge 's/"warmup_steps": 1}/"warmup_steps": 1, "grad_accum": 2000000000}/'
  cfgvar dtype_float8 's/"warmup_steps": 1}/"warmup_steps": 1, "dtype": "float8"}/'
  cfgvar device_tpu 's/"warmup_steps": 1}/"warmup_steps": 1, "device": "tpu"}/'
  cfgvar seed_negative 's/"seed": 3/"seed": -3/'
  cfgvar seed_2p64 's/"seed": 3/"seed": 18446744073709551616/'
  cfgvar epochs_negative 's/"warmup_steps": 1}/"warmup_steps": 1, "epochs": -1}/'
  cfgvar bb_hidden_huge 's/"hidden_size": 32,/"hidden_size": 1000000000,/'
  cfgvar bb_layers_overflow 's/"num_hidden_layers": 2,/"num_hidden_layers": 4294967298,/'
  cfgvar bb_heads_indivisible 's/"num_attention_heads": 4,/"num_attention_heads": 5,/'
  cfgvar bb_vocab_zero 's/"vocab_size": 260,/"vocab_size": 0,/'
  cfgvar bb_maxpos_small 's/"max_position_embeddings": 128,/"max_position_embeddings": 32,/'
  cfgvar bb_rope_negative 's/"rope_theta": 10000.0}/"rope_theta": -1.0}/'
  cfgvar bb_dtype_float8 's/"rope_theta": 10000.0}/"rope_theta": 10000.0, "torch_dtype": "float8"}/'
  cfgvar bb_deep_rope_scaling 's/"rope_theta": 10000.0}/"rope_theta": 10000.0, "rope_scaling": @OBJ@1@OBJEND@}/'
  sed -e 's/"output": "backbones\/cli-tiny"/"output": "afile\/model"/' \
    "$DATA/cli/tiny-pretrain.json" >"$F/cfg/pretrain_output_under_file.json"
  cp "$F/common/afile" "$F/cfg/afile"
}

# The model group: a real tiny HF folder (`apportion pretrain`), then broken copies under $F/m.
fx_model() {
  mkdir -p "$F/pre" "$F/m"
  "$APP" pretrain "$DATA/cli/tiny-pretrain.json" --db "$F/pre/ws.sqlite" --threads 1 \
    --progress none >"$F/pre/log" 2>&1 || fx_die "pretrain: $(tail -n 3 "$F/pre/log")"
  GOOD=$F/pre/backbones/cli-tiny
  [ -f "$GOOD/model.safetensors" ] || fx_die "pretrain wrote no model.safetensors"
  ST_LEN=$(od -An -t u8 -N8 "$GOOD/model.safetensors" | tr -d ' ')
  ST_HEADER=$(head -c $((8 + ST_LEN)) "$GOOD/model.safetensors" | tail -c "$ST_LEN")
  tail -c +$((9 + ST_LEN)) "$GOOD/model.safetensors" >"$F/pre/data.bin"
  # config.json
  mvar cfg_missing_hidden 's/^ *"hidden_size": 32,$//'
  mvar cfg_float8 's/"torch_dtype": "float32"/"torch_dtype": "float8"/'
  mvar cfg_vocab_300 's/"vocab_size": 260/"vocab_size": 300/'
  mvar cfg_maxpos_32 's/"max_position_embeddings": 128/"max_position_embeddings": 32/'
  mvar cfg_dup_hidden 's/"hidden_size": 32,/"hidden_size": 32, "hidden_size": 64,/'
  mvar cfg_layers_string 's/"num_hidden_layers": 2,/"num_hidden_layers": "2",/'
  mvar cfg_layers_overflow 's/"num_hidden_layers": 2,/"num_hidden_layers": 4294967298,/'
  mvar cfg_hidden_negative 's/"hidden_size": 32,/"hidden_size": -32,/'
  mvar cfg_unknown_arch 's/"LlamaForCausalLM"/"FooForCausalLM"/'
  mvar cfg_heads_zero 's/"num_attention_heads": 4,/"num_attention_heads": 0,/'
  mvar cfg_bos_beyond 's/"bos_token_id": 257,/"bos_token_id": 4294967298,/'
  mvar cfg_deep 's/"rope_scaling": null,/"rope_scaling": @OPEN@@CLOSE@,/'
  mvar cfg_truncated ''
  head -c 200 "$GOOD/config.json" >"$F/m/cfg_truncated/config.json"
  mvar cfg_missing ''
  rm "$F/m/cfg_missing/config.json"
  mvar cfg_is_dir ''
  rm "$F/m/cfg_is_dir/config.json" && mkdir "$F/m/cfg_is_dir/config.json"
  # model.safetensors: same-length header edits keep every offset; others rewrite the length.
  stvar st_dup_name 's/"model.layers.1.mlp.up_proj.weight"/"model.layers.0.mlp.up_proj.weight"/'
  stvar st_gap 's/\[140800,140928\]/[140804,140932]/' 4
  stvar st_overlap 's/\[140800,140928\]/[140796,140924]/' -4
  stvar st_size_mismatch 's/"model.norm.weight":{"data_offsets":\[140800,140928\],"dtype":"F32","shape":\[32\]/"model.norm.weight":{"data_offsets":[140800,140928],"dtype":"F32","shape":[33]/'
  stvar st_bad_dtype 's/\[140800,140928\],"dtype":"F32"/[140800,140928],"dtype":"Q32"/'
  stvar st_reversed 's/\[140800,140928\]/[140928,140800]/'
  stvar st_negative 's/\[140800,140928\]/[-128,0]/'
  stvar st_offset_huge 's/\[140800,140928\]/[18446744073709551488,18446744073709551615]/'
  stvar st_shape_overflow 's/"shape":\[32\]}}/"shape":[4294967296,4294967296]}}/'
  stvar st_missing_tensor 's/"model.norm.weight"/"model.norm.weighx"/'
  stvar st_not_json 's/^{"__metadata__"/#"__metadata__"/'
  stvar st_truncated '' -100
  stvar st_trailing '' 100
  mvar st_empty ''
  : >"$F/m/st_empty/model.safetensors"
  mvar st_tiny ''
  printf '\x10\x00\x00\x00' >"$F/m/st_tiny/model.safetensors"
  mvar st_len_beyond ''
  { le64 1000000000; printf '%s' "$ST_HEADER"; cat "$F/pre/data.bin"; } >"$F/m/st_len_beyond/model.safetensors"
  mvar st_len_max ''
  { printf '\xff\xff\xff\xff\xff\xff\xff\x7f'; printf '%s' "$ST_HEADER"; } >"$F/m/st_len_max/model.safetensors"
  mvar st_deep_header ''
  { le64 140000; cat "$F/common/deep70k.json"; cat "$F/pre/data.bin"; } >"$F/m/st_deep_header/model.safetensors"
  mvar st_missing ''
  rm "$F/m/st_missing/model.safetensors"
  # tokenizer.json (a tiny valid BPE, then broken); tok_fits is valid and fits vocab_size 260.
  mkdir -p "$F/tok/valid"
  tokjson 6 >"$F/tok/valid/tokenizer.json"
  tokvar truncated "$(tokjson 6 | head -c 150)"
  tokvar empty ''
  tokvar not_json 'tokenizer, version 1'
  tokvar added_huge "$(tokjson 4294967298)"
  tokvar added_1e12 "$(tokjson 1000000000000)"
  tokvar added_negative "$(tokjson -1)"
  tokvar added_fraction "$(tokjson 6.5)"
  tokvar deep "$(tokjson 6 | sed 's/"normalizer":null/"normalizer":@OPEN@/')"
  tokvar model_string "$(tokjson 6 | sed 's/"model":{"type":"BPE",.*}}$/"model":"BPE"}/')"
  tokvar vocab_string_id "$(tokjson 6 | sed 's/"h":1,/"h":"1",/')"
  tokvar vocab_dup "$(tokjson 6 | sed 's/"h":1,/"h":1,"h":7,/')"
  tokvar vocab_negative "$(tokjson 6 | sed 's/"h":1,/"h":-1,/')"
  tokvar vocab_id_huge "$(tokjson 6 | sed 's/"h":1,/"h":4294967298,/')"
  tokvar model_unknown "$(tokjson 6 | sed 's/"type":"BPE"/"type":"Foo"/')"
  tokvar merges_unknown "$(tokjson 6 | sed 's/"merges":\["h e"\]/"merges":["q z"]/')"
  # the tokenizer against the model: ids beyond config.json's vocab_size 260
  mvar tok_fits ''
  cp "$F/tok/valid/tokenizer.json" "$F/m/tok_fits/"
  mvar tok_added_beyond_vocab ''
  tokjson 300 >"$F/m/tok_added_beyond_vocab/tokenizer.json"
  mvar tok_vocab_bigger ''
  tokjson_big 400 >"$F/m/tok_vocab_bigger/tokenizer.json"
  mvar tok_truncated ''
  tokjson 6 | head -c 150 >"$F/m/tok_truncated/tokenizer.json"
}

# mvar NAME SED: a copy of the good folder under $F/m/NAME, config.json edited by SED (none if '').
mvar() {
  local d=$F/m/$1
  cp -r "$GOOD" "$d"
  [ -z "$2" ] && return
  local text; text=$(sed -e "$2" "$GOOD/config.json")
  [ "$text" != "$(cat "$GOOD/config.json")" ] || fx_die "mvar $1: '$2' changed nothing"
  text=${text//@OPEN@/$(rep 70000 '[')}
  text=${text//@CLOSE@/$(rep 70000 ']')}
  printf '%s\n' "$text" >"$d/config.json"
}

# stvar NAME SED [BYTES]: model.safetensors with its header edited by SED (padded with spaces to
# the old length, or a new length when longer), then BYTES appended (> 0) or cut (< 0).
stvar() {
  mvar "$1" ''
  local f=$F/m/$1/model.safetensors h=$ST_HEADER adjust=${3:-0}
  if [ -n "$2" ]; then
    h=$(printf '%s' "$ST_HEADER" | sed -e "$2")
    [ "$h" != "$ST_HEADER" ] || fx_die "stvar $1: '$2' changed nothing"
    while [ ${#h} -lt "$ST_LEN" ]; do h+=' '; done
  fi
  { le64 ${#h}; printf '%s' "$h"; cat "$F/pre/data.bin"; } >"$f"
  if [ "$adjust" -gt 0 ]; then head -c "$adjust" /dev/zero >>"$f"; fi
  if [ "$adjust" -lt 0 ]; then truncate -s $(($(stat -c %s "$f") + adjust)) "$f"; fi
}

# tokjson ID: a tiny BPE tokenizer.json whose added token <s> has id ID (6 is the valid one).
tokjson() {
  printf '%s' '{"version":"1.0","truncation":null,"padding":null,"added_tokens":[{"id":'"$1"',"content":"<s>","single_word":false,"lstrip":false,"rstrip":false,"normalized":false,"special":true}],"normalizer":null,"pre_tokenizer":{"type":"Whitespace"},"post_processor":null,"decoder":null,"model":{"type":"BPE","dropout":null,"unk_token":"<unk>","continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":false,"byte_fallback":false,"vocab":{"<unk>":0,"h":1,"e":2,"l":3,"o":4,"he":5},"merges":["h e"]}}'
}
# tokjson_big N: the same with N vocabulary entries (t0 … tN-1 after the six letters).
tokjson_big() {
  local i v=''
  for ((i = 6; i < $1; i++)); do v+=",\"t$i\":$i"; done
  tokjson "$1" | sed "s/\"he\":5}/\"he\":5$v}/"
}
# tokvar NAME TEXT: $F/tok/NAME/tokenizer.json holding TEXT (@OPEN@: 70,000 [).
tokvar() { mkdir -p "$F/tok/$1"; printf "%s" "${2//@OPEN@/$(rep 70000 "[")}" >"$F/tok/$1/tokenizer.json"; }

# Datasets: JSON Lines files for data.suite "jsonl" (Alpaca fields).
fx_data() {
  local d=$F/ds good='{"instruction": "Add.", "input": "2 and 3", "output": "5"}'
  mkdir -p "$d/adir"
  printf '%s\n%s\n{"instruction": "Say hi", "output": \n%s\n' "$good" "$good" "$good" >"$d/invalid_line.jsonl"
  printf '%s\n[1, 2]\n%s\n' "$good" "$good" >"$d/array_line.jsonl"
  printf '%s\n"just a string"\n' "$good" >"$d/string_line.jsonl"
  printf '%s\n{"instruction": "Add.", "input": "1"}\n' "$good" >"$d/missing_output.jsonl"
  printf '%s\n{"instruction": "Add.", "input": "1", "output": "1", "output": "2"}\n' "$good" >"$d/dup_key.jsonl"
  { echo "$good"; printf '{"instruction": "Add.", "input": "1", "output": '; rep 70000 '['; echo; } >"$d/deep_line.jsonl"
  { echo "$good"; printf '{"instruction": "Add.", "input": "1", "output": "1", "meta": '; rep 100 '{"a": '; printf 1; rep 100 '}'; echo '}'; } >"$d/deep_object_line.jsonl"
  printf '%s\n{"instruction": "Add.", "input": "1", "output": 5}\n' "$good" >"$d/wrong_type.jsonl"
  printf '%s\n{"instruction": ["Add."], "input": "1", "output": "2"}\n' "$good" >"$d/instruction_array.jsonl"
  : >"$d/empty.jsonl"
  printf '\n\n   \n' >"$d/blank_lines.jsonl"
  printf '%s\n\x00\x01\xff\xfe\n' "$good" >"$d/binary.jsonl"
  printf '%s\n{"instruction": "A\xff\xfe.", "input": "1", "output": "2"}\n' "$good" >"$d/bad_utf8.jsonl"
  printf '%s\n{"instruction": "Add.", "input": "1", "output": "2", "answer": 1e999}\n' "$good" >"$d/number_1e999.jsonl"
  for i in 1 2 3 4 5 6 7 8; do echo "$good"; done >"$d/good.jsonl"
}

# Stores: a real store with one finished run, then damaged copies under $F/st.
fx_store() {
  mkdir -p "$F/st/folder.sqlite" "$F/store"
  "$APP" train "$DATA/cli/tiny-random.json" --db "$F/store/ws.sqlite" --threads 1 \
    --progress json >"$F/store/log" 2>"$F/store/err" || fx_die "train: $(tail -n 3 "$F/store/err")"
  RUN=$(head -n 1 "$F/store/log" | sed -n 's/.*"run_id":"\([0-9a-f]*\)".*/\1/p')
  [ -n "$RUN" ] || fx_die "no run id in the fixture store"
  echo "$RUN" >"$F/store/run_id"
  local good=$F/store/ws.sqlite size pages
  size=$(stat -c %s "$good")
  pages=$((size / 4096))
  [ "$pages" -ge 8 ] || fx_die "fixture store has only $pages pages"
  echo "Apportion workspace? No, a text file." >"$F/st/text.sqlite"
  : >"$F/st/empty.sqlite"
  head -c $((size / 2)) "$good" >"$F/st/truncated.sqlite"
  head -c 3000 "$good" >"$F/st/truncated_page1.sqlite"
  # pages in the middle overwritten with a pattern (the header and page 1 intact)
  cp "$good" "$F/st/garbage_middle.sqlite"
  yes 'garbage!' | head -c $((4 * 4096)) |
    dd of="$F/st/garbage_middle.sqlite" bs=4096 seek=$((pages / 2 - 2)) conv=notrunc status=none
  # every b-tree page but page 1 (and the header) zeroed from offset 4096 on: a torn copy
  cp "$good" "$F/st/zero_tail.sqlite"
  head -c $((size - 4096)) /dev/zero |
    dd of="$F/st/zero_tail.sqlite" bs=4096 seek=1 conv=notrunc status=none
  cp "$good" "$F/st/header_garbage.sqlite"
  printf 'SQLite format 2\0' | dd of="$F/st/header_garbage.sqlite" conv=notrunc status=none
  # PRAGMA user_version (offset 60) = 99: a newer schema than this build knows
  cp "$good" "$F/st/newer.sqlite"
  printf '\x00\x00\x00\x63' | dd of="$F/st/newer.sqlite" bs=1 seek=60 conv=notrunc status=none
  # PRAGMA application_id (offset 68) = 1: an SQLite database of another program
  cp "$good" "$F/st/foreign.sqlite"
  printf '\x00\x00\x00\x01' | dd of="$F/st/foreign.sqlite" bs=1 seek=68 conv=notrunc status=none
  # page size field (offset 16) = 3: not a power of two
  cp "$good" "$F/st/page_size.sqlite"
  printf '\x00\x03' | dd of="$F/st/page_size.sqlite" bs=1 seek=16 conv=notrunc status=none
  cp "$good" "$F/st/good.sqlite"
}
