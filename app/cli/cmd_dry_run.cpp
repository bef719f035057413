// SPDX-License-Identifier: GPL-3.0-or-later
// `apportion train CONFIG --dry-run`: what a run would train and how much memory it should
// take at its peak (core/estimate/memory_estimate.h), before anything is launched.
#include <filesystem>
#include <iostream>

#include "app/cli/commands.h"
#include "app/cli/exit_codes.h"
#include "core/allocation/expert_allocation.h"
#include "core/backbone/model_config.h"
#include "core/backbone/model_folder_check.h"
#include "core/common/error.h"
#include "core/estimate/memory_estimate.h"
#include "core/methods/method_registry.h"
#include "core/model/checkpoint_files.h"
#include "core/tokenizer/tokenizer.h"

namespace apportion::cli {
namespace fs = std::filesystem;

namespace {

/// The backbone's ModelConfig: the inline backbone.config, or <workspace>/<path>/config.json.
ModelConfig backbone_config(const ExperimentConfig& cfg, const std::string& db_path) {
  if (cfg.backbone.config.is_object()) {
    return ModelConfig::from_json(cfg.backbone.config, "backbone.config");
  }
  const fs::path workspace = fs::absolute(db_path).parent_path();
  const fs::path file = workspace / cfg.backbone.path / "config.json";
  if (!fs::exists(file)) {
    throw ConfigError("backbone.path: " + file.string() +
                      " not found (the path is relative to the workspace of --db)");
  }
  return ModelConfig::from_json(load_json_file(file.string()), file.string());
}

}  // namespace

int print_dry_run(const ExperimentConfig& cfg, const std::string& db_path, bool as_json) {
  try {
    const ModelConfig model = backbone_config(cfg, db_path);
    check_experiment_fits_model(cfg, model);
    if (!cfg.backbone.path.empty()) {
      const fs::path folder = fs::absolute(db_path).parent_path() / cfg.backbone.path;
      check_tokenizer_fits_model(*load_tokenizer(folder.string()), model, folder.string());
      read_checkpoint_files(folder.string());  // every safetensors header, checked (no weights)
    }
    const ModelShape shape = model.shape();
    int64_t trainable = 0;
    std::vector<int> experts;
    if (cfg.adapters) {
      // The method's own plan and count (what the New-run dialog shows).
      const std::string workspace = fs::absolute(db_path).parent_path().string();
      const PlanSummary plan = method_of(cfg).summarize(cfg, shape, workspace);
      if (plan.invalid) throw ConfigError(plan.text);
      trainable =
          plan.allocated_parameters >= 0 ? plan.allocated_parameters : plan.trainable_parameters;
      experts = plan.experts_per_layer;
    } else {
      trainable = backbone_parameter_count(model);  // pretraining trains everything
    }
    const MemoryEstimate m = estimate_training_memory(model, cfg, trainable);
    if (as_json) {
      nlohmann::json j = {{"name", cfg.name},
                          {"architecture", model.architecture},
                          {"layers", model.num_hidden_layers},
                          {"backbone_parameters", m.backbone_parameters},
                          {"trainable_parameters", m.trainable_parameters},
                          {"experts_per_layer", experts},
                          {"device", cfg.train.device},
                          {"dtype", cfg.train.dtype},
                          {"micro_batch_size", cfg.train.micro_batch_size},
                          {"max_seq_len", cfg.data.max_seq_len},
                          {"gradient_checkpointing", cfg.train.gradient_checkpointing},
                          {"memory",
                           {{"weights_bytes", m.weights_bytes},
                            {"trainable_bytes", m.trainable_bytes},
                            {"activation_bytes", m.activation_bytes},
                            {"logits_bytes", m.logits_bytes},
                            {"runtime_bytes", m.runtime_bytes},
                            {"peak_bytes", m.total_bytes}}}};
      std::cout << j.dump() << std::endl;
      return 0;
    }
    std::string counts;
    for (int e : experts) counts += (counts.empty() ? "" : "-") + std::to_string(e);
    std::cout << "dry run of " << cfg.name << " (nothing trained, nothing written)\n"
              << "backbone      " << model.architecture << ", " << model.num_hidden_layers
              << " layers, " << m.backbone_parameters << " parameters\n";
    if (cfg.adapters) {
      std::cout << "adapters      " << cfg.adapters->method << " via " << cfg.allocation.method
                << ", experts per layer " << counts << ": " << trainable
                << " trainable parameters\n";
    }
    std::cout << "batch         " << cfg.train.micro_batch_size << " x " << cfg.data.max_seq_len
              << " tokens, " << cfg.train.dtype << (cfg.train.autocast ? " + autocast" : "")
              << ", gradient checkpointing " << (cfg.train.gradient_checkpointing ? "on" : "off")
              << ", " << cfg.train.device << "\n"
              << "peak memory   " << format_bytes(m.total_bytes) << " estimated: " << describe(m)
              << std::endl;
    return 0;
  } catch (const Error& e) {
    print_error(e.what(), "check the backbone and the config");
    return kExitUsage;
  } catch (const nlohmann::json::exception& e) {
    print_error(std::string("backbone config.json: ") + e.what(), "check the backbone folder");
    return kExitUsage;
  }
}

}  // namespace apportion::cli
