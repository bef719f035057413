// SPDX-License-Identifier: GPL-3.0-or-later
// The GuiLoMo supernet on a backbone: injection and the collections the search loop needs.
#include "core/guilomo/gsv_supernet.h"

#include <torch/torch.h>

#include <algorithm>

#include "core/common/error.h"

namespace apportion {

std::vector<std::pair<std::string, torch::Tensor>> GsvSupernet::named_parameters() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& s : slots_) {
    for (const auto& item : s.adapter->named_parameters(/*recurse=*/true)) {
      out.emplace_back(s.name + ".adapter." + item.key(), item.value());
    }
  }
  return out;
}

std::vector<torch::Tensor> GsvSupernet::lower_parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& [name, p] : named_parameters()) {
    if (!is_gsv_parameter(name)) out.push_back(p);
  }
  return out;
}

std::vector<torch::Tensor> GsvSupernet::gsv_parameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& [name, p] : named_parameters()) {
    if (is_gsv_parameter(name)) out.push_back(p);
  }
  return out;
}

std::vector<GsvModuleValues> GsvSupernet::gsv_values() const {
  std::vector<GsvModuleValues> out;
  for (const auto& s : slots_) out.push_back(s.adapter->gsv_values(s.name, s.layer, s.module));
  return out;
}

std::map<int, std::vector<torch::Tensor>> GsvSupernet::router_logits_by_layer() const {
  std::map<int, std::vector<torch::Tensor>> out;
  for (const auto& s : slots_) {
    if (s.adapter->last_router_logits().defined()) {
      out[s.layer].push_back(s.adapter->last_router_logits());
    }
  }
  return out;
}

void GsvSupernet::clear_caches() {
  for (auto& s : slots_) s.adapter->clear_cache();
}

GsvSupernet inject_gsv_adapters(TransformerLM& model,
                                const std::vector<std::string>& target_modules,
                                const GsvMoeLoraOptions& options) {
  static const std::vector<std::string> kKnown = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                                  "gate_proj", "up_proj", "down_proj"};
  for (const auto& m : target_modules) {
    AP_CHECK_AS(ConfigError, std::find(kKnown.begin(), kKnown.end(), m) != kKnown.end(),
                "adapters.target_modules: unknown module '", m,
                "' (known: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)");
  }
  GsvSupernet net;
  for (auto& slot : model->projections()) {
    if (slot.expert >= 0) continue;
    if (std::find(target_modules.begin(), target_modules.end(), slot.module) ==
        target_modules.end()) {
      continue;
    }
    GsvAdapterSlot s;
    s.layer = slot.layer;
    s.module = slot.module;
    s.name = slot.name;
    s.adapter = std::make_shared<GsvMoeLoraAdapterImpl>(slot.linear->in_features(),
                                                        slot.linear->out_features(), options);
    slot.linear->set_adapter(s.adapter);
    net.add(std::move(s));
  }
  return net;
}

}  // namespace apportion
