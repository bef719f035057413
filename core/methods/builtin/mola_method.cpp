// SPDX-License-Identifier: GPL-3.0-or-later
// MoLA (METHODS.md §2): experts per layer from a preset (2468: more experts in higher layers)
// or an explicit list.
#include <algorithm>

#include "core/allocation/strategies.h"
#include "core/config/json_reader.h"
#include "core/methods/method_rows.h"

namespace apportion {
namespace {

class MolaMethod final : public Method {
 public:
  std::string name() const override { return "mola"; }
  std::string label() const override { return "MoLA"; }
  std::string description() const override {
    return "MoLA: LoRA-MoE with a per-layer expert count from a preset (2468: more experts in "
           "higher layers)";
  }
  MethodTraits traits() const override {
    MethodTraits t;
    t.plain_lora_is_baseline = true;
    t.uses_preset = true;
    return t;
  }
  std::unique_ptr<AllocationStrategy> strategy() const override { return make_mola_strategy(); }
  void validate(const ExperimentConfig& cfg) const override {
    if (cfg.allocation.experts_per_layer.empty()) {
      config_require(!cfg.allocation.preset.empty(), "allocation.preset",
                     "mola needs a preset (2468, 8642, diamond, uniform) or "
                     "allocation.experts_per_layer");
      mola_preset_blocks(cfg.allocation.preset);  // throws with the path on an unknown preset
    }
    Method::validate(cfg);
  }
  std::optional<std::pair<int, std::string>> min_experts(
      const ExperimentConfig& cfg) const override {
    if (!cfg.allocation.experts_per_layer.empty()) return Method::min_experts(cfg);
    const auto blocks = mola_preset_blocks(cfg.allocation.preset);
    return std::make_pair(*std::min_element(blocks.begin(), blocks.end()),
                          "allocation.preset \"" + cfg.allocation.preset + "\"");
  }
  void select(nlohmann::json& experiment) const override {
    Method::select(experiment);
    nlohmann::json& alloc = experiment["allocation"];
    if (!alloc.contains("preset") || !alloc["preset"].is_string()) alloc["preset"] = "2468";
  }
  std::string key_params(const std::string& /*run_label*/,
                         const std::map<std::string, std::string>& params) const override {
    return "mola " + param_text(params, "allocation.preset") +
           " k=" + param_text(params, "adapters.top_k") + " r=" + param_text(params, "adapters.r");
  }
};

}  // namespace

const Method& mola_method() {
  static const MolaMethod kMethod;
  return kMethod;
}

}  // namespace apportion
