#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parity of Apportion's models with Hugging Face transformers and peft (part of
packaging/gpu-check.sh). For each of the six architectures, transformers writes a tiny random
checkpoint; `gpu_check logits` (Apportion) and transformers (eager attention) compute logits
of the same ids on the device, in float32 (pass: max |diff| <= 1e-4) and bfloat16 (pass:
max |diff| <= 0.05 * (1 + max |logit|), the documented bf16 tolerance: 8-bit mantissas through
a few layers). Then a LoRA adapter trained by `apportion train` and exported with
`apportion export --peft` is loaded by peft onto the transformers model: logits must match
Apportion's with the same adapter (float32, 1e-4).

Usage: parity.py GPU_CHECK APPORTION WORKDIR DEVICE  -> prints one JSON object."""
import json
import os
import subprocess
import sys

import torch

ARCHS = {
    "llama": ("LlamaConfig", dict(head_dim=16, attention_bias=True, mlp_bias=True,
                                  rope_scaling={"rope_type": "llama3", "factor": 8.0,
                                                "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                                "original_max_position_embeddings": 64})),
    "mistral": ("MistralConfig", dict(sliding_window=4)),
    "qwen2": ("Qwen2Config", dict(tie_word_embeddings=True)),
    "mixtral": ("MixtralConfig", dict(num_local_experts=4, num_experts_per_tok=2)),
    "olmoe": ("OlmoeConfig", dict(num_experts=4, num_experts_per_tok=2, clip_qkv=8.0)),
    "qwen2_moe": ("Qwen2MoeConfig", dict(num_experts=4, num_experts_per_tok=2,
                                         moe_intermediate_size=24,
                                         shared_expert_intermediate_size=40,
                                         decoder_sparse_step=1, mlp_only_layers=[1])),
}
COMMON = dict(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
              num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
              bos_token_id=1, eos_token_id=2, pad_token_id=0)


def ours(gpu_check, model_dir, ids_file, dtype, device, adapter=None):
    cmd = [gpu_check, "logits", model_dir, ids_file, dtype, device] + ([adapter] if adapter else [])
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip() or out.stdout.strip())
    return torch.tensor(json.loads(out.stdout)["logits"])


def theirs(model, ids, device):
    with torch.no_grad():
        return model(torch.tensor(ids, device=device)).logits.float().cpu()


def compare(a, b, tol):
    diff = (a - b).abs().max().item()
    return {"max_abs_diff": diff, "tolerance": tol, "pass": diff <= tol}


def main():
    gpu_check, apportion, work, device = sys.argv[1:5]
    import transformers
    from transformers import AutoModelForCausalLM
    os.makedirs(work, exist_ok=True)
    torch.manual_seed(0)
    ids = torch.randint(3, 64, (2, 9)).tolist()
    ids_file = os.path.join(work, "ids.json")
    json.dump(ids, open(ids_file, "w"))
    report = {"transformers": transformers.__version__, "torch": torch.__version__,
              "device": device, "architectures": {}, "ok": True}
    for arch, (cls, extra) in ARCHS.items():
        row = {}
        try:
            config = getattr(transformers, cls)(**COMMON, **extra)
            model = AutoModelForCausalLM.from_config(config, attn_implementation="eager").eval()
            d = os.path.join(work, arch)
            model.save_pretrained(d)  # safetensors (the default)
            model.to(device)
            row["float32"] = compare(ours(gpu_check, d, ids_file, "float32", device),
                                     theirs(model, ids, device), 1e-4)
            model.to(torch.bfloat16)
            ref = theirs(model, ids, device)
            row["bfloat16"] = compare(ours(gpu_check, d, ids_file, "bfloat16", device), ref,
                                      0.05 * (1 + ref.abs().max().item()))
            row["pass"] = row["float32"]["pass"] and row["bfloat16"]["pass"]
        except Exception as e:  # report every architecture, not only the first failure
            row = {"pass": False, "error": str(e)[-2000:]}
        report["architectures"][arch] = row
        report["ok"] = report["ok"] and row["pass"]
    report["peft"] = peft_check(gpu_check, apportion, work, device, ids, ids_file)
    report["ok"] = report["ok"] and report["peft"]["pass"]
    print(json.dumps(report))


def peft_check(gpu_check, apportion, work, device, ids, ids_file):
    """A 3-step LoRA run on the llama checkpoint, exported as PEFT, loaded by peft."""
    try:
        import transformers
        from peft import PeftModel
        from transformers import AutoModelForCausalLM
        ws = os.path.join(work, "peft-ws")
        os.makedirs(ws, exist_ok=True)
        # A byte-vocabulary LLaMA, so `apportion train` can tokenize the built-in tasks.
        backbone = os.path.join(ws, "backbone")
        config = transformers.LlamaConfig(**{**COMMON, "vocab_size": 260, "bos_token_id": 257,
                                             "eos_token_id": 258, "pad_token_id": 256})
        AutoModelForCausalLM.from_config(config).save_pretrained(backbone)  # safetensors
        cfg_json = json.load(open(os.path.join(backbone, "config.json")))
        cfg_json["apportion_tokenizer"] = "byte"
        json.dump(cfg_json, open(os.path.join(backbone, "config.json"), "w"))
        cfg = {"name": "parity-peft", "backbone": {"path": backbone},
               "adapters": {"method": "lora", "r": 4, "lora_alpha": 8, "lora_dropout": 0.0},
               "data": {"train_examples": 16, "eval_examples": 4, "max_seq_len": 16,
                        "tasks": ["encode"]},
               "train": {"steps": 3, "micro_batch_size": 4, "lr": 0.05, "eval_every": 3,
                         "checkpoint_every": 3, "log_every": 1, "warmup_steps": 0}}
        cfg_file = os.path.join(ws, "lora.json")
        json.dump(cfg, open(cfg_file, "w"))
        db = os.path.join(ws, "workspace.sqlite")
        subprocess.run([apportion, "train", cfg_file, "--db", db, "--progress", "none",
                        "--device", device], check=True, capture_output=True, text=True)
        run = json.loads(subprocess.run([apportion, "runs", "--db", db, "--json"], check=True,
                                        capture_output=True, text=True).stdout)[0]["run_id"]
        peft_dir = os.path.join(ws, "peft")
        subprocess.run([apportion, "export", run, "--db", db, "--peft", peft_dir], check=True,
                       capture_output=True, text=True)
        base = AutoModelForCausalLM.from_pretrained(backbone, attn_implementation="eager")
        model = PeftModel.from_pretrained(base, peft_dir).eval().to(device)
        return compare(ours(gpu_check, backbone, ids_file, "float32", device, peft_dir),
                       theirs(model, ids, device), 1e-4)
    except Exception as e:
        return {"pass": False, "error": str(e)[-2000:]}


if __name__ == "__main__":
    main()
