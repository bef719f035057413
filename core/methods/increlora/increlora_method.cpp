// SPDX-License-Identifier: GPL-3.0-or-later
// IncreLoRA as a registry row: plain LoRA on every target projection, allocated at r_max, whose
// active ranks grow by importance under the budget units × r_target (increlora_options.h). The
// torch row (core/increlora/) sets the starting ranks and grows them while training.
#include "core/config/json_reader.h"
#include "core/methods/increlora/increlora_options.h"
#include "core/methods/method_rows.h"

namespace apportion {
namespace {

class IncreLoraMethod final : public Method {
 public:
  std::string name() const override { return "increlora"; }
  std::string label() const override { return "IncreLoRA"; }
  std::string description() const override {
    return "IncreLoRA: plain LoRA whose ranks grow during training where the AdaLoRA-style "
           "importance is highest, under the budget (adapted projections × r_target) — DR-LoRA "
           "without routing frequency";
  }
  MethodTraits traits() const override {
    MethodTraits t;
    t.adapter_router = false;
    t.whole_model = true;
    t.uses_top_k = false;
    t.decided_at_run_time = true;
    return t;
  }
  std::string section() const override { return kIncreLoraSection; }
  void parse_section(const nlohmann::json& j, AllocationConfig& alloc) const override {
    alloc.sections[kIncreLoraSection] = increlora_options_json(parse_increlora_options(j));
  }
  nlohmann::json section_json(const AllocationConfig& alloc) const override {
    const auto it = alloc.sections.find(kIncreLoraSection);
    return it != alloc.sections.end() ? it->second : increlora_options_json({});
  }
  void validate(const ExperimentConfig& cfg) const override {
    increlora_options(cfg).validate();
    if (!cfg.adapters) return;
    config_require(cfg.adapters->plain_lora(), "adapters.method",
                   "IncreLoRA grows plain LoRAs; set it to \"lora\"");
  }
  void select(nlohmann::json& experiment) const override {
    experiment["allocation"]["method"] = name();
    experiment["adapters"]["method"] = "lora";
  }
  std::vector<MethodField> fields() const override {
    using K = MethodField::Kind;
    return {{"r_init",
             "Initial rank",
             "Active rank of every LoRA at the start",
             K::Int,
             1,
             4096,
             0,
             {}},
            {"r_target",
             "Target mean rank",
             "Budget: the mean active rank at the end",
             K::Int,
             1,
             4096,
             0,
             {}},
            {"r_max", "Max rank", "Allocated rank; no LoRA grows beyond", K::Int, 1, 4096, 0, {}},
            {"delta_r",
             "Rank per growth",
             "Rank added to a LoRA at a growth event",
             K::Int,
             1,
             4096,
             0,
             {}},
            {"interval",
             "Growth interval",
             "Optimiser steps between growth events",
             K::Int,
             1,
             10000000,
             0,
             {}}};
  }
  std::vector<MatrixView> matrix_views() const override {
    return {{kIncreLoraRank, "IncreLoRA active rank", "rank", "module", true},
            {kIncreLoraScore, "IncreLoRA importance (Ī·Ū)", "importance", "module"}};
  }
  /// Plain LoRA of the allocated rank r_max on every target projection.
  ExpertAllocation plan(const ExperimentConfig& cfg, const ModelShape& shape) const override {
    ExpertAllocation a;
    a.ranks.assign(static_cast<size_t>(shape.num_layers),
                   std::vector<int>{increlora_options(cfg).r_max});
    a.top_k.assign(static_cast<size_t>(shape.num_layers), 1);
    return a;
  }
  PlanSummary summarize(const ExperimentConfig& cfg,
                        const ModelShape& shape,
                        const std::string& workspace_dir) const override {
    PlanSummary s = Method::summarize(cfg, shape, workspace_dir);  // at r_max: allocated
    if (!s.ok) return s;
    const IncreLoraOptions o = increlora_options(cfg);
    const int64_t allocated = s.trainable_parameters;
    s.allocated_parameters = allocated;
    s.trainable_parameters = allocated / o.r_max * o.r_target;  // Σ rank scales every count
    const int64_t units = static_cast<int64_t>(shape.num_layers) *
                          static_cast<int64_t>(cfg.adapters->target_modules.size());
    s.rank_budget = units * o.r_target;
    s.text = "IncreLoRA on " + std::to_string(units) + " LoRAs (" +
             std::to_string(shape.num_layers) + " layers × " +
             std::to_string(cfg.adapters->target_modules.size()) +
             " projections): ranks start at " + std::to_string(o.r_init) + " and grow by " +
             std::to_string(o.delta_r) + " where the importance is highest, up to " +
             std::to_string(o.r_max) + "; budget " + format_count(s.rank_budget) +
             " rank units (mean " + std::to_string(o.r_target) + ") · " +
             format_count(s.trainable_parameters) + " trainable parameters at the budget (" +
             format_count(allocated) + " allocated at rank " + std::to_string(o.r_max) + ")";
    return s;
  }
  std::string key_params(const std::string& /*run_label*/,
                         const std::map<std::string, std::string>& params) const override {
    const IncreLoraOptions d;
    return "IncreLoRA r " +
           param_text(params, "allocation.increlora.r_init", std::to_string(d.r_init)) + "→r̄" +
           param_text(params, "allocation.increlora.r_target", std::to_string(d.r_target)) + " ≤" +
           param_text(params, "allocation.increlora.r_max", std::to_string(d.r_max));
  }
};

}  // namespace

const Method& increlora_method() {
  static const IncreLoraMethod kMethod;
  return kMethod;
}

}  // namespace apportion
