// SPDX-License-Identifier: GPL-3.0-or-later
// `apportion export RUN --peft DIR` (a run's trained adapters as a PEFT LoRA folder, or the
// LoRA-MoE layout for moe_lora runs) and `apportion import-adapter DIR --backbone MODEL_DIR
// [--check]` (load an exported adapter onto a backbone and summarise it).
#include <torch/torch.h>

#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "app/cli/exit_codes.h"
#include "app/cli/workspace_targets.h"
#include "core/adapters/adapter_io.h"
#include "core/allocation/expert_allocation.h"
#include "core/common/error.h"
#include "core/common/json_parse.h"
#include "core/config/experiment_config.h"
#include "core/model/transformer_lm.h"
#include "core/store/run_reader.h"
#include "core/train/trainer.h"

namespace apportion::cli {
namespace fs = std::filesystem;

namespace {

/// The backbone's config.json (backbone.path) or the inline backbone.config of a run.
ModelConfig run_model_config(const ExperimentConfig& cfg, const std::string& workspace) {
  if (cfg.backbone.path.empty()) {
    return ModelConfig::from_json(cfg.backbone.config, "backbone.config");
  }
  const fs::path file =
      fs::path(resolve_workspace_path(workspace, cfg.backbone.path)) / "config.json";
  if (!fs::exists(file)) {
    throw ModelError(file.string() +
                     ": missing; the run's backbone folder is needed to rebuild its shape");
  }
  return ModelConfig::from_json(load_json_file(file.string()), file.string());
}

std::string join(const nlohmann::json& list) {
  std::string s;
  for (const auto& v : list) s += (s.empty() ? "" : ", ") + v.get<std::string>();
  return s;
}

std::string ranks_text(const nlohmann::json& ranks) {
  if (ranks.empty()) return "-";
  const int lo = ranks.front().get<int>(), hi = ranks.back().get<int>();
  return lo == hi ? std::to_string(lo) : std::to_string(lo) + ".." + std::to_string(hi);
}

}  // namespace

int run_export_adapter(const std::string& db_path, const std::string& run, const std::string& dir) {
  const std::string db = db_path.empty() ? default_db_path() : db_path;
  if (!fs::exists(db)) {
    throw StoreError(db + ": no such workspace database (pass --db PATH)");
  }
  const RunReader reader = open_reader(db);
  const auto r = reader.find_run(run);
  if (!r) throw StoreError("no run matching '" + run + "' (list them with `apportion runs`)");
  const auto cfg =
      ExperimentConfig::from_json(parse_json_bounded(r->config_json, JsonLimits::config()));
  if (cfg.is_pretraining()) {
    throw ConfigError("run " + r->run_id +
                      " pretrained a backbone (no adapters); its output folder is already an HF "
                      "model folder");
  }
  const fs::path workspace = fs::absolute(db).parent_path();
  const fs::path weights = workspace / "runs" / r->run_id / "adapters.safetensors";
  if (!fs::exists(weights)) {
    throw CheckpointError(weights.string() + ": missing; run " + r->run_id + " is " +
                          to_string(r->status) +
                          " and writes its adapters when it finishes (resume a stopped run with "
                          "`apportion train --resume RUN`)");
  }
  // A weightless skeleton of the backbone (parameters allocated but never touched, so even a
  // large backbone costs no memory): only the projection shapes and names matter for export.
  BuildOptions skeleton;
  skeleton.init_weights = false;
  TransformerLM model(run_model_config(cfg, workspace.string()), skeleton);
  model->freeze_backbone();
  const ExpertAllocation allocation = plan_allocation(cfg, model->shape());
  AdapterSet set = inject_adapters(model, *cfg.adapters, allocation);
  load_adapter_weights(set, weights.string());

  const std::string base =
      cfg.backbone.path.empty()
          ? std::string()
          : fs::absolute(resolve_workspace_path(workspace.string(), cfg.backbone.path))
                .lexically_normal()
                .string();
  const AdapterExportOptions options = export_options_from(*cfg.adapters, base);
  if (adapter_method(set) == "lora") {
    save_peft_adapter(model, set, dir, options);
    std::cerr << "wrote a PEFT LoRA adapter (adapter_model.safetensors, adapter_config.json) to "
              << dir << std::endl;
  } else {
    std::cerr << "run " << r->run_id.substr(0, 8)
              << " trained LoRA-MoE adapters, which PEFT has no type for; writing the "
                 "Apportion LoRA-MoE layout instead (adapter_model.safetensors, "
                 "apportion_adapter.json, allocation.json; see docs/ADAPTER_FORMAT.md)"
              << std::endl;
    save_lora_moe_adapter(model, set, dir, options);
    std::cerr << "wrote the LoRA-MoE adapter to " << dir << std::endl;
  }
  return kExitFinished;
}

int run_import_adapter(const std::string& dir,
                       const std::string& backbone_dir,
                       bool check,
                       bool as_json) {
  TransformerLM model = load_pretrained(backbone_dir);
  model->freeze_backbone();
  model->eval();
  torch::NoGradGuard no_grad;
  const int64_t vocab = model->config().vocab_size;
  const auto ids = (torch::arange(1, 17, torch::kInt64) * 7919 % vocab).reshape({1, 16});
  torch::Tensor base;
  if (check) base = model->forward(ids);
  const LoadedAdapter loaded = load_adapter(model, dir);
  nlohmann::json summary = adapter_summary(loaded.set);
  summary["format"] = loaded.format == AdapterFormat::Peft ? "peft" : "apportion-lora-moe";
  summary["base_model_name_or_path"] = loaded.base_model_name_or_path;
  if (check) {
    const auto logits = model->forward(ids);
    if (!torch::isfinite(logits).all().item<bool>()) {
      throw ModelError(dir + ": the adapter produces non-finite logits on " + backbone_dir);
    }
    summary["check"] = {{"tokens", ids.size(1)},
                        {"max_abs_logit_change", (logits - base).abs().max().item<double>()}};
  }
  if (as_json) {
    std::cout << summary.dump(2) << std::endl;
    return kExitFinished;
  }
  const bool moe = summary["moe_lora_projections"].get<int>() > 0;
  std::cout << "adapter     " << dir << " ("
            << (loaded.format == AdapterFormat::Peft ? "PEFT LoRA" : "Apportion LoRA-MoE layout")
            << ")\nbackbone    " << backbone_dir << "\nmethod      "
            << summary["method"].get<std::string>() << "\nmodules     " << join(summary["modules"])
            << "\nprojections " << summary["projections"].get<int>() << " ("
            << summary["lora_projections"].get<int>() << " LoRA, "
            << summary["moe_lora_projections"].get<int>() << " LoRA-MoE, "
            << summary["backbone_expert_projections"].get<int>() << " on backbone experts)\n";
  if (moe) std::cout << "experts     " << summary["lora_moe_experts"].get<int>() << "\n";
  std::cout << "ranks       " << ranks_text(summary["ranks"]) << "\nparameters  "
            << summary["parameters"].get<int64_t>() << "\n";
  if (!summary["backbone_parameters"].empty()) {
    std::cout << "trained     " << join(summary["backbone_parameters"]) << "\n";
  }
  if (check) {
    std::cout << "check       ok: finite logits on 16 tokens, max |delta logit| vs the backbone "
              << summary["check"]["max_abs_logit_change"].get<double>() << "\n";
  }
  return kExitFinished;
}

}  // namespace apportion::cli
