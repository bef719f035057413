// SPDX-License-Identifier: GPL-3.0-or-later
// GuiLoMo's torch row of the method seam (METHODS.md §3): the search builds the GSV supernet
// (BuiltModel::method_state holds it), holds out the upper level's examples and runs the
// architect hooks; the retrain reads the searched allocation and links to its search run.
#include <torch/torch.h>

#include <filesystem>

#include "core/adapters/moe_lora_adapter.h"
#include "core/allocation/guilomo_allocation_io.h"
#include "core/common/error.h"
#include "core/guilomo/guilomo_search_hooks.h"
#include "core/store/store_keys.h"
#include "core/train/method_runtime.h"
#include "core/train/trainer.h"

namespace apportion {

GsvSupernet* supernet_of(BuiltModel& built) {
  return std::any_cast<GsvSupernet>(&built.method_state);
}
const GsvSupernet* supernet_of(const BuiltModel& built) {
  return std::any_cast<GsvSupernet>(&built.method_state);
}

namespace {

bool is_search(const ExperimentConfig& cfg) { return cfg.allocation.guilomo.stage != "retrain"; }

/// A per-layer balance loss needs the same expert count on every module of a layer.
void check_layer_balance_scope(const ExperimentConfig& cfg, const ExpertAllocation& allocation) {
  if (cfg.adapters->balance.coef == 0.0 || cfg.adapters->balance.scope != "layer") return;
  for (size_t l = 0; l < allocation.module_ranks.size(); ++l) {
    size_t count = 0;
    for (const auto& [module, ranks] : allocation.module_ranks[l]) {
      AP_CHECK_AS(ConfigError, count == 0 || ranks.size() == count,
                  "adapters.balance.scope: \"layer\" pools the router logits of a layer's "
                  "modules, but the GuiLoMo allocation gives layer ",
                  l,
                  " modules with different expert counts; set it to \"module\" (the "
                  "reference's stage-2 loss)");
      count = ranks.size();
    }
  }
}

class GuiLoMoRuntime final : public MethodRuntime {
 public:
  /// Stage 1: the frozen backbone with a GSV supernet adapter on every target module.
  bool build_adapters(const ExperimentConfig& cfg,
                      const std::string& /*workspace_dir*/,
                      BuiltModel& built) const override {
    if (!is_search(cfg)) return false;
    const AdapterConfig& a = *cfg.adapters;
    const GuiLoMoConfig& g = cfg.allocation.guilomo;
    AP_CHECK_AS(ConfigError, !a.train_backbone_router, "adapters.train_backbone_router: the ",
                "GuiLoMo search trains its own LoRA-MoE routers only; set it to false");
    built.model->freeze_backbone();
    GsvMoeLoraOptions o;
    o.num_experts = g.n_max;
    o.max_rank = g.r_max;
    o.top_k = a.top_k;
    o.alpha = a.lora_alpha;
    o.dropout = a.lora_dropout;
    o.init_std = g.init_std;
    o.min_active_experts = std::max(2, a.top_k);
    GsvSupernet supernet = inject_gsv_adapters(built.model, a.target_modules, o);
    AP_CHECK_AS(ConfigError, !supernet.slots().empty(), "adapters.target_modules: no ",
                "dense projection of the backbone matches; the GuiLoMo search adapts attention "
                "and dense-MLP projections");
    for (const auto& [name, p] : supernet.named_parameters()) {
      (is_gsv_parameter(name) ? built.upper_level : built.trainable).emplace_back(name, p);
    }
    built.method_state = supernet;
    built.allocation = plan_allocation(cfg, built.shape);  // the supernet, for the records
    built.adapters = AdapterSet{};
    return true;
  }

  /// Stage 2: the searched allocation (our JSON file or the reference's expert/rank.json).
  ExpertAllocation allocation(const ExperimentConfig& cfg,
                              const std::string& workspace_dir,
                              BuiltModel& built) const override {
    const ExpertAllocation a = expert_allocation_from_guilomo(
        load_guilomo_allocation(cfg, workspace_dir), built.shape, cfg.adapters->target_modules);
    check_layer_balance_scope(cfg, a);
    return a;
  }

  /// Reference-compatible scaling: α / rank of the module's last expert for all its experts.
  void after_injection(const ExperimentConfig& cfg, BuiltModel& built) const override {
    if (cfg.allocation.guilomo.scaling != "reference") return;
    for (const auto& a : built.adapters->adapters()) {
      if (!a.moe) continue;
      const double s = cfg.adapters->lora_alpha / a.moe->ranks().back();
      a.moe->set_expert_scaling(std::vector<double>(a.moe->ranks().size(), s));
    }
  }

  std::pair<double, std::string> holdout_fraction(const ExperimentConfig& cfg) const override {
    if (!is_search(cfg) || cfg.allocation.guilomo.split != "holdout") return {0.0, ""};
    return {cfg.allocation.guilomo.val_fraction, "allocation.guilomo.val_fraction"};
  }

  std::unique_ptr<TrainingHooks> hooks(const HookContext& context) const override {
    if (!is_search(*context.cfg)) return std::make_unique<TrainingHooks>();
    return make_guilomo_search_hooks(context);
  }

  std::vector<std::pair<std::string, std::string>> start_tags(
      const ExperimentConfig& cfg) const override {
    const std::string& search_run = cfg.allocation.guilomo.search_run;
    if (is_search(cfg) || search_run.empty()) return {};
    return {{"guilomo/search_run", search_run}, {kPipelineTag, "guilomo"}};
  }

  bool records_planned_allocation(const ExperimentConfig& cfg) const override {
    return !is_search(cfg);  // the search's hooks record the GSV argmax instead
  }

  /// The search trains data-parallel in architect rounds (docs/DISTRIBUTED.md): the round
  /// (allocation.guilomo.architect_round, 0 = the world size) must be a multiple of the world
  /// size, and the reference architect, whose side effects on w and the w-optimizer follow the
  /// micro-batches one after another, runs in one process only. The retrain is an ordinary
  /// MoE-LoRA run.
  std::string data_parallel_problem(const ExperimentConfig& cfg, int world_size) const override {
    if (!is_search(cfg)) return "";
    const GuiLoMoConfig& g = cfg.allocation.guilomo;
    const std::string w = std::to_string(world_size);
    if (g.architect_mode == "reference") {
      return "allocation.guilomo.architect_mode: the \"reference\" architect of the GuiLoMo "
             "search cannot train data-parallel (" +
             w +
             " ranks): it changes w and the "
             "w-optimizer's moments at every micro-batch in turn, as the reference code does, "
             "which ranks working side by side would not reproduce. Use \"first_order\" or "
             "\"second_order\" on several ranks, or run the reference search in one process "
             "(APPORTION_DIST=off)";
    }
    if (g.architect_round > 0 && g.architect_round % world_size != 0) {
      return "allocation.guilomo.architect_round: is " + std::to_string(g.architect_round) +
             ", but on " + w +
             " ranks every rank takes an equal share of each architect "
             "round's micro-batches; set a multiple of " +
             w +
             " that divides train.grad_accum, "
             "or 0 (= the number of ranks)";
    }
    return "";
  }
};

}  // namespace

GuiLoMoAllocation load_guilomo_allocation(const ExperimentConfig& cfg,
                                          const std::string& workspace_dir) {
  const GuiLoMoConfig& g = cfg.allocation.guilomo;
  const std::string path = resolve_workspace_path(workspace_dir, g.allocation_file);
  namespace fs = std::filesystem;
  if (fs::is_directory(path)) {
    const fs::path expert = fs::path(path) / "expert.json", rank = fs::path(path) / "rank.json";
    AP_CHECK_AS(ConfigError, fs::exists(expert) && fs::exists(rank),
                "allocation.guilomo.allocation_file: the folder ", path,
                " needs expert.json and rank.json (the reference code's readout files)");
    GuiLoMoReadoutOptions o;
    o.n_max = g.n_max;
    o.r_max = g.r_max;
    o.top_k = cfg.adapters->top_k;
    return load_reference_files(expert.string(), rank.string(), o);
  }
  AP_CHECK_AS(ConfigError, fs::exists(path), "allocation.guilomo.allocation_file: ", path,
              " does not exist; give a guilomo_allocation.json written by a search run, or a "
              "folder with expert.json and rank.json");
  GuiLoMoAllocation a = load_allocation(path);
  AP_CHECK_AS(ConfigError, a.top_k == cfg.adapters->top_k, "adapters.top_k: is ",
              cfg.adapters->top_k, " but the allocation in ", path, " was read for top-k ", a.top_k,
              "; use the same top-k for the search and the retrain");
  return a;
}

const MethodRuntime* guilomo_runtime() {
  static const GuiLoMoRuntime kRuntime;
  return &kRuntime;
}

}  // namespace apportion
