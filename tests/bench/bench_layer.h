// SPDX-License-Identifier: GPL-3.0-or-later
// Decoder-layer and GEMM-rate benchmarks for bench_step: one LLaMA-2-7B-shaped decoder layer
// (hidden 4096, MLP 11008, 32 heads) trained with a frozen base and no adapter, plain LoRA r 8,
// or LoRA-MoE (8 experts of rank 8, top-2) on all 7 projections, 256 tokens per step; and the
// machine's fp32 GEMM rate at the shape of the layer's projections, for an MFU.
//
// Intended usage (bench_step.cpp's main):
//   register_layer_benchmarks();                        // names "layer/<variant>", "gemm/…"
//   double f = layer_step_flops("lora");                // model FLOPs of one training step
#pragma once

#include <string>

namespace apportion::bench {

void register_layer_benchmarks();

/// The training FLOPs of one step of "layer/<variant>" (frozen, lora, moe): forward 2·N·P and
/// input-gradient backward 2·N·P over the frozen projections P (no weight gradients: the base is
/// frozen), the attention products (QKᵀ and PV, 4·T²·C forward, twice that backward), and 6·N·Pa
/// over the adapters' own parameters Pa (for LoRA-MoE only the top-k experts a token uses, plus
/// its router). Element-wise work (norms, SiLU, softmax, optimiser) is not counted.
double layer_step_flops(const std::string& variant);

/// FLOPs of one "gemm/…" benchmark iteration (2·M·N·K).
double gemm_flops();

}  // namespace apportion::bench
