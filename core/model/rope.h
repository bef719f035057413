// SPDX-License-Identifier: GPL-3.0-or-later
// Rotary position embeddings as in HF's LlamaRotaryEmbedding: inverse frequencies (default,
// "linear" and "llama3" scaling, computed in float32 like modeling_rope_utils), cos/sin tables
// per position, and apply_rotary_pos_emb with rotate_half (halves, not interleaved pairs).
// Legend: B batch, T time, H heads, D head dim.
#pragma once

#include <utility>

#include <ATen/Tensor.h>
#include <c10/core/Device.h>

#include "core/backbone/model_config.h"

namespace apportion {

/// inv_freq [D/2] float32 on `device`, with the config's rope_scaling applied.
at::Tensor rope_inv_freq(const ModelConfig& cfg, c10::Device device);

/// cos/sin [B, T, D] in `dtype` for int64 positions [B, T] (float32 math, then cast).
std::pair<at::Tensor, at::Tensor> rope_cos_sin(const at::Tensor& inv_freq,
                                               const at::Tensor& positions,
                                               c10::ScalarType dtype);

/// x [B, H, T, D] -> x·cos + rotate_half(x)·sin, with cos/sin [B, T, D].
at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

}  // namespace apportion
