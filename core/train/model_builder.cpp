// SPDX-License-Identifier: GPL-3.0-or-later
// Backbone loading / random init, freezing and adapter injection for a run.
#include "core/train/model_builder.h"

#include <torch/torch.h>

#include <filesystem>
#include <set>

#include "core/adapters/moe_lora_adapter.h"
#include "core/allocation/guilomo_allocation_io.h"
#include "core/common/error.h"
#include "core/train/trainer.h"

namespace apportion {

namespace {

/// GuiLoMo stage 1: the frozen backbone with a GSV supernet adapter on every target module.
void build_supernet(const ExperimentConfig& cfg, BuiltModel& built) {
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
  built.supernet = inject_gsv_adapters(built.model, a.target_modules, o);
  AP_CHECK_AS(ConfigError, !built.supernet->slots().empty(), "adapters.target_modules: no ",
              "dense projection of the backbone matches; the GuiLoMo search adapts attention and "
              "dense-MLP projections");
  for (const auto& [name, p] : built.supernet->named_parameters()) {
    (is_gsv_parameter(name) ? built.upper_level : built.trainable).emplace_back(name, p);
  }
  built.allocation = plan_allocation(cfg, built.shape);  // the supernet, for the records
  built.adapters = AdapterSet{};
}

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

/// GuiLoMo stage 2, reference-compatible scaling: α / rank of the module's last expert for all.
void apply_reference_scaling(AdapterSet& adapters, double alpha) {
  for (const auto& a : adapters.adapters()) {
    if (!a.moe) continue;
    const double s = alpha / a.moe->ranks().back();
    a.moe->set_expert_scaling(std::vector<double>(a.moe->ranks().size(), s));
  }
}

}  // namespace

bool is_guilomo_search(const ExperimentConfig& cfg) {
  return cfg.adapters && cfg.allocation.method == "guilomo" &&
         cfg.allocation.guilomo.stage != "retrain";
}

bool is_guilomo_retrain(const ExperimentConfig& cfg) {
  return cfg.adapters && cfg.allocation.method == "guilomo" &&
         cfg.allocation.guilomo.stage == "retrain";
}

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

BuiltModel build_model(const ExperimentConfig& cfg, const std::string& workspace_dir) {
  torch::manual_seed(cfg.seed);
  BuiltModel built;
  if (!cfg.backbone.path.empty()) {
    const std::string dir = resolve_workspace_path(workspace_dir, cfg.backbone.path);
    if (!std::filesystem::exists(std::filesystem::path(dir) / "config.json")) {
      throw ModelError("backbone.path: " + dir +
                       " has no config.json. Train the tiny backbone first with "
                       "`apportion pretrain experiments/pretrain-tiny.json --db <workspace>.sqlite`"
                       ", or point backbone.path at an HF model folder");
    }
    built.model = load_pretrained(dir);
  } else {
    auto model_cfg = ModelConfig::from_json(cfg.backbone.config, "backbone.config");
    // Runs built from an inline config train with the byte tokenizer; say so in config.json.
    if (model_cfg.apportion_tokenizer.empty()) model_cfg.apportion_tokenizer = "byte";
    built.model = TransformerLM(model_cfg);
  }
  built.shape = built.model->config().shape();

  if (cfg.adapters && is_guilomo_search(cfg)) {
    build_supernet(cfg, built);
  } else if (cfg.adapters) {
    built.model->freeze_backbone();
    if (is_guilomo_retrain(cfg)) {
      built.guilomo_allocation = load_guilomo_allocation(cfg, workspace_dir);
      built.allocation = expert_allocation_from_guilomo(*built.guilomo_allocation, built.shape,
                                                        cfg.adapters->target_modules);
      check_layer_balance_scope(cfg, built.allocation);
    } else {
      built.allocation = plan_allocation(cfg, built.shape);
    }
    built.adapters = inject_adapters(built.model, *cfg.adapters, built.allocation);
    if (is_guilomo_retrain(cfg) && cfg.allocation.guilomo.scaling == "reference") {
      apply_reference_scaling(*built.adapters, cfg.adapters->lora_alpha);
    }
    built.trainable = built.adapters->named_parameters();
  } else {
    for (const auto& p : built.model->named_parameters()) {
      built.trainable.emplace_back(p.key(), p.value());
    }
  }
  for (const auto& [name, t] : built.trainable) built.trainable_count += t.numel();
  for (const auto& [name, t] : built.upper_level) built.trainable_count += t.numel();
  for (const auto& p : built.model->parameters()) built.total_count += p.numel();
  assert_only_trainable_require_grad(built);
  return built;
}

void assert_only_trainable_require_grad(BuiltModel& built) {
  std::set<const void*> trainable;
  for (const auto& [name, t] : built.trainable) trainable.insert(t.unsafeGetTensorImpl());
  for (const auto& [name, t] : built.upper_level) trainable.insert(t.unsafeGetTensorImpl());
  for (const auto& p : built.model->named_parameters()) {
    const bool is_trainable = trainable.count(p.value().unsafeGetTensorImpl()) > 0;
    if (is_trainable != p.value().requires_grad()) {
      throw Error("internal: parameter " + p.key() +
                  (is_trainable ? " is trainable but does not require grad"
                                : " is frozen backbone but requires grad"));
    }
  }
}

}  // namespace apportion
