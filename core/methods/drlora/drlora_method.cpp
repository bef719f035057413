// SPDX-License-Identifier: GPL-3.0-or-later
// DR-LoRA (METHODS.md §4.4) and its static-frequency baseline (§6) as registry rows: both adapt
// every routed expert of a sparse-MoE backbone with a LoRA under the rank budget L·N·r_target
// and read allocation.drlora. The torch half is core/drlora/drlora_runtime.cpp.
#include <cstdlib>

#include "core/allocation/strategies.h"
#include "core/common/error.h"
#include "core/config/method_config_io.h"
#include "core/methods/method_rows.h"
#include "core/store/matrix_keys.h"

namespace apportion {
namespace {

bool is_routed_projection(const std::string& module) {
  return module == "gate_proj" || module == "up_proj" || module == "down_proj";
}

class RoutedExpertMethod : public Method {
 public:
  explicit RoutedExpertMethod(bool grows) : grows_(grows) {}
  std::string name() const override { return grows_ ? "drlora" : "static_frequency"; }
  std::string label() const override { return grows_ ? "DR-LoRA" : "Static frequency"; }
  std::string description() const override {
    return grows_ ? "DR-LoRA: LoRA on every routed expert of a sparse-MoE backbone (Mixtral "
                    "layout); ranks start at r_init and grow for salient experts under the "
                    "budget L·N·r_target"
                  : "DR-LoRA's static baseline: routed-expert ranks fixed once from a "
                    "calibration pass of the routing frequencies, same budget L·N·r_target";
  }
  MethodTraits traits() const override {
    MethodTraits t;
    t.routed_experts = true;
    t.whole_model = true;
    t.uses_top_k = false;
    t.decided_at_run_time = true;
    return t;
  }
  std::string section() const override { return "drlora"; }
  void parse_section(const nlohmann::json& j, AllocationConfig& alloc) const override {
    alloc.drlora = parse_drlora_config(j);
  }
  nlohmann::json section_json(const AllocationConfig& alloc) const override {
    return drlora_config_to_json(alloc.drlora);
  }
  void validate(const ExperimentConfig& cfg) const override {
    validate_drlora_config(cfg.allocation.drlora);
    Method::validate(cfg);
  }
  std::unique_ptr<AllocationStrategy> strategy() const override {
    return grows_ ? make_drlora_strategy() : make_static_frequency_strategy();
  }
  /// The routed experts' plan; dense target projections follow adapters.method (plain LoRA:
  /// one rank-r LoRA per projection).
  ExpertAllocation plan(const ExperimentConfig& cfg, const ModelShape& shape) const override {
    ExpertAllocation a = strategy()->allocate(shape, budget_from(cfg));
    if (cfg.adapters->plain_lora()) {
      a.ranks.assign(static_cast<size_t>(shape.num_layers), std::vector<int>{cfg.adapters->r});
      a.top_k.assign(static_cast<size_t>(shape.num_layers), 1);
    }
    return a;
  }
  /// The routed experts keep their LoRAs whatever the dense targets get.
  void select(nlohmann::json& experiment) const override {
    experiment["allocation"]["method"] = name();
  }
  bool describes(const ExperimentConfig& cfg) const override {
    return cfg.adapters && cfg.allocation.method == name();
  }
  std::vector<MatrixView> matrix_views() const override {
    return {{matrix_keys::kDrRank, "DR-LoRA active rank", "rank", "expert", true},
            {matrix_keys::kDrSaliency, "DR-LoRA saliency", "saliency", "expert"},
            {matrix_keys::kDrFrequency, "DR-LoRA routing frequency (EMA)", "frequency", "expert"},
            {matrix_keys::kDrImportance, "DR-LoRA rank importance (EMA)", "importance", "expert"}};
  }
  std::vector<MethodField> fields() const override {
    using K = MethodField::Kind;
    std::vector<MethodField> f;
    if (grows_) {
      f.push_back({"r_init",
                   "Initial rank",
                   "Active rank of every expert at the start",
                   K::Int,
                   1,
                   4096,
                   0,
                   {}});
    }
    f.push_back({"r_target",
                 "Target mean rank",
                 "Budget L·N·r_target: the mean active rank per expert at the end",
                 K::Int,
                 1,
                 4096,
                 0,
                 {}});
    f.push_back(
        {"r_max", "Max rank", "Allocated rank; no expert grows beyond", K::Int, 1, 4096, 0, {}});
    if (grows_) {
      f.push_back({"delta_r",
                   "Rank per growth",
                   "Rank added to an expert at a growth event",
                   K::Int,
                   1,
                   4096,
                   0,
                   {}});
      f.push_back({"interval",
                   "Growth interval",
                   "Optimiser steps between growth events",
                   K::Int,
                   1,
                   10000000,
                   0,
                   {}});
      f.push_back({"saliency",
                   "Saliency",
                   "How routing frequency and rank importance combine",
                   K::Choice,
                   0,
                   0,
                   0,
                   {"geometric", "product", "sum", "frequency", "importance"}});
    } else {
      f.push_back({"calibration_batches",
                   "Calibration batches",
                   "Batches of the routing-frequency calibration pass",
                   K::Int,
                   1,
                   100000,
                   0,
                   {}});
    }
    return f;
  }
  std::string key_params(const std::string& /*run_label*/,
                         const std::map<std::string, std::string>& params) const override {
    const DrLoraConfig d;
    const std::string target =
        param_text(params, "allocation.drlora.r_target", std::to_string(d.r_target));
    const std::string max = param_text(params, "allocation.drlora.r_max", std::to_string(d.r_max));
    if (!grows_) return "static r̄=" + target + " ≤" + max;
    return "DR-LoRA r " + param_text(params, "allocation.drlora.r_init", std::to_string(d.r_init)) +
           "→r̄" + target + " ≤" + max;
  }
  PlanSummary summarize(const ExperimentConfig& cfg,
                        const ModelShape& shape,
                        const std::string& workspace_dir) const override;
  /// The rank_budget tag, else drlora/budget (runs before the generic tag), else L·N·r_target
  /// from the [layers, experts] rank record and allocation.drlora.r_target.
  int64_t rank_budget(const std::map<std::string, std::string>& tags,
                      const std::map<std::string, std::string>& params,
                      const std::vector<int64_t>& rank_shape) const override {
    if (const int64_t b = Method::rank_budget(tags, params, rank_shape); b > 0) return b;
    if (const auto tag = tags.find("drlora/budget"); tag != tags.end()) {
      if (const long long b = std::atoll(tag->second.c_str()); b > 0) return b;
    }
    if (rank_shape.size() != 2) return -1;
    const std::string target =
        param_text(params, "allocation.drlora.r_target", std::to_string(DrLoraConfig{}.r_target));
    return rank_shape[0] * rank_shape[1] * std::atoll(target.c_str());
  }

 private:
  bool grows_;
};

PlanSummary RoutedExpertMethod::summarize(const ExperimentConfig& cfg,
                                          const ModelShape& shape,
                                          const std::string& /*workspace_dir*/) const {
  PlanSummary s;
  try {
    const AdapterConfig& adapters = *cfg.adapters;
    const DrLoraConfig& d = cfg.allocation.drlora;
    const ExpertAllocation a = plan_allocation(cfg, shape);  // ConfigError on a dense backbone
    std::string routed, dense;
    for (const std::string& m : adapters.target_modules) {
      std::string& list = is_routed_projection(m) ? routed : dense;
      list += (list.empty() ? "" : "/") + m.substr(0, m.size() - 5);  // drop "_proj"
    }
    int moe_layers = 0, experts = 0;
    for (int l = 0; l < shape.num_layers; ++l) {
      if (l >= static_cast<int>(shape.backbone_experts.size()) ||
          shape.backbone_experts[static_cast<size_t>(l)] == 0)
        continue;
      ++moe_layers;
      experts = shape.backbone_experts[static_cast<size_t>(l)];
      s.rank_budget += static_cast<int64_t>(experts) * d.r_target;
    }
    // The one counter: the plan at the allocated rank (every column) and at the budget (the
    // active ranks all at r_target: the same Σ rank), from the shapes the model is built with.
    s.allocated_parameters = trainable_parameters(cfg, shape, a);
    ExpertAllocation at_budget = a;
    for (auto& layer : at_budget.expert_ranks)
      for (int& r : layer) r = d.r_target;
    s.trainable_parameters = trainable_parameters(cfg, shape, at_budget);
    ExpertAllocation dense_only = a;
    for (auto& layer : dense_only.expert_ranks)
      for (int& r : layer) r = 0;
    const int64_t dense_params = trainable_parameters(cfg, shape, dense_only);
    s.experts_per_layer = shape.backbone_experts;
    if (routed.empty()) {
      s.invalid = true;
      s.text = "adapters.target_modules: " + name() +
               " adapts the routed experts' gate_proj/up_proj/down_proj and none is listed; add "
               "them";
      return s;
    }
    s.ok = true;
    const std::string budget = "rank budget L·N·r_target = " + std::to_string(moe_layers) +
                               " MoE layers × " + std::to_string(experts) + " experts × " +
                               std::to_string(d.r_target) + " = " + format_count(s.rank_budget) +
                               " rank units";
    s.text = grows_ ? "DR-LoRA on the routed experts (" + routed + "): " + budget +
                          "; ranks start at " + std::to_string(d.r_init) + " and grow by " +
                          std::to_string(d.delta_r) + " up to " + std::to_string(d.r_max) +
                          " per expert"
                    : "Static-frequency baseline on the routed experts (" + routed +
                          "): " + budget + ", fixed once from a calibration pass of " +
                          std::to_string(d.calibration_batches) + " batches (at most " +
                          std::to_string(d.r_max) + " per expert)";
    s.text += " · " + format_count(s.trainable_parameters - dense_params) +
              " trainable parameters at the budget (" +
              format_count(s.allocated_parameters - dense_params) + " allocated at rank " +
              std::to_string(d.r_max) + ")";
    if (!dense.empty()) {
      s.text += " · plus " + format_count(dense_params) + " in the dense adapters on " + dense;
    }
  } catch (const Error& e) {
    s.invalid = true;
    s.text = e.what();
  }
  return s;
}

}  // namespace

const Method& drlora_method() {
  static const RoutedExpertMethod kMethod(true);
  return kMethod;
}

const Method& static_frequency_method() {
  static const RoutedExpertMethod kMethod(false);
  return kMethod;
}

}  // namespace apportion
