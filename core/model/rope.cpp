// SPDX-License-Identifier: GPL-3.0-or-later
// RoPE tables and rotation (see rope.h). The llama3 rule follows HF's
// _compute_llama3_parameters step by step in float32: wavelengths longer than
// original_max_position_embeddings / low_freq_factor are divided by `factor`, shorter than
// … / high_freq_factor are kept, and the band in between is interpolated with
// smooth = (orig / wavelen - low) / (high - low).
// Legend: B batch, T time, H heads, D head dim.
#include "core/model/rope.h"

#include <torch/torch.h>

#include <cmath>

namespace apportion {
namespace {

/// HF rotate_half: [x1, x2] -> [-x2, x1] over the last dim.
torch::Tensor rotate_half(const torch::Tensor& x) {
  const auto half = x.size(-1) / 2;
  auto x1 = x.narrow(/*dim=*/-1, /*start=*/0, half);
  auto x2 = x.narrow(/*dim=*/-1, /*start=*/half, half);
  return torch::cat({-x2, x1}, /*dim=*/-1);
}

}  // namespace

torch::Tensor rope_inv_freq(const ModelConfig& cfg, c10::Device device) {
  const int64_t d = cfg.head_dim();
  auto exponents =
      torch::arange(0, d, 2, torch::TensorOptions().dtype(torch::kInt64)).to(torch::kFloat32) /
      static_cast<double>(d);
  auto inv_freq = 1.0 / torch::pow(cfg.rope_theta, exponents);  // [D/2]
  const auto& rs = cfg.rope_scaling;
  if (rs.type == "linear") {
    inv_freq = inv_freq / rs.factor;
  } else if (rs.type == "llama3") {
    const double old_context = rs.original_max_position_embeddings;
    const double low_freq_wavelen = old_context / rs.low_freq_factor;
    const double high_freq_wavelen = old_context / rs.high_freq_factor;
    auto wavelen = 2 * M_PI / inv_freq;
    auto scaled = torch::where(wavelen > low_freq_wavelen, inv_freq / rs.factor, inv_freq);
    auto smooth =
        (old_context / wavelen - rs.low_freq_factor) / (rs.high_freq_factor - rs.low_freq_factor);
    auto smoothed = (1 - smooth) * scaled / rs.factor + smooth * scaled;
    auto is_medium =
        (wavelen < high_freq_wavelen).logical_not() * (wavelen > low_freq_wavelen).logical_not();
    inv_freq = torch::where(is_medium, smoothed, scaled);
  }
  return inv_freq.to(device);
}

std::pair<torch::Tensor, torch::Tensor> rope_cos_sin(const torch::Tensor& inv_freq,
                                                     const torch::Tensor& positions,
                                                     c10::ScalarType dtype) {
  auto freqs = positions.to(torch::kFloat32).unsqueeze(-1) * inv_freq;  // [B, T, D/2]
  auto emb = torch::cat({freqs, freqs}, /*dim=*/-1);                    // [B, T, D]
  return {emb.cos().to(dtype), emb.sin().to(dtype)};
}

torch::Tensor apply_rope(const torch::Tensor& x,
                         const torch::Tensor& cos,
                         const torch::Tensor& sin) {
  auto c = cos.unsqueeze(1), s = sin.unsqueeze(1);  // [B, 1, T, D]
  return x * c + rotate_half(x) * s;
}

}  // namespace apportion
