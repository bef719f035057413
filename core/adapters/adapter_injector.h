// SPDX-License-Identifier: GPL-3.0-or-later
// AdapterInjector: puts adapters on the backbone's projections named in target_modules, per the
// ExpertAllocation of each layer (plain LoRA or LoRA-MoE), and gives the trainer what it needs:
// the adapter parameters, the load-balancing loss (METHODS.md §1.4) and routing statistics.
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
  std::shared_ptr<LoraAdapterImpl> lora;    ///< set for lora
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
  /// All trainable adapter parameters, named by their full module path.
  std::vector<std::pair<std::string, torch::Tensor>> named_parameters() const;
  std::vector<torch::Tensor> parameters() const;
  int64_t parameter_count() const;
  /// λ-weighted balance loss of the last forward (undefined when λ == 0 or no MoE adapters).
  at::Tensor balance_loss(const BalanceConfig& cfg) const;
  RoutingStats routing_stats() const;
  void clear_caches();
  void add(InjectedAdapter a) { adapters_.push_back(std::move(a)); }

 private:
  std::vector<InjectedAdapter> adapters_;
};

/// Injects adapters; ConfigError if a target module name is unknown or the allocation's layer
/// count differs from the model's.
AdapterSet inject_adapters(TransformerLM& model,
                           const AdapterConfig& cfg,
                           const ExpertAllocation& allocation);

}  // namespace apportion
