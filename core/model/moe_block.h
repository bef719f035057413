// SPDX-License-Identifier: GPL-3.0-or-later
// The sparse MoE feed-forward of Mixtral, OLMoE and Qwen2-MoE backbones: a bias-free router
// `gate` [E, C], E SwiGLU experts, and (Qwen2-MoE) a shared expert scaled per token by
// sigmoid(shared_expert_gate(x)). Routing follows HF: softmax over experts in float32, top-k,
// renormalise the k weights when norm_topk_prob (always for Mixtral), cast to the hidden dtype,
// and sum each token's expert outputs weighted by them. The router logits of the last forward
// are kept ([N, E] float32, in the autograd graph) for routing statistics and auxiliary losses.
// Legend: B batch, T time, N = B·T tokens, C hidden, E experts, K top-k.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "core/backbone/model_config.h"
#include "core/model/mlp.h"
#include "core/model/module_init.h"

namespace apportion {

class SparseMoeBlockImpl : public torch::nn::Module {
 public:
  SparseMoeBlockImpl(const ModelConfig& cfg, const BuildOptions& opts);
  /// x [B, T, C] -> [B, T, C]; stores the router logits.
  torch::Tensor forward(const torch::Tensor& x);

  /// Router logits of the last forward, [N, E] float32 (undefined after clear_router_cache()).
  const torch::Tensor& router_logits() const { return router_logits_; }
  void clear_router_cache() { router_logits_ = torch::Tensor(); }
  int num_experts() const { return num_experts_; }
  int top_k() const { return top_k_; }
  bool norm_topk_prob() const { return norm_topk_prob_; }
  /// Expert `e` as an MLP.
  MLPImpl& expert(int e);

  torch::nn::Linear gate{nullptr};                ///< router, [E, C], no bias
  torch::nn::ModuleList experts{nullptr};         ///< E × MLP
  MLP shared_expert{nullptr};                     ///< Qwen2-MoE only
  torch::nn::Linear shared_expert_gate{nullptr};  ///< Qwen2-MoE only, [1, C]

 private:
  int num_experts_, top_k_;
  bool norm_topk_prob_;
  double jitter_noise_;
  torch::Tensor router_logits_;
};
TORCH_MODULE(SparseMoeBlock);

}  // namespace apportion
