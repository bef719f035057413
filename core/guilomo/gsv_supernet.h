// SPDX-License-Identifier: GPL-3.0-or-later
// GsvSupernet: the GuiLoMo stage-1 supernet on a backbone (METHODS.md §3.2-§3.3): one
// GsvMoeLoraAdapter on every targeted projection, plus what the search loop needs: the level
// split of the parameters by name (w and α), the masked router logits per layer for the balance
// loss, and the GSV values of every module for matrix records and the final readout.
//
// Intended usage:
//   model->freeze_backbone();
//   GsvSupernet net = inject_gsv_adapters(model, cfg.adapters->target_modules,
//   GsvMoeLoraOptions{}); torch::optim::AdamW w_opt(net.lower_parameters(), …); BilevelArchitect
//   architect(net.lower_parameters(), net.gsv_parameters(), w_opt, options); … per step: losses
//   from model->forward(…) (+ balance loss over net.router_logits_by_layer()) auto records =
//   gsv_records(net.gsv_values(), readout_options, step);   // gsv_records.h GuiLoMoAllocation
//   found = read_allocation(net.gsv_values(), readout_options);
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/Tensor.h>

#include "core/allocation/guilomo_readout.h"
#include "core/guilomo/gsv_moe_lora_adapter.h"
#include "core/model/transformer_lm.h"

namespace apportion {

/// One supernet adapter and where it sits.
struct GsvAdapterSlot {
  int layer = 0;
  std::string module;  ///< q_proj … down_proj
  std::string name;    ///< HF prefix of the projection (the module path of expert.json)
  std::shared_ptr<GsvMoeLoraAdapterImpl> adapter;
};

class GsvSupernet {
 public:
  const std::vector<GsvAdapterSlot>& slots() const { return slots_; }
  void add(GsvAdapterSlot slot) { slots_.push_back(std::move(slot)); }
  /// All adapter parameters, named "<projection>.adapter.<parameter>".
  std::vector<std::pair<std::string, at::Tensor>> named_parameters() const;
  /// The lower level w (every adapter parameter that is not a GSV).
  std::vector<at::Tensor> lower_parameters() const;
  /// The upper level α (router_expert_vector and expertlora_E_vector of every adapter).
  std::vector<at::Tensor> gsv_parameters() const;
  /// σ(GSV) of every module, in slot order.
  std::vector<GsvModuleValues> gsv_values() const;
  /// Masked router logits of the last forward, grouped by layer (slot order within a layer).
  std::map<int, std::vector<at::Tensor>> router_logits_by_layer() const;
  void clear_caches();

 private:
  std::vector<GsvAdapterSlot> slots_;
};

/// Puts a GsvMoeLoraAdapter on every dense projection whose module is in target_modules (routed
/// experts of a MoE backbone are skipped). ConfigError for an unknown module name.
GsvSupernet inject_gsv_adapters(TransformerLM& model,
                                const std::vector<std::string>& target_modules,
                                const GsvMoeLoraOptions& options);

}  // namespace apportion
