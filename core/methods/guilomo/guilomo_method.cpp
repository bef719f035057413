// SPDX-License-Identifier: GPL-3.0-or-later
// GuiLoMo (METHODS.md §3) as a registry row: the allocation.guilomo section, the search →
// retrain pipeline as two stages, the supernet plan, run labels and the form's settings. The
// torch half (supernet, architect, readout) is core/guilomo/guilomo_runtime.cpp.
#include <filesystem>

#include "core/allocation/guilomo_allocation_io.h"
#include "core/allocation/strategies.h"
#include "core/common/error.h"
#include "core/config/json_reader.h"
#include "core/config/method_config_io.h"
#include "core/methods/method_rows.h"

namespace apportion {
namespace {

constexpr const char* kSearch = "search";
constexpr const char* kRetrain = "retrain";
constexpr const char* kPipeline = "pipeline";
/// Tags linking the two runs of a pipeline (core/store/store_keys.h names the generic ones).
constexpr const char* kSearchRunTag = "guilomo/search_run";
/// Set by the CLI on the search once the retrain started: <method>/<role>_run.
constexpr const char* kRetrainRunTag = "guilomo/retrain_run";

class GuiLoMoMethod final : public Method {
 public:
  std::string name() const override { return "guilomo"; }
  std::string label() const override { return "GuiLoMo"; }
  std::string description() const override {
    return "GuiLoMo: a bilevel search over GuidedSelection Vectors picks each module's expert "
           "count and each expert's rank; stage pipeline searches, then retrains the found "
           "allocation (two linked runs)";
  }
  MethodTraits traits() const override {
    MethodTraits t;
    t.whole_model = true;
    t.decided_at_run_time = true;
    return t;
  }
  std::string section() const override { return "guilomo"; }
  void parse_section(const nlohmann::json& j, AllocationConfig& alloc) const override {
    alloc.guilomo = parse_guilomo_config(j);
  }
  nlohmann::json section_json(const AllocationConfig& alloc) const override {
    return guilomo_config_to_json(alloc.guilomo);
  }
  void validate(const ExperimentConfig& cfg) const override {
    validate_guilomo_config(cfg.allocation.guilomo, cfg);
  }
  std::optional<std::pair<int, std::string>> min_experts(
      const ExperimentConfig& /*cfg*/) const override {
    return std::nullopt;  // top-k ≤ n_max, checked by validate_guilomo_config
  }
  std::unique_ptr<AllocationStrategy> strategy() const override { return make_guilomo_strategy(); }
  std::vector<MethodField> fields() const override {
    using K = MethodField::Kind;
    return {
        {"stage",
         "Stage",
         "pipeline: search, then retrain with the found allocation (two runs)",
         K::Choice,
         0,
         0,
         0,
         {kPipeline, kSearch, kRetrain}},
        {"architect_mode",
         "Architect",
         "first_order: GSV gradient at the current weights; second_order: unrolled, with a "
         "finite-difference HVP; reference: as the reference code computes it",
         K::Choice,
         0,
         0,
         0,
         {"first_order", "second_order", "reference"}},
        {"split",
         "Split",
         "holdout: val_fraction of the training examples are held out for the GSVs; "
         "alternate: the reference's alternating mini-batches of the same training set",
         K::Choice,
         0,
         0,
         0,
         {"holdout", "alternate"}},
        {"readout",
         "Readout",
         "argmax: experts = max(2, argmax + 1), rank = argmax + 1; budget_matched: ranks "
         "rescaled to a trainable-parameter target (budget_preset)",
         K::Choice,
         0,
         0,
         0,
         {"argmax", "budget_matched"}},
        {"search_steps",
         "Search steps",
         "Optimiser steps of the search; 0 = train.steps",
         K::Int,
         0,
         10000000,
         0,
         {},
         "= train steps"},
        {"architect_round",
         "Architect round",
         "Micro-batches whose GSV gradients are taken at the same GSVs, then applied in order; "
         "1 = sequential, as the reference; 0 = the number of data-parallel ranks (1 in one "
         "process). Set it to compare searches on different numbers of ranks",
         K::Int,
         0,
         4096,
         0,
         {},
         "= ranks"},
        {"n_max",
         "Supernet experts",
         "Expert slots per module in the supernet",
         K::Int,
         2,
         64,
         0,
         {}},
        {"r_max", "Supernet rank", "Rank slots per expert in the supernet", K::Int, 1, 256, 0, {}},
    };
  }
  std::string run_label(const ExperimentConfig& cfg) const override {
    return cfg.allocation.guilomo.stage == kRetrain ? "guilomo" : "guilomo_search";
  }
  std::vector<std::string> run_labels() const override { return {"guilomo", "guilomo_search"}; }
  std::string key_params(const std::string& run_label,
                         const std::map<std::string, std::string>& params) const override {
    const std::string k = param_text(params, "adapters.top_k");
    if (run_label == "guilomo") return "GuiLoMo searched k=" + k;
    const GuiLoMoConfig g;
    return "supernet " + param_text(params, "allocation.guilomo.n_max", std::to_string(g.n_max)) +
           "×r" + param_text(params, "allocation.guilomo.r_max", std::to_string(g.r_max)) +
           " k=" + k;
  }

  /// pipeline: the search (allocation.guilomo.search_steps steps), then the retrain template
  /// (its allocation file and search link come from link_stage). Stage 2 uses the reference's
  /// stage-2 balance loss: per module, each term multiplied by the module's expert count.
  /// search: search_steps steps when set, as in the pipeline.
  std::vector<MethodStage> stages(const nlohmann::json& experiment) const override {
    const ExperimentConfig cfg = ExperimentConfig::from_json(experiment);
    const GuiLoMoConfig& g = cfg.allocation.guilomo;
    if (g.stage == kRetrain) return {{"", experiment}};
    nlohmann::json search = experiment;
    search["allocation"]["guilomo"]["stage"] = kSearch;
    if (g.search_steps > 0) search["train"]["steps"] = g.search_steps;
    if (g.stage == kSearch) return {{"", search}};
    nlohmann::json retrain = experiment;
    retrain["allocation"]["guilomo"]["stage"] = kRetrain;
    retrain["adapters"]["balance"]["scope"] = "module";
    retrain["adapters"]["balance"]["multiply_by_experts"] = true;
    return {{kSearch, search}, {kRetrain, retrain}};
  }
  void link_stage(nlohmann::json& next, const std::string& previous_run_id) const override {
    auto& g = next["allocation"]["guilomo"];
    g["allocation_file"] = "runs/" + previous_run_id + "/" + kGuiLoMoAllocationFile;
    g["search_run"] = previous_run_id;
  }
  std::string stage_role(const nlohmann::json& config,
                         const std::map<std::string, std::string>& tags) const override {
    if (config.is_object()) {
      const auto alloc = config.find("allocation");
      if (alloc != config.end() && alloc->is_object()) {
        const auto g = alloc->find("guilomo");
        if (g != alloc->end() && g->is_object()) {
          const std::string stage = g->value("stage", std::string());
          if (stage == kSearch || stage == kRetrain) return stage;
        }
      }
    }
    return tags.count(kSearchRunTag) ? kRetrain : kSearch;
  }
  /// The search links forward (guilomo/retrain_run, set when the retrain starts), the retrain
  /// back (guilomo/search_run).
  std::vector<StageLink> stage_links(
      const std::string& run_id, const std::map<std::string, std::string>& tags) const override {
    const auto search = tags.find(kSearchRunTag);
    const auto retrain = tags.find(kRetrainRunTag);
    if (search == tags.end() && retrain == tags.end()) return {};
    if (search != tags.end()) return {{kSearch, search->second, false}, {kRetrain, run_id, true}};
    return {{kSearch, run_id, true}, {kRetrain, retrain->second, false}};
  }
  void strip_links(nlohmann::json& config) const override {
    if (!config.is_object()) return;
    auto alloc = config.find("allocation");
    if (alloc == config.end() || !alloc->is_object()) return;
    auto g = alloc->find("guilomo");
    if (g == alloc->end() || !g->is_object()) return;
    g->erase("search_run");
    g->erase("allocation_file");
  }

  PlanSummary summarize(const ExperimentConfig& cfg,
                        const ModelShape& shape,
                        const std::string& workspace_dir) const override {
    const GuiLoMoConfig& g = cfg.allocation.guilomo;
    const AdapterConfig& adapters = *cfg.adapters;
    const int modules = static_cast<int>(adapters.target_modules.size());
    PlanSummary s;
    try {
      if (g.stage == kRetrain) return summarize_retrain(cfg, shape, workspace_dir);
      const ExpertAllocation a = plan(cfg, shape);
      s.trainable_parameters = trainable_parameters(cfg, shape, a);
      for (int l = 0; l < static_cast<int>(a.ranks.size()); ++l)
        s.experts_per_layer.push_back(a.experts(l));
      s.ok = true;
      const int steps = g.search_steps > 0 ? g.search_steps : cfg.train.steps;
      s.text = "GuiLoMo search supernet: " + std::to_string(g.n_max) + " experts of rank " +
               std::to_string(g.r_max) + " on every module (" + std::to_string(shape.num_layers) +
               " layers × " + std::to_string(modules) + " modules) · " +
               format_count(s.trainable_parameters) + " trainable parameters during the " +
               std::to_string(steps) + "-step search · the search decides the final allocation" +
               (g.stage == kPipeline ? ", then a retrain run trains it" : "");
    } catch (const Error& e) {
      s.invalid = true;
      s.text = e.what();
    }
    return s;
  }

 private:
  static PlanSummary summarize_retrain(const ExperimentConfig& cfg,
                                       const ModelShape& shape,
                                       const std::string& workspace_dir) {
    namespace fs = std::filesystem;
    const GuiLoMoConfig& g = cfg.allocation.guilomo;
    const AdapterConfig& adapters = *cfg.adapters;
    PlanSummary s;
    fs::path file(g.allocation_file);
    if (file.is_relative()) file = fs::path(workspace_dir) / file;
    if (fs::is_directory(file)) {
      s.ok = true;
      s.text = "GuiLoMo retrain with the allocation in " + file.string() +
               " (the reference code's expert.json + rank.json; the search decided it)";
      return s;
    }
    const ExpertAllocation a = expert_allocation_from_guilomo(load_allocation(file.string()), shape,
                                                              adapters.target_modules);
    s.trainable_parameters = trainable_parameters(cfg, shape, a);
    int experts = 0;
    for (int l = 0; l < static_cast<int>(a.ranks.size()); ++l) {
      s.experts_per_layer.push_back(a.experts(l));
      for (const std::string& m : adapters.target_modules)
        experts += static_cast<int>(a.module_experts(l, m).size());
    }
    s.ok = true;
    s.text = "GuiLoMo retrain with the searched allocation (" + file.filename().string() +
             "): " + std::to_string(experts) + " experts over " +
             std::to_string(shape.num_layers * static_cast<int>(adapters.target_modules.size())) +
             " modules · top-k " + std::to_string(adapters.top_k) + " · " +
             format_count(s.trainable_parameters) + " trainable parameters";
    return s;
  }
};

}  // namespace

const Method& guilomo_method() {
  static const GuiLoMoMethod kMethod;
  return kMethod;
}

}  // namespace apportion
