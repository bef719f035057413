#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The MoLA layer as the MoLA reference code writes it (a PEFT-style wrapper of each target
Linear: a router, then a Python loop over the experts, each applied to every token and masked by
its top-k routing weight), timed on a LLaMA-2-7B-shaped transformers model with random bf16
weights, for the ratio against Apportion's two-GEMM layer in packaging/gpu-check.sh.

Usage: mola_reference.py DEVICE STEPS        -> one JSON object (tokens/s, peak memory) for
                                                MoLA-2468, top-2, r 8, all 7 projections,
                                                cutoff 256, batch 4 (needs transformers)
       mola_reference.py --selftest           -> checks the layer against a vectorised
                                                computation on the CPU (needs only torch)"""
import json
import sys
import time

import torch
from torch import nn

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


class MoLALinear(nn.Module):
    """base(x) + Σ_i w_i(x) · s · B_i A_i dropout(x), w = renormalised top-k softmax(router(x))."""

    def __init__(self, base, experts, r=8, alpha=16, top_k=2, dropout=0.05):
        super().__init__()
        self.base, self.top_k, self.scaling = base, top_k, alpha / r
        dev = base.weight.device
        self.router = nn.Linear(base.in_features, experts, bias=False, device=dev)
        self.lora_A = nn.ModuleList(nn.Linear(base.in_features, r, bias=False, device=dev)
                                    for _ in range(experts))
        self.lora_B = nn.ModuleList(nn.Linear(r, base.out_features, bias=False, device=dev)
                                    for _ in range(experts))
        for b in self.lora_B:
            nn.init.normal_(b.weight, std=0.02)  # non-zero B: every expert does real work
        self.dropout = nn.Dropout(dropout)

    def routing(self, x):
        probs = torch.softmax(self.router(x.float()), dim=-1)
        top, idx = probs.topk(self.top_k, dim=-1)
        top = top / top.sum(-1, keepdim=True)
        return torch.zeros_like(probs).scatter(-1, idx, top)  # [.., E] weights, 0 off the top-k

    def forward(self, x):
        result = self.base(x)
        weights = self.routing(x)
        xd = self.dropout(x).float()
        for i in range(len(self.lora_A)):  # the reference's per-expert loop, every token
            delta = self.lora_B[i](self.lora_A[i](xd)) * self.scaling
            result = result + (weights[..., i:i + 1] * delta).to(result.dtype)
        return result


def wrap(model, experts_per_layer):
    for layer, n in zip(model.model.layers, experts_per_layer):
        for parent in (layer.self_attn, layer.mlp):
            for name in TARGETS:
                if hasattr(parent, name):
                    setattr(parent, name, MoLALinear(getattr(parent, name), n))


def selftest():
    torch.manual_seed(0)
    base = nn.Linear(6, 5, bias=False)
    layer = MoLALinear(base, experts=3, r=2, alpha=4, top_k=2, dropout=0.0)
    x = torch.randn(7, 6)
    w = layer.routing(x)                                               # [N, E]
    a = torch.stack([m.weight for m in layer.lora_A])                  # [E, r, in]
    b = torch.stack([m.weight for m in layer.lora_B])                  # [E, out, r]
    expected = base(x) + 2.0 * torch.einsum("ne,eor,eri,ni->no", w, b, a, x)
    assert (w > 0).sum(-1).eq(2).all(), "top-2 routing"
    assert torch.allclose(layer(x), expected, atol=1e-6), "per-expert loop vs vectorised"
    print(json.dumps({"selftest": "ok", "torch": torch.__version__}))


def main():
    device, steps = sys.argv[1], int(sys.argv[2])
    import transformers
    config = transformers.LlamaConfig(hidden_size=4096, intermediate_size=11008,
                                      num_hidden_layers=32, num_attention_heads=32,
                                      num_key_value_heads=32, vocab_size=32000)
    torch.manual_seed(0)
    with torch.device(device):  # eager attention, as Apportion computes it: a like-for-like step
        dtype_kw = "dtype" if int(transformers.__version__.split(".")[0]) >= 5 else "torch_dtype"
        model = transformers.AutoModelForCausalLM.from_config(
            config, attn_implementation="eager", **{dtype_kw: torch.bfloat16})
    for p in model.parameters():
        p.requires_grad_(False)
    wrap(model, [2] * 8 + [4] * 8 + [6] * 8 + [8] * 8)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4)
    batch, cutoff = 4, 256
    ids = torch.randint(3, 32000, (batch, cutoff), device=device)

    def step():
        opt.zero_grad()
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        return loss.item()

    torch.cuda.reset_peak_memory_stats()
    for _ in range(2):
        step()
    torch.cuda.synchronize()
    t0 = time.time()
    for _ in range(steps):
        loss = step()
    torch.cuda.synchronize()
    secs = time.time() - t0
    print(json.dumps({"method": "mola-2468 (Python per-expert loop)", "cutoff": cutoff,
                      "batch": batch, "steps": steps, "seconds_per_step": secs / steps,
                      "tokens_per_s": batch * cutoff * steps / secs,
                      "peak_memory_bytes": torch.cuda.max_memory_allocated(),
                      "trainable_parameters": sum(p.numel() for p in params),
                      "final_loss": loss, "attention": "eager"}))


if __name__ == "__main__":
    selftest() if sys.argv[1:] == ["--selftest"] else main()
