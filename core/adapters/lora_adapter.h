// SPDX-License-Identifier: GPL-3.0-or-later
// Plain LoRA (the baseline, and the per-expert LoRA of sparse-MoE backbones):
// delta = s · B[:, :k] A[:k] dropout(x), A Kaiming-uniform (a = √5), B zero. Parameter names
// follow peft: lora_A [R, Din], lora_B [Dout, R].
// Two options exist for DR-LoRA (METHODS.md §4.4): R can be pre-allocated (r_max) with only the
// first k = active_rank() rank columns in use (the others contribute exactly zero and get exactly
// zero gradient), and the scaling denominator can be fixed (s = α / r_target) so that growing k
// does not rescale the columns already in use. Defaults are peft's: k = R, s = α / R.
// Legend: N tokens, Din in-features, Dout out-features, R allocated rank, k active rank.
#pragma once

#include "core/adapters/adaptable_linear.h"

namespace apportion {

/// Construction options of a LoRA adapter.
struct LoraOptions {
  int r = 8;                  ///< allocated rank R (DR-LoRA: r_max)
  double alpha = 16.0;        ///< scaling numerator
  double dropout = 0.0;       ///< dropout on the adapter input, in [0, 1)
  int active_rank = -1;       ///< rank columns in use (the first ones), 0..R; -1 = all R
  double scaling_rank = 0.0;  ///< scaling denominator: s = α / scaling_rank; 0 = R (peft)
};

class LoraAdapterImpl : public AdapterImpl {
 public:
  /// peft semantics: rank r, s = α / r, every column active.
  LoraAdapterImpl(int64_t in_features, int64_t out_features, int r, double alpha, double dropout);
  LoraAdapterImpl(int64_t in_features, int64_t out_features, const LoraOptions& options);
  torch::Tensor delta(const torch::Tensor& x) override;  // [.., Din] -> [.., Dout]

  /// s, the factor applied to B A x.
  double scaling() const { return scaling_; }
  /// Overrides s (import of rsLoRA / alpha_pattern adapters, explicit scaling modes).
  void set_scaling(double scaling) { scaling_ = scaling; }
  double alpha() const { return alpha_; }
  double dropout() const { return dropout_; }
  /// Allocated rank R (rows of lora_A).
  int rank() const { return static_cast<int>(lora_A.size(0)); }
  /// Rank columns in use, k ≤ R (the first k rows of A and columns of B).
  int active_rank() const { return active_rank_; }
  /// Sets k in 0..R. Columns ≥ k contribute exactly zero and receive exactly zero gradient.
  void set_active_rank(int k);
  /// The active-rank mask μ [R] float32 (1 for the first k columns, else 0), on A's device.
  torch::Tensor rank_mask() const;

  torch::Tensor lora_A;  ///< [R, Din]
  torch::Tensor lora_B;  ///< [Dout, R]

 private:
  double alpha_;
  double scaling_;
  double dropout_;
  int active_rank_;
};

}  // namespace apportion
