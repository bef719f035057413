// SPDX-License-Identifier: GPL-3.0-or-later
// AdapterInjector: puts adapters on the backbone's projections named in target_modules, per the
// ExpertAllocation of each layer (plain LoRA or LoRA-MoE), and gives the trainer what it needs:
// the adapter parameters, the load-balancing loss (METHODS.md §1.4) and routing statistics.
// On sparse-MoE backbones (METHODS.md §4.4) every routed expert's gate/up/down projection in
// target_modules gets a plain LoRA of that expert's own rank (ExpertAllocation::expert_ranks,
// default adapters.r); attention, dense-MLP and shared-expert projections get LoRA or LoRA-MoE
// per adapters.method; the backbone router stays frozen unless adapters.train_backbone_router.
//
// Intended usage:
//   model->freeze_backbone();
//   AdapterSet adapters = inject_adapters(model, *cfg.adapters, allocation);
//   auto logits = model->forward(ids, mask);
//   auto aux = adapters.balance_loss(cfg.adapters->balance);   // undefined tensor for LoRA
//   RoutingStats stats = adapters.routing_stats();              // per layer × module × expert
//   adapters.clear_caches();
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ATen/Tensor.h>

#include "core/allocation/expert_allocation.h"
#include "core/config/experiment_config.h"
#include "core/model/transformer_lm.h"

namespace apportion {

class MoeLoraAdapterImpl;
class LoraAdapterImpl;

/// One injected adapter and where it sits.
struct InjectedAdapter {
  int layer = 0;
  std::string module;                       ///< q_proj … down_proj
  std::string name;                         ///< HF prefix of the projection
  std::shared_ptr<MoeLoraAdapterImpl> moe;  ///< set for moe_lora
  std::shared_ptr<LoraAdapterImpl> lora;    ///< set for lora (and backbone-expert slots)
  int expert = -1;                          ///< routed backbone expert of the slot, -1 otherwise
  bool shared_expert = false;               ///< Qwen2-MoE shared-expert projection
};

/// Routing load of the last forward: fraction of top-k assignments per expert and mean router
/// probability, shaped [layers, modules, max_experts] row-major, NaN where a layer has fewer
/// experts (the store's padding rule).
struct RoutingStats {
  int layers = 0;
  int modules = 0;
  int max_experts = 0;
  std::vector<std::string> module_names;
  std::vector<float> load_fraction;
  std::vector<float> router_prob_mean;
  /// Mean over modules of the router entropy, averaged over layers (a scalar to log).
  double mean_router_entropy = 0.0;
};

class AdapterSet {
 public:
  const std::vector<InjectedAdapter>& adapters() const { return adapters_; }
  /// All trainable parameters, named by their full module path: the adapters' (…adapter.*),
  /// then the trained backbone parameters (backbone_parameters()).
  std::vector<std::pair<std::string, torch::Tensor>> named_parameters() const;
  std::vector<torch::Tensor> parameters() const;
  int64_t parameter_count() const;
  /// λ-weighted balance loss of the last forward (undefined when λ == 0 or no MoE adapters).
  at::Tensor balance_loss(const BalanceConfig& cfg) const;
  RoutingStats routing_stats() const;
  void clear_caches();
  void add(InjectedAdapter a) { adapters_.push_back(std::move(a)); }
  /// Decoder layers of the model the set was injected into (the layer axis of routing_stats,
  /// which also covers layers left without adapters); 0 = up to the last adapted layer.
  void set_num_layers(int layers) { num_layers_ = layers; }
  /// Backbone parameters trained with the adapters (the MoE routers with
  /// adapters.train_backbone_router), by their HF name (…mlp.gate.weight).
  const std::vector<std::pair<std::string, torch::Tensor>>& backbone_parameters() const {
    return backbone_params_;
  }
  void add_backbone_parameter(std::string name, torch::Tensor t) {
    backbone_params_.emplace_back(std::move(name), std::move(t));
  }

 private:
  std::vector<InjectedAdapter> adapters_;
  std::vector<std::pair<std::string, torch::Tensor>> backbone_params_;
  int num_layers_ = 0;
};

/// One term of the load-balancing loss (METHODS.md §1.4) over router logits z [N, E]:
/// Σ_i f_i · P̄_i (f: fraction of the top-k assignments, P̄: mean softmax probability), times E
/// when multiply_by_experts. Not multiplied by λ.
at::Tensor balance_loss_term(const at::Tensor& z, int top_k, bool multiply_by_experts);

/// Injects adapters on the layers cfg.layers_to_transform lists (all when empty; the others
/// keep their frozen base projections and router); ConfigError if a target module name is
/// unknown, a listed layer is out of range, the allocation's layer count differs from the
/// model's or gives an adapted layer no experts, expert_ranks does not match the backbone's
/// experts, or train_backbone_router is set on a dense backbone.
AdapterSet inject_adapters(TransformerLM& model,
                           const AdapterConfig& cfg,
                           const ExpertAllocation& allocation);

}  // namespace apportion
