// SPDX-License-Identifier: GPL-3.0-or-later
// Backbone loading / random init, freezing and adapter injection for a run.
#include "core/train/model_builder.h"

#include <torch/torch.h>

#include <filesystem>
#include <set>

#include "core/backbone/model_folder_check.h"
#include "core/common/error.h"
#include "core/train/method_runtime.h"
#include "core/train/trainer.h"

namespace apportion {

namespace {

/// Builds the model; a failed allocation (a config asking for terabytes) becomes a ModelError
/// naming the config and its size fields instead of LibTorch's allocator trace.
template <typename F>
TransformerLM with_allocation_message(const std::string& where, F&& build) {
  try {
    return build();
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    if (what.find("alloc") == std::string::npos) throw;
    throw ModelError(where + ": the model does not fit in memory (" +
                     what.substr(0, what.find('\n')) +
                     "); check hidden_size, intermediate_size, num_hidden_layers and vocab_size, "
                     "or `apportion train CONFIG --dry-run` for the estimate");
  } catch (const std::bad_alloc&) {
    throw ModelError(where +
                     ": the model does not fit in memory; check hidden_size, "
                     "intermediate_size, num_hidden_layers and vocab_size");
  }
}

}  // namespace

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
    built.model =
        with_allocation_message(dir + "/config.json", [&] { return load_pretrained(dir); });
  } else {
    auto model_cfg = ModelConfig::from_json(cfg.backbone.config, "backbone.config");
    // Runs built from an inline config train with the byte tokenizer; say so in config.json.
    if (model_cfg.apportion_tokenizer.empty()) model_cfg.apportion_tokenizer = "byte";
    built.model =
        with_allocation_message("backbone.config", [&] { return TransformerLM(model_cfg); });
  }
  built.shape = built.model->config().shape();
  check_experiment_fits_model(cfg, built.model->config());

  if (cfg.adapters) {
    // The run's method decides what is built (method_runtime.h): most plan and inject.
    const MethodRuntime& method = runtime_of(cfg);
    if (!method.build_adapters(cfg, workspace_dir, built)) {
      built.model->freeze_backbone();
      built.allocation = method.allocation(cfg, workspace_dir, built);
      built.adapters = inject_adapters(built.model, *cfg.adapters, built.allocation);
      method.after_injection(cfg, built);
      built.trainable = built.adapters->named_parameters();
    }
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
