// SPDX-License-Identifier: GPL-3.0-or-later
// LoRA-MoE adapter of one projection (METHODS.md §1.2): a router (softmax in fp32, top-k,
// renormalised) over N LoRA experts, each with its own rank r_i and scaling α / r_i.
// All experts are computed with two matrix products, no per-expert loop: the A's are stacked
// into lora_A [ΣR, Din], the B's into lora_B [Dout, ΣR], and each rank column of the hidden
// activation is scaled by its expert's gate × scaling (`column_scale`, [N, ΣR]), the hook where
// GuiLoMo's rank masks and DR-LoRA's active ranks plug in later.
// Legend: N tokens, E experts, R = ΣR total rank.
#pragma once

#include <vector>

#include "core/adapters/adaptable_linear.h"

namespace apportion {

/// What one LoRA-MoE forward multiplies: the shared two-GEMM layer of every LoRA-MoE adapter
/// (MoeLoraAdapter, GuiLoMo's supernet adapter with its masks folded into the operands).
struct LoraMoeOperands {
  torch::Tensor router_weight;   ///< [E, Din]
  torch::Tensor logit_mask;      ///< [E] added to the router logits (≥ float32), or undefined
  int top_k = 1;                 ///< experts per token (renormalised top-k of the softmax)
  torch::Tensor lora_A;          ///< [ΣR, Din] stacked A (GuiLoMo: rows already masked)
  torch::Tensor lora_B;          ///< [Dout, ΣR] stacked B
  torch::Tensor column_expert;   ///< [ΣR] int64: expert of each rank column
  torch::Tensor column_scaling;  ///< [ΣR]: the scaling of each rank column
  double dropout = 0.0;          ///< on the adapter input, one mask shared by the experts
};

/// delta = ((dropout(x) Aᵀ) ⊙ gates[:, column_expert] · column_scaling) Bᵀ for x [.., Din] →
/// [.., Dout]; the router logits (in the graph) and the detached gates [N, E] go to `logits`
/// and `gates` when given.
torch::Tensor lora_moe_forward(const LoraMoeOperands& operands,
                               const torch::Tensor& x,
                               bool training,
                               torch::Tensor* logits = nullptr,
                               torch::Tensor* gates = nullptr);

class MoeLoraAdapterImpl : public AdapterImpl {
 public:
  MoeLoraAdapterImpl(int64_t in_features,
                     int64_t out_features,
                     std::vector<int> ranks,
                     int top_k,
                     double alpha,
                     double dropout);
  /// x [.., Din] -> [.., Dout]. Stores the router logits of this call (see last_router_logits).
  torch::Tensor delta(const torch::Tensor& x) override;

  /// Router logits of the last forward, [N, E] (kept in the graph for the balance loss).
  const torch::Tensor& last_router_logits() const { return last_logits_; }
  /// Renormalised top-k gates of the last forward, [N, E] (zero outside the top-k), detached.
  const torch::Tensor& last_gates() const { return last_gates_; }
  /// Drops the stored tensors (call after the loss is computed, to free the graph).
  void clear_cache();

  int num_experts() const { return static_cast<int>(ranks_.size()); }
  int top_k() const { return top_k_; }
  double alpha() const { return alpha_; }
  double dropout() const { return dropout_; }
  const std::vector<int>& ranks() const { return ranks_; }
  /// First column of expert i in the stacked layout.
  int64_t rank_offset(int expert) const { return offsets_.at(expert); }
  /// α / r_i of expert i (or what set_expert_scaling set).
  double expert_scaling(int expert) const { return expert_scaling_.at(expert); }
  /// Overrides the per-expert scaling, e.g. GuiLoMo stage 2's reference-compatible mode
  /// (α / rank of the last expert for all experts, METHODS.md §3.6).
  void set_expert_scaling(const std::vector<double>& scaling);

  torch::Tensor router_weight;  ///< [E, Din], registered as "router.weight"
  torch::Tensor lora_A;         ///< [ΣR, Din] stacked A_i
  torch::Tensor lora_B;         ///< [Dout, ΣR] stacked B_i

 private:
  std::vector<int> ranks_;
  std::vector<int64_t> offsets_;
  int top_k_;
  double alpha_;
  double dropout_;
  torch::Tensor column_expert_;         ///< [ΣR] int64: expert index of each rank column
  torch::Tensor column_scaling_;        ///< [ΣR] float: α / r of each column's expert
  std::vector<double> expert_scaling_;  ///< [E] host copy of the scaling
  torch::Tensor last_logits_, last_gates_;
};

/// Reference implementation for tests and the benchmark: a per-expert loop over the same
/// parameters (same math as delta() with dropout disabled).
torch::Tensor moe_lora_delta_naive(MoeLoraAdapterImpl& adapter, const torch::Tensor& x);

}  // namespace apportion
