#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Writes the seed corpora of tests/fuzz/corpus/<target>/ (reproducibly): small valid files from
# tests/data and experiments/, trimmed real tokenizers, and hostile inputs (deep nesting, huge
# numbers, long strings, duplicate keys, invalid UTF-8, truncation). Usage: make_seeds.py [ROOT]
import gzip
import json
import os
import shutil
import struct
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), "..", ".."))
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")
DATA = os.path.join(ROOT, "tests", "data")
MAX_SEED = 100_000  # bytes per seed file

DEPTH = 70_000        # unbalanced "[" run: the parser's own depth
DEEP_BALANCED = 40_000  # "[" * n + "]" * n as a value: deep but valid JSON (80 KB)
HUGE_NUMBERS = ["1e999", "-1e999", "4294967298", "2147483648", "-2147483649",
                "18446744073709551617", "18446744073709551615", "-9223372036854775809",
                "9223372036854775807", "1e-400", "-0", "0.5", "1e308", "123456789012345678901234567890"]
BAD_UTF8 = [b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe2\x82", b"\x80"]


def reset(target):
    d = os.path.join(CORPUS, target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def put_file(d, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogatepass")
    assert len(data) <= MAX_SEED, (name, len(data))
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def compact(j):
    return json.dumps(j, separators=(",", ":"), ensure_ascii=False)


def deep(n=DEEP_BALANCED, open_="[", close="]"):
    return open_ * n + close * n


def with_value(template, key_path, raw):
    """JSON text of `template` with the value at key_path (list of keys) replaced by raw text."""
    j = json.loads(json.dumps(template))
    node = j
    for k in key_path[:-1]:
        node = node.setdefault(k, {})
    node[key_path[-1]] = "@@RAW@@"
    return compact(j).replace('"@@RAW@@"', raw, 1)


def hostile_json(d, template, number_paths, string_path, prefix="", suffix="", numbers=HUGE_NUMBERS,
                 deep_paths=2, big=True):
    """The hostile family around a valid `template` object (each seed: prefix + name, text +
    suffix). Deep values go to the first `deep_paths` number paths only; big=False leaves out the
    other large seeds too."""
    def put(d, name, data):  # noqa: shadows the module's put on purpose
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogatepass")
        put_file(d, prefix + name, data + suffix.encode())
    text = compact(template)
    if big:
        put(d, "hostile-open-array", "[" * DEPTH)
        put(d, "hostile-open-object", '{"a":' * 19_000)
        put(d, "hostile-deep-root", deep())
    for i, path in enumerate(number_paths):
        if i < deep_paths:
            put(d, f"hostile-deep-number-{i}", with_value(template, path, deep()))
        if i == 0 and big:
            put(d, f"hostile-deep-object-{i}", with_value(template, path, '{"a":' * 15_000 + "1" + "}" * 15_000))
        for k, number in enumerate(numbers):
            put(d, f"hostile-number-{i}-{k}", with_value(template, path, number))
    if big:
        put(d, "hostile-deep-string-field", with_value(template, string_path, deep()))
        put(d, "hostile-long-string", with_value(template, string_path, json.dumps("x" * 60_000)))
        put(d, "hostile-long-key", text[:-1] + "," + json.dumps("k" * 30_000) + ":1}")
    # Duplicate keys: the same key twice with different types.
    first_key = next(iter(template))
    put(d, "hostile-duplicate-key", text[:-1] + "," + json.dumps(first_key) + ":[1,2]}")
    put(d, "hostile-duplicate-key-same", "{" + json.dumps(first_key) + ":null," + text[1:])
    for k, bad in enumerate(BAD_UTF8):
        raw = with_value(template, string_path, '"a@@B@@b"').encode()
        put(d, f"hostile-utf8-{k}", raw.replace(b"@@B@@", bad))
        put(d, f"hostile-utf8-key-{k}", b'{"' + bad + b'":1,' + text[1:].encode())
    put(d, "hostile-escaped-surrogate", with_value(template, string_path, '"\\ud800\\udfff\\udc00"'))
    put(d, "hostile-nul-in-string", with_value(template, string_path, '"a\\u0000b"'))
    put(d, "hostile-truncated-half", text[: len(text) // 2])
    put(d, "hostile-truncated-1", text[:-1])
    put(d, "hostile-bom", "\ufeff" + text)
    put(d, "hostile-trailing", text + "}{")
    for name, t in [("empty", ""), ("null", "null"), ("array", "[]"), ("object", "{}"),
                    ("string", '"x"'), ("number", "1e999"), ("spaces", " \n\t\r ")]:
        put(d, f"hostile-{name}", t)


put = put_file


def copy_files(d, paths, prefix=""):
    for p in paths:
        full = os.path.join(ROOT, p)
        name = prefix + p.replace("/", "_")
        with open(full, "rb") as f:
            put(d, name, f.read())


def experiment_config():
    d = reset("fuzz_experiment_config")
    files = []
    for sub in sorted(os.listdir(os.path.join(DATA, "configs"))):
        files.append(f"tests/data/configs/{sub}/config.json")
    files += [f"tests/data/architectures/{f}" for f in sorted(os.listdir(os.path.join(DATA, "architectures")))]
    files += ["tests/data/cli/bad-topk.json", "tests/data/cli/tiny-pretrain.json",
              "tests/data/cli/tiny-random.json", "tests/data/cli/datasets/mixture.json",
              "tests/data/cli/datasets/scienceqa.json"]
    files += [f"experiments/{f}" for f in sorted(os.listdir(os.path.join(ROOT, "experiments")))
              if f.endswith(".json")]
    copy_files(d, files)
    with open(os.path.join(DATA, "cli", "tiny-random.json")) as f:
        base = json.load(f)
    text = compact(base)
    # --set overrides after a NUL byte, one per line.
    put(d, "overrides-valid", text + "\0train.lr=3e-4\nadapters.r=8\nseed=7\nname=x")
    put(d, "overrides-array", compact(json.load(open(os.path.join(DATA, "cli/datasets/mixture.json"))))
        + "\0data.datasets.0.train=boolq/train.json\ndata.datasets.1.weight=2")
    put(d, "overrides-bad", text + "\0=1\ntrain..lr=1\ntrain.lr.x=2\ndata.datasets.99999999999=1\nnoequals")
    put(d, "overrides-deep", text + "\0train.lr=" + deep(30_000))
    put(d, "overrides-huge", text + "\0seed=18446744073709551617\ntrain.steps=4294967298\nadapters.r=1e999")
    hostile_json(d, base, [["backbone", "config", "hidden_size"], ["train", "lr"], ["seed"],
                           ["train", "steps"], ["adapters", "r"]], ["name"])
    put(d, "hostile-deep-backbone-config", with_value(base, ["backbone", "config"], '{"x":' + deep(30_000) + "}"))
    put(d, "hostile-deep-description", with_value(base, ["description"], deep()))
    put(d, "hostile-deep-target-modules", with_value(base, ["adapters", "target_modules"], deep()))


LLAMA31_8B = {
    "architectures": ["LlamaForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
    "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "hidden_act": "silu",
    "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336,
    "max_position_embeddings": 131072, "mlp_bias": False, "model_type": "llama",
    "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
    "pretraining_tp": 1, "rms_norm_eps": 1e-05,
    "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
    "rope_theta": 500000.0, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
    "transformers_version": "4.43.0.dev0", "use_cache": True, "vocab_size": 128256}
MISTRAL_7B = {
    "architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2,
    "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02,
    "intermediate_size": 14336, "max_position_embeddings": 32768, "model_type": "mistral",
    "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
    "rms_norm_eps": 1e-05, "rope_theta": 1000000.0, "sliding_window": None,
    "tie_word_embeddings": False, "torch_dtype": "bfloat16", "use_cache": True, "vocab_size": 32768}
QWEN2_7B = {
    "architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
    "eos_token_id": 151645, "hidden_act": "silu", "hidden_size": 3584, "initializer_range": 0.02,
    "intermediate_size": 18944, "max_position_embeddings": 32768, "max_window_layers": 28,
    "model_type": "qwen2", "num_attention_heads": 28, "num_hidden_layers": 28,
    "num_key_value_heads": 4, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
    "sliding_window": 131072, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
    "use_cache": True, "use_sliding_window": False, "vocab_size": 152064}
MIXTRAL_8X7B = {
    "architectures": ["MixtralForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 1,
    "eos_token_id": 2, "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02,
    "intermediate_size": 14336, "max_position_embeddings": 32768, "model_type": "mixtral",
    "num_attention_heads": 32, "num_experts_per_tok": 2, "num_hidden_layers": 32,
    "num_key_value_heads": 8, "num_local_experts": 8, "output_router_logits": False,
    "rms_norm_eps": 1e-05, "rope_theta": 1000000.0, "router_aux_loss_coef": 0.02,
    "sliding_window": None, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
    "use_cache": True, "vocab_size": 32000}
OLMOE_1B_7B = {
    "architectures": ["OlmoeForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
    "clip_qkv": None, "eos_token_id": 50279, "hidden_act": "silu", "hidden_size": 2048,
    "initializer_range": 0.02, "intermediate_size": 1024, "max_position_embeddings": 4096,
    "model_type": "olmoe", "norm_topk_prob": False, "num_attention_heads": 16,
    "num_experts": 64, "num_experts_per_tok": 8, "num_hidden_layers": 16,
    "num_key_value_heads": 16, "output_router_logits": False, "pad_token_id": 1,
    "rms_norm_eps": 1e-05, "rope_scaling": None, "rope_theta": 10000.0,
    "router_aux_loss_coef": 0.01, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
    "vocab_size": 50304}
QWEN2_MOE_A27B = {
    "architectures": ["Qwen2MoeForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
    "decoder_sparse_step": 1, "eos_token_id": 151643, "hidden_act": "silu", "hidden_size": 2048,
    "initializer_range": 0.02, "intermediate_size": 5632, "max_position_embeddings": 8192,
    "max_window_layers": 21, "model_type": "qwen2_moe", "moe_intermediate_size": 1408,
    "norm_topk_prob": False, "num_attention_heads": 16, "num_experts": 60,
    "num_experts_per_tok": 4, "num_hidden_layers": 24, "num_key_value_heads": 16,
    "output_router_logits": False, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
    "router_aux_loss_coef": 0.001, "shared_expert_intermediate_size": 5632,
    "sliding_window": 32768, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
    "use_cache": True, "use_sliding_window": False, "vocab_size": 151936}


def hf_config():
    d = reset("fuzz_hf_config")
    copy_files(d, ["experiments/backbones/tiny-llama/config.json",
                   "experiments/backbones/tiny-mixtral/config.json"])
    for f in sorted(os.listdir(os.path.join(DATA, "architectures"))):
        with open(os.path.join(DATA, "architectures", f)) as fh:
            cfg = json.load(fh)
        if "config" in cfg.get("backbone", {}):
            put(d, "architectures_" + f, json.dumps(cfg["backbone"]["config"], indent=2))
    real = {"llama31-8b": LLAMA31_8B, "mistral-7b": MISTRAL_7B, "qwen2-7b": QWEN2_7B,
            "mixtral-8x7b": MIXTRAL_8X7B, "olmoe-1b-7b": OLMOE_1B_7B, "qwen2-moe-a2.7b": QWEN2_MOE_A27B}
    for name, cfg in real.items():
        put(d, "real-" + name, json.dumps(cfg, indent=2))
    linear = dict(LLAMA31_8B, rope_scaling={"type": "linear", "factor": 2.0})
    put(d, "real-llama-linear-rope", compact(linear))
    put(d, "real-llama-head-dim", compact(dict(LLAMA31_8B, head_dim=256)))
    put(d, "real-qwen2-sliding", compact(dict(QWEN2_7B, use_sliding_window=True, max_window_layers=4)))
    put(d, "overflow-sizes", compact(dict(LLAMA31_8B, hidden_size=2147483647, intermediate_size=2147483647,
                                          num_hidden_layers=2147483647, vocab_size=2147483647,
                                          num_attention_heads=1, num_key_value_heads=1)))
    put(d, "overflow-experts", compact(dict(MIXTRAL_8X7B, num_local_experts=2147483647,
                                            num_experts_per_tok=2147483647, hidden_size=65536)))
    hostile_json(d, LLAMA31_8B, [["eos_token_id"], ["rope_scaling", "factor"], ["hidden_size"],
                                 ["rms_norm_eps"], ["num_hidden_layers"]], ["model_type"])
    put(d, "hostile-deep-architectures", with_value(LLAMA31_8B, ["architectures"], deep()))
    put(d, "hostile-deep-hidden-act", with_value(LLAMA31_8B, ["hidden_act"], deep()))


def safetensors_file(tensors, metadata=None, header_extra=None, pad=True):
    """Bytes of a safetensors file: tensors is [(name, dtype, shape, data_bytes)]."""
    header, data, offset = {}, b"", 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        data += raw
        offset += len(raw)
    if header_extra:
        header.update(header_extra)
    text = compact(header).encode()
    if pad:
        text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def raw_header_file(header_text, data=b""):
    if isinstance(header_text, str):
        header_text = header_text.encode("utf-8", "surrogatepass")
    return struct.pack("<Q", len(header_text)) + header_text + data


def safetensors():
    d = reset("fuzz_safetensors_header")
    f32 = lambda *v: struct.pack(f"<{len(v)}f", *v)
    put(d, "valid-f32-scalar", safetensors_file([("x", "F32", [], f32(1.5))]))
    put(d, "valid-mixed", safetensors_file([
        ("model.norm.weight", "F32", [4], f32(1, 1, 1, 1)),
        ("model.embed_tokens.weight", "F16", [2, 3], b"\x00\x3c" * 6),
        ("lm_head.weight", "BF16", [3, 2], b"\x80\x3f" * 6),
        ("ids", "I64", [2], struct.pack("<2q", 7, -1)),
        ("mask", "I32", [1, 1, 2], struct.pack("<2i", 0, 1))], metadata={"format": "pt"}))
    put(d, "valid-empty-tensor", safetensors_file([("e", "F32", [0, 4], b""), ("s", "F32", [1], f32(2))]))
    put(d, "valid-no-tensors", safetensors_file([], metadata={"format": "pt", "note": "x"}))
    # A real checkpoint's header, cut down to its small tensors (experiments/backbones/tiny-llama).
    real = os.path.join(ROOT, "experiments/backbones/tiny-llama/model.safetensors")
    with open(real, "rb") as f:
        blob = f.read()
    n = struct.unpack("<Q", blob[:8])[0]
    header = json.loads(blob[8:8 + n])
    small = [(k, v) for k, v in sorted(header.items()) if k != "__metadata__"
             and v["data_offsets"][1] - v["data_offsets"][0] <= 512][:8]
    tensors = [(k, v["dtype"], v["shape"], blob[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]])
               for k, v in small]
    put(d, "real-tiny-llama-small", safetensors_file(tensors, metadata=header.get("__metadata__")))
    put(d, "real-tiny-llama-header-only", blob[:8 + n])
    ok = {"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}
    put(d, "bad-length-huge", struct.pack("<Q", 2**64 - 1) + compact(ok).encode() + b"\0" * 8)
    put(d, "bad-length-past-end", struct.pack("<Q", 4096) + compact(ok).encode())
    put(d, "bad-length-zero", struct.pack("<Q", 0) + b"\0" * 8)
    put(d, "bad-short-file", b"\x10\x00\x00")
    put(d, "bad-empty", b"")
    for k, entry in enumerate([
            {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]},          # size mismatch
            {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]},          # reversed
            {"dtype": "F32", "shape": [2], "data_offsets": [0, 16]},         # past the end
            {"dtype": "F64", "shape": [1], "data_offsets": [0, 8]},          # unsupported dtype
            {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]},
            {"dtype": "F32", "shape": [4294967296, 4294967296, 16], "data_offsets": [0, 8]},
            {"dtype": "F32", "shape": [9223372036854775807, 2], "data_offsets": [0, 8]},
            {"dtype": "F32", "shape": [2], "data_offsets": [18446744073709551615, 7]},
            {"dtype": "F32", "shape": [2], "data_offsets": [18446744073709551608, 18446744073709551615]},
            {"dtype": "F32", "shape": [2.5], "data_offsets": [0, 8]},
            {"dtype": "F32", "shape": [2], "data_offsets": [0.0, 8.0]},
            {"dtype": "F32", "shape": [2], "data_offsets": [0]},
            {"dtype": "F32", "shape": "2", "data_offsets": [0, 8]},
            {"dtype": 1, "shape": [2], "data_offsets": [0, 8]},
            {"shape": [2], "data_offsets": [0, 8]},
            {"dtype": "F32", "shape": [2], "data_offsets": [0, 8], "extra": 1}]):
        put(d, f"bad-entry-{k}", raw_header_file(compact({"x": entry}), b"\0" * 8))
    put(d, "bad-overlap", raw_header_file(compact({
        "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
        "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}), b"\0" * 12))
    put(d, "bad-gap", raw_header_file(compact({
        "a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}), b"\0" * 8))
    put(d, "bad-metadata-types", raw_header_file('{"__metadata__":{"a":1,"b":[1],"c":null}}'))
    put(d, "bad-metadata-array", raw_header_file('{"__metadata__":[1,2]}'))
    put(d, "bad-duplicate-name", raw_header_file(
        '{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
        '"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', b"\0" * 8))
    put(d, "bad-not-object", raw_header_file("[1,2,3]"))
    put(d, "bad-header-nul", raw_header_file('{"x":1}\0\0\0'))
    put(d, "hostile-open-array", raw_header_file("[" * DEPTH))
    put(d, "hostile-deep-root", raw_header_file(deep()))
    put(d, "hostile-deep-shape", raw_header_file(
        '{"x":{"dtype":"F32","shape":' + deep() + ',"data_offsets":[0,8]}}', b"\0" * 8))
    put(d, "hostile-deep-offsets", raw_header_file(
        '{"x":{"dtype":"F32","shape":[2],"data_offsets":' + deep() + '}}', b"\0" * 8))
    put(d, "hostile-deep-dtype", raw_header_file(
        '{"x":{"dtype":' + deep() + ',"shape":[2],"data_offsets":[0,8]}}', b"\0" * 8))
    put(d, "hostile-deep-metadata", raw_header_file('{"__metadata__":{"a":' + deep() + '}}'))
    put(d, "hostile-deep-entry", raw_header_file('{"x":' + deep() + '}'))
    for k, number in enumerate(HUGE_NUMBERS):
        put(d, f"hostile-number-shape-{k}", raw_header_file(
            '{"x":{"dtype":"F32","shape":[' + number + '],"data_offsets":[0,8]}}', b"\0" * 8))
        put(d, f"hostile-number-offset-{k}", raw_header_file(
            '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,' + number + ']}}', b"\0" * 8))
    for k, bad in enumerate(BAD_UTF8):
        put(d, f"hostile-utf8-name-{k}", raw_header_file(
            b'{"x' + bad + b'":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', b"\0" * 4))
        put(d, f"hostile-utf8-metadata-{k}", raw_header_file(b'{"__metadata__":{"a":"' + bad + b'"}}'))
    put(d, "hostile-long-name", raw_header_file(
        '{"' + "n" * 60_000 + '":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', b"\0" * 4))
    many = {f"t{i}": {"dtype": "F32", "shape": [1], "data_offsets": [4 * i, 4 * i + 4]} for i in range(1500)}
    put(d, "hostile-many-tensors", raw_header_file(compact(many), b"\0" * 6000))


def trimmed_tokenizer(name, keep):
    with gzip.open(os.path.join(DATA, "tokenizers", name, "tokenizer.json.gz")) as f:
        j = json.load(f)
    m = j["model"]
    vocab = {t: i for t, i in m["vocab"].items() if i < keep}
    merges = []
    for mg in m["merges"]:
        a, b = mg.split(" ", 1) if isinstance(mg, str) else mg
        if a in vocab and b in vocab and a + b in vocab:
            merges.append(mg)
    m["vocab"], m["merges"] = vocab, merges
    specials = set()
    pp = json.dumps(j.get("post_processor"))
    j["added_tokens"] = [t for t in j["added_tokens"] if t["content"] in pp or t["id"] < keep][:6]
    # Renumber the kept added tokens right after the trimmed vocabulary.
    for k, t in enumerate(j["added_tokens"]):
        if t["id"] >= keep:
            specials.add((t["id"], keep + k))
            t["id"] = keep + k
    text = compact(j)
    for old, new in specials:
        text = text.replace(f'"ids":[{old}]', f'"ids":[{new}]')
    return text


def tokenizer_json():
    d = reset("fuzz_tokenizer_json")
    for name, keep in [("llama3", 700), ("qwen3", 700), ("mistral", 700)]:
        put(d, f"real-{name}-trimmed", trimmed_tokenizer(name, keep))
    tokens = ["h", "e", "l", "o", "\u0120", "w", "r", "d", "he", "ll", "hell", "hello", "\u0120w",
              "or", "\u0120wor", "ld"]
    merges = [["h", "e"], ["l", "l"], ["he", "ll"], ["hell", "o"], ["\u0120", "w"], ["o", "r"],
              ["\u0120w", "or"], ["l", "d"]]

    def added(i, content, special=True, single=False, strip=False):
        return {"id": i, "content": content, "single_word": single, "lstrip": strip,
                "rstrip": strip, "normalized": False, "special": special}
    tiny = {"version": "1.0",
            "added_tokens": [added(16, "<s>"), added(17, "<tool>", False), added(18, "[X]", True, False, True),
                             added(19, "wor", True, True)],
            "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "use_regex": True},
            "post_processor": {"type": "TemplateProcessing",
                               "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                          {"Sequence": {"id": "A", "type_id": 0}}],
                               "pair": [],
                               "special_tokens": {"<s>": {"id": "<s>", "ids": [16], "tokens": ["<s>"]}}},
            "decoder": {"type": "ByteLevel"},
            "model": {"type": "BPE", "vocab": {t: i for i, t in enumerate(tokens)}, "merges": merges,
                      "ignore_merges": False}}
    put(d, "tiny-bytelevel", json.dumps(tiny, indent=1, ensure_ascii=False))
    put(d, "tiny-bytelevel-string-merges", compact(dict(tiny, model=dict(
        tiny["model"], merges=[" ".join(m) for m in merges]))))
    mark = "\u2581"
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = 3 + b
    vocab.update({mark: 259, "a": 260, "b": 261, mark + "a": 262, "ab": 263, mark + "ab": 264})
    spm = {"added_tokens": [added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")],
           "normalizer": {"type": "Sequence", "normalizers": [
               {"type": "Prepend", "prepend": mark},
               {"type": "Replace", "pattern": {"String": " "}, "content": mark}]},
           "pre_tokenizer": None,
           "post_processor": {"type": "TemplateProcessing",
                              "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                         {"Sequence": {"id": "A", "type_id": 0}}],
                              "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
           "decoder": {"type": "Sequence", "decoders": [
               {"type": "Replace", "pattern": {"String": mark}, "content": " "},
               {"type": "ByteFallback"}, {"type": "Fuse"},
               {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
           "model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": True, "byte_fallback": True,
                     "vocab": vocab, "merges": [mark + " a", "a b", mark + "a b"]}}
    put(d, "tiny-sentencepiece", json.dumps(spm, indent=1, ensure_ascii=False))
    meta = dict(spm, normalizer=None, pre_tokenizer={"type": "Metaspace", "replacement": mark,
                                                     "prepend_scheme": "first", "split": False})
    put(d, "tiny-metaspace", compact(meta))
    for k, regex in enumerate(["(unclosed", "(?:(?:a*)*)*b", "\\p{Bogus}", "(?<=a+)b", "(?R)",
                               "\\s+(?!\\S)|\\s+", "(?i:'s|'t)|\\p{L}+|\\p{N}{1,3}", "", "[\\x{110000}]"]):
        split = dict(tiny, pre_tokenizer={"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]})
        put(d, f"regex-{k}", compact(split))
    put(d, "nfc-normalizer", compact(dict(tiny, normalizer={"type": "NFC"})))
    put(d, "nfkd-lowercase", compact(dict(tiny, normalizer={"type": "Sequence", "normalizers": [
        {"type": "NFKD"}, {"type": "Lowercase"}, {"type": "StripAccents"}]})))
    put(d, "vocab-id-huge", compact(dict(tiny, model=dict(tiny["model"], vocab=dict(
        tiny["model"]["vocab"], hello=4294967298)))))
    put(d, "vocab-id-sparse", compact(dict(tiny, model=dict(tiny["model"], vocab=dict(
        tiny["model"]["vocab"], hello=2000000000)))))
    put(d, "added-id-negative", compact(dict(tiny, added_tokens=[added(-5, "<s>")])))
    put(d, "added-id-huge", compact(dict(tiny, added_tokens=[added(2147483647, "<s>")])))
    put(d, "added-empty-content", compact(dict(tiny, added_tokens=[added(20, "")])))
    hostile_json(d, tiny, [["model", "vocab", "he"], ["added_tokens"], ["model", "merges"],
                           ["post_processor", "special_tokens", "<s>", "ids"]], ["version"])
    put(d, "hostile-deep-pretokenizer", with_value(tiny, ["pre_tokenizer", "type"], deep()))
    put(d, "hostile-deep-normalizers", compact(dict(tiny, normalizer="@@")).replace(
        '"@@"', '{"type":"Sequence","normalizers":[' * 2000 + '{"type":"NFC"}' + "]}" * 2000))
    put(d, "hostile-deep-decoders", compact(dict(tiny, decoder="@@")).replace(
        '"@@"', '{"type":"Sequence","decoders":[' * 2000 + '{"type":"Fuse"}' + "]}" * 2000))
    put(d, "hostile-deep-pretokenizers", compact(dict(tiny, pre_tokenizer="@@")).replace(
        '"@@"', '{"type":"Sequence","pretokenizers":[' * 2000 + '{"type":"ByteLevel"}' + "]}" * 2000))


def jsonl_dataset():
    d = reset("fuzz_jsonl_dataset")
    ds = os.path.join(DATA, "datasets")
    copy_files(d, [f"tests/data/datasets/{f}" for f in sorted(os.listdir(ds))
                   if f.endswith((".json", ".jsonl"))])
    row = {"instruction": "Add the numbers.", "input": "2 3", "output": "5", "answer": "5"}
    sqa = {"question": "Which is a mammal?", "choices": ["trout", "otter"], "answer": "B",
           "hint": "", "input": "", "instruction": "Q", "output": "Answer: The answer is B."}
    gsm = {"question": "1+1?", "answer": "1 + 1 = 2\n#### 2"}
    put(d, "crlf-bom", "\ufeff" + "\r\n".join(compact(r) for r in [row, row]) + "\r\n")
    put(d, "mixed-formats", "\n".join(compact(r) for r in [row, sqa, gsm]))
    put(d, "array-multiline", json.dumps([row, row], indent=2))
    for name, template, num, string in [("alpaca", row, ["answer"], ["output"]),
                                        ("scienceqa", sqa, ["choices"], ["answer"]),
                                        ("gsm8k", gsm, ["answer"], ["question"])]:
        hostile_json(d, template, [num], string, prefix=name + "-", suffix="\n" + compact(template) + "\n",
                     numbers=["1e999", "18446744073709551617", "-9223372036854775809", "4294967298"],
                     deep_paths=1 if name == "alpaca" else 0, big=name == "alpaca")
    put(d, "array-deep-element", "[" + compact(row) + "," + deep() + "]")
    put(d, "lines-many-blank", "\n" * 5000 + compact(row))
    put(d, "long-line", compact(dict(row, output="y" * 90_000)))


def progress_line():
    d = reset("fuzz_progress_line")
    rid = "0123456789abcdef0123456789abcdef"
    lines = {
        "started": {"v": 1, "event": "started", "run_id": rid, "db": "/tmp/ws/workspace.sqlite", "pid": 4242},
        "committed": {"v": 1, "event": "committed", "run_id": rid, "step": 17},
        "progress": {"v": 1, "event": "progress", "run_id": rid, "step": 17, "total": 200, "elapsed_s": 1.5},
        "status": {"v": 1, "event": "status", "run_id": rid, "status": "FINISHED", "message": "done",
                   "exit_code": 0},
        "unknown": {"v": 2, "event": "telemetry", "run_id": rid, "extra": [1, {"a": None}]},
    }
    for name, line in lines.items():
        put(d, name, compact(line))
    fields = {"pid": "started", "step": "progress", "total": "progress", "elapsed_s": "progress",
              "exit_code": "status", "v": "status"}
    for field, event in fields.items():
        for k, number in enumerate(HUGE_NUMBERS):
            put(d, f"hostile-number-{field}-{k}", with_value(lines[event], [field], number))
        if field in ("pid", "exit_code"):
            put(d, f"hostile-deep-{field}", with_value(lines[event], [field], deep()))
    for field in ["run_id", "db", "message", "status", "event"]:
        event = "status" if field in ("message", "status") else "started"
        if field in ("message", "event"):
            put(d, f"hostile-deep-{field}", with_value(lines[event], [field], deep()))
        for k, bad in enumerate(BAD_UTF8):
            raw = with_value(lines[event], [field], '"x@@B@@y"').encode()
            put(d, f"hostile-utf8-{field}-{k}", raw.replace(b"@@B@@", bad))
    put(d, "hostile-open-array", "[" * DEPTH)
    put(d, "hostile-open-object", '{"v":1,"event":' * 6_000)
    put(d, "hostile-long-message", with_value(lines["status"], ["message"], json.dumps("m" * 60_000)))
    put(d, "hostile-duplicate", '{"v":1,"event":"status","v":"x","event":1}')
    put(d, "hostile-truncated", compact(lines["progress"])[:-3])
    put(d, "hostile-trailing", compact(lines["progress"]) + "\n{}")
    put(d, "hostile-escaped-surrogate", with_value(lines["status"], ["message"], '"\\ud800\\u0000"'))
    put(d, "hostile-empty", "")


if __name__ == "__main__":
    experiment_config()
    hf_config()
    safetensors()
    tokenizer_json()
    jsonl_dataset()
    progress_line()
    total = 0
    for t in sorted(os.listdir(CORPUS)):
        files = os.listdir(os.path.join(CORPUS, t))
        size = sum(os.path.getsize(os.path.join(CORPUS, t, f)) for f in files)
        total += size
        print(f"{t}: {len(files)} seeds, {size // 1024} KiB")
    print(f"total: {total // 1024} KiB")
