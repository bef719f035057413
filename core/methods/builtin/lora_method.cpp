// SPDX-License-Identifier: GPL-3.0-or-later
// The plain-LoRA baseline as a registry row: adapters.method "lora" with a uniform or MoLA
// allocation (one rank-r LoRA per target projection, no router, no experts).
#include "core/methods/method_registry.h"
#include "core/methods/method_rows.h"

namespace apportion {
namespace {

class LoraMethod final : public Method {
 public:
  std::string name() const override { return "lora"; }
  std::string label() const override { return "LoRA"; }
  std::string description() const override {
    return "Plain LoRA: one rank-r adapter per target projection (the baseline)";
  }
  MethodTraits traits() const override {
    MethodTraits t;
    t.adapter_router = false;
    t.uses_top_k = false;
    return t;
  }
  void select(nlohmann::json& experiment) const override {
    experiment["adapters"]["method"] = "lora";
    // A method that is not a plain-LoRA baseline (a routed-expert method still adapts experts,
    // GuiLoMo needs LoRA-MoE) falls back to uniform; MoLA keeps its preset.
    nlohmann::json& alloc = experiment["allocation"];
    if (!alloc.is_object()) alloc = nlohmann::json::object();
    const Method* previous = find_method(alloc.value("method", std::string()));
    if (!previous || !previous->traits().plain_lora_is_baseline) alloc["method"] = "uniform";
  }
  bool describes(const ExperimentConfig& cfg) const override {
    if (!cfg.adapters || !cfg.adapters->plain_lora()) return false;
    const Method* m = find_method(cfg.allocation.method);
    return m && m->traits().plain_lora_is_baseline;
  }
  std::string run_label(const ExperimentConfig& /*cfg*/) const override { return "lora"; }
  std::string key_params(const std::string& /*run_label*/,
                         const std::map<std::string, std::string>& params) const override {
    return "LoRA r=" + param_text(params, "adapters.r");
  }
};

}  // namespace

const Method& lora_method() {
  static const LoraMethod kMethod;
  return kMethod;
}

}  // namespace apportion
