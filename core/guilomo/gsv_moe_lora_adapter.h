// SPDX-License-Identifier: GPL-3.0-or-later
// GsvMoeLoraAdapter: the GuiLoMo stage-1 supernet adapter of one projection (METHODS.md §3.2):
// N_max LoRA experts of rank r_max each, a router, a per-rank scale E, and the two
// GuidedSelection Vectors that pick how many experts (g^E, additive mask on the router logits)
// and how many ranks per expert (g^R, multiplicative mask on the rows of A) are active. The
// masks have straight-through backward rules (custom autograd functions, see gsv_expert_mask /
// gsv_rank_mask). The forward is the shared LoRA-MoE layer (lora_moe_forward in
// moe_lora_adapter.h) with the masks folded into its operands: two matrix products over stacked
// A [E·R, Din] and B [Dout, E·R], no per-expert loop.
//
// Parameter names (the level split of METHODS.md §3.3 is by name, see is_gsv_parameter):
//   router.weight [E, Din], lora_A [E·R, Din], lora_B [Dout, E·R], lora_E [E, R]   → w
//   router_expert_vector [E], expertlora_E_vector [E, R]                          → α
//
// Intended usage:
//   GsvMoeLoraOptions o;                       // 8 × 8, top-2, alpha 16, dropout 0.05
//   auto a = std::make_shared<GsvMoeLoraAdapterImpl>(din, dout, o);
//   slot.linear->set_adapter(a);               // or inject_gsv_adapters (gsv_supernet.h)
//   auto y = slot.linear(x);                   // masked forward; a->last_router_logits() for the
//                                              // balance loss (they include the expert mask)
//   GsvModuleValues v = a->gsv_values(path, layer, module);   // σ(g) for records and readout
//
// Legend: N tokens (B·T flattened), E = N_max experts, R = r_max ranks, Din/Dout features.
#pragma once

#include <string>
#include <vector>

#include "core/adapters/adaptable_linear.h"
#include "core/allocation/guilomo_readout.h"

namespace apportion {

/// Expert-mask value of an active expert (added to its router logit; reference: +0.5).
constexpr double kGsvExpertOn = 0.5;
/// Expert-mask value of an inactive expert (reference: −1e4, ≈0 probability after softmax).
constexpr double kGsvExpertOff = -1e4;
/// Rank-mask value of an inactive rank, and the leak of the rank STE (reference: 1e-4).
constexpr double kGsvRankOff = 1e-4;

/// Settings of one supernet adapter (METHODS.md §3.7 defaults).
struct GsvMoeLoraOptions {
  int num_experts = 8;         ///< N_max
  int max_rank = 8;            ///< r_max
  int top_k = 2;               ///< experts per token
  double alpha = 16.0;         ///< scaling = alpha / max_rank (the reference's alpha / r)
  double dropout = 0.05;       ///< on the expert input (one mask per call, shared by experts)
  double init_std = 0.02;      ///< A, B ~ N(0, init_std) (stage-1 init, METHODS.md §1.3)
  int min_active_experts = 2;  ///< the expert boundary is at least this − 1 (reference: k_E ≥ 1)
};

/// True when a parameter name belongs to the upper level α (contains router_expert_vector or
/// expertlora_E_vector); everything else trainable is the lower level w.
bool is_gsv_parameter(const std::string& name);

/// Additive expert mask M [E] from s = σ(g^E) [E]: with k = max(argmax s, min_boundary),
/// M_j = +0.5 for j ≤ k and −1e4 otherwise. Backward (straight-through, reference code): only
/// the boundary gets a gradient, ∂L/∂s_k = Σ_{j≤k} s_j·∂L/∂M_j; all other entries get 0.
/// No host synchronisation (argmax stays on the device).
torch::Tensor gsv_expert_mask(const torch::Tensor& s, int64_t min_boundary);

/// Multiplicative rank masks m [E, R] from s = σ(g^R) [E, R], row-wise: with k = argmax s,
/// m_j = 1 for j ≤ k and 1e-4 otherwise. Backward: ∂L/∂s_k = Σ_{j≤k} s_j·∂L/∂m_j at the
/// boundary, 1e-4·∂L/∂m_j elsewhere.
torch::Tensor gsv_rank_mask(const torch::Tensor& s);

class GsvMoeLoraAdapterImpl : public AdapterImpl {
 public:
  GsvMoeLoraAdapterImpl(int64_t in_features, int64_t out_features, GsvMoeLoraOptions options);

  /// x [.., Din] -> [.., Dout] with the current GSV masks (see delta_with_masks).
  torch::Tensor delta(const torch::Tensor& x) override;

  /// The forward of METHODS.md §3.2 with given masks M [E] (added to the router logits) and
  /// m [E, R] (scales the rows of A with E): z = x W_rᵀ + M, p = softmax(z) in ≥ float32,
  /// renormalised top-k gates ĝ, delta = Σ_{i∈top-k} ĝ_i · s · B_i diag(E_i ⊙ m_i) A_i dropout(x)
  /// with s = alpha / r_max. Stores the masked logits and the gates of this call.
  torch::Tensor delta_with_masks(const torch::Tensor& x,
                                 const torch::Tensor& expert_mask,
                                 const torch::Tensor& rank_mask);

  /// M [E] from the expert GSV through the straight-through function (in the graph).
  torch::Tensor expert_mask();
  /// m [E, R] from the rank GSVs through the straight-through function (in the graph).
  torch::Tensor rank_mask();

  /// Masked router logits of the last forward, [N, E] (float32 or wider, in the graph).
  const torch::Tensor& last_router_logits() const { return last_logits_; }
  /// Renormalised top-k gates of the last forward, [N, E] (zero outside the top-k), detached.
  const torch::Tensor& last_gates() const { return last_gates_; }
  /// Drops the stored tensors (call after the loss is computed, to free the graph).
  void clear_cache();

  /// σ(g^E) [E] on the host.
  std::vector<float> expert_gsv_sigmoid() const;
  /// σ(g^R) [E][R] on the host.
  std::vector<std::vector<float>> rank_gsv_sigmoid() const;
  /// Both σ vectors, tagged with the module's place (for records and the readout).
  GsvModuleValues gsv_values(const std::string& path, int layer, const std::string& module) const;
  /// Experts the forward currently activates: max(argmax σ(g^E), min_active_experts − 1) + 1.
  int current_experts() const;
  /// Ranks the forward currently keeps at full scale, per expert: argmax σ(g^R_i) + 1.
  std::vector<int> current_ranks() const;

  int num_experts() const { return options_.num_experts; }
  int max_rank() const { return options_.max_rank; }
  int top_k() const { return options_.top_k; }
  double scaling() const { return options_.alpha / options_.max_rank; }
  const GsvMoeLoraOptions& options() const { return options_; }

  torch::Tensor router_weight;         ///< [E, Din], registered as "router.weight"
  torch::Tensor lora_A;                ///< [E·R, Din] stacked A_i, N(0, init_std)
  torch::Tensor lora_B;                ///< [Dout, E·R] stacked B_i, N(0, init_std)
  torch::Tensor lora_E;                ///< [E, R] per-rank scale, ones (lower level)
  torch::Tensor router_expert_vector;  ///< [E] expert GSV g^E, softmax(N(0, I)) (upper level)
  torch::Tensor expertlora_E_vector;   ///< [E, R] rank GSVs g^R, row-wise softmax(N(0, I))

 private:
  GsvMoeLoraOptions options_;
  torch::Tensor last_logits_, last_gates_;
};

}  // namespace apportion
