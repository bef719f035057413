// SPDX-License-Identifier: GPL-3.0-or-later
// AlphaLoRA as a registry row: LoRA-MoE whose experts per layer follow the heavy-tail exponent α
// of each layer's weight spectrum, scaled to a total expert budget (alphalora_spectrum.h). The
// spectrum needs the backbone's weights, so the torch row (core/alphalora/) decides the counts
// when the run builds the model; before the run the plan is an even spread of the same total,
// which costs exactly the same parameters (every layer's experts have the same shapes).
#include "core/allocation/strategies.h"
#include "core/common/error.h"
#include "core/config/json_reader.h"
#include "core/methods/alphalora/alphalora_options.h"
#include "core/methods/method_rows.h"

namespace apportion {
namespace {

class AlphaLoraMethod final : public Method {
 public:
  std::string name() const override { return "alphalora"; }
  std::string label() const override { return "AlphaLoRA"; }
  std::string description() const override {
    return "AlphaLoRA: LoRA-MoE with experts per layer in proportion to α^β, α the heavy-tail "
           "exponent of the layer's weight spectrum (training-free), at a total expert budget";
  }
  MethodTraits traits() const override {
    MethodTraits t;
    t.whole_model = true;
    t.decided_at_run_time = true;
    return t;
  }
  std::string section() const override { return kAlphaLoraSection; }
  void parse_section(const nlohmann::json& j, AllocationConfig& alloc) const override {
    alloc.sections[kAlphaLoraSection] = alphalora_options_json(parse_alphalora_options(j));
  }
  nlohmann::json section_json(const AllocationConfig& alloc) const override {
    const auto it = alloc.sections.find(kAlphaLoraSection);
    return it != alloc.sections.end() ? it->second : alphalora_options_json({});
  }
  void validate(const ExperimentConfig& cfg) const override {
    validate_alphalora_options(alphalora_options(cfg));
    if (!cfg.adapters) return;
    config_require(!cfg.adapters->plain_lora(), "adapters.method",
                   "AlphaLoRA allocates LoRA-MoE experts; set it to \"moe_lora\"");
    config_require(cfg.allocation.experts_per_layer.empty(), "allocation.experts_per_layer",
                   "AlphaLoRA decides the experts per layer; remove the list");
    config_require(cfg.allocation.top_k_per_layer.empty(), "allocation.top_k_per_layer",
                   "AlphaLoRA uses min(adapters.top_k, experts) in every layer; remove the list");
  }
  std::optional<std::pair<int, std::string>> min_experts(
      const ExperimentConfig& /*cfg*/) const override {
    return std::nullopt;  // top-k is min(adapters.top_k, experts) per layer
  }
  std::vector<MethodField> fields() const override {
    using K = MethodField::Kind;
    return {
        {"total_experts",
         "Total experts",
         "Experts over all layers; 0 = MoLA 2468's total on this backbone",
         K::Int,
         0,
         65536,
         0,
         {},
         "= MoLA 2468's total"},
        {"beta", "β", "Exponent of α in the scaling (reference: 2.5)", K::Double, 0, 20, 2, {}}};
  }
  std::vector<MatrixView> matrix_views() const override {
    return {{kAlphaLoraAlpha, "AlphaLoRA α per projection", "α", "module"},
            {kAlphaLoraLayerAlpha, "AlphaLoRA α per layer", "α", "layer mean"}};
  }
  /// An even spread of the total (later layers take the remainder): what the run will cost.
  ExpertAllocation plan(const ExperimentConfig& cfg, const ModelShape& shape) const override {
    const int layers = shape.num_layers;
    const int total = alphalora_options(cfg).total_for(layers);
    std::vector<int> counts(static_cast<size_t>(layers), total / layers);
    for (int l = layers - total % layers; l < layers; ++l) ++counts[static_cast<size_t>(l)];
    return plan_from_counts(cfg, counts);
  }
  PlanSummary summarize(const ExperimentConfig& cfg,
                        const ModelShape& shape,
                        const std::string& workspace_dir) const override {
    PlanSummary s = Method::summarize(cfg, shape, workspace_dir);
    if (!s.ok) return s;
    const AlphaLoraOptions o = alphalora_options(cfg);
    s.text = "AlphaLoRA: " + std::to_string(o.total_for(shape.num_layers)) + " experts over " +
             std::to_string(shape.num_layers) +
             " layers in proportion to α^β of each layer's weight spectrum (β = " +
             nlohmann::json(o.beta).dump() + "), decided when the run loads the backbone · top-k " +
             std::to_string(cfg.adapters->top_k) + " · " + format_count(s.trainable_parameters) +
             " trainable parameters (any split of the total costs the same)";
    return s;
  }
  std::string key_params(const std::string& /*run_label*/,
                         const std::map<std::string, std::string>& params) const override {
    const std::string total = param_text(params, "allocation.alphalora.total_experts", "0");
    return "AlphaLoRA Σ" + (total == "0" ? std::string(" of 2468") : total) +
           " β=" + param_text(params, "allocation.alphalora.beta", "2.5") +
           " k=" + param_text(params, "adapters.top_k") + " r=" + param_text(params, "adapters.r");
  }
};

}  // namespace

ExpertAllocation plan_from_counts(const ExperimentConfig& cfg, const std::vector<int>& counts) {
  AllocationBudget budget = budget_from(cfg);
  budget.explicit_top_k.clear();
  for (int n : counts) {
    AP_CHECK_AS(ConfigError, n >= 1,
                "allocation.alphalora.total_experts: a layer got no "
                "expert; raise the total or lower allocation.alphalora.beta");
    budget.explicit_top_k.push_back(std::min(cfg.adapters->top_k, n));
  }
  return allocation_from_counts(counts, budget);
}

const Method& alphalora_method() {
  static const AlphaLoraMethod kMethod;
  return kMethod;
}

}  // namespace apportion
