// SPDX-License-Identifier: GPL-3.0-or-later
// Builds what a run trains: the backbone (loaded from backbone.path or randomly initialised
// from backbone.config), frozen for fine-tuning, with adapters injected per the planned
// allocation; and the list of trainable tensors by name (adapters only, or every backbone
// weight when pretraining).
#pragma once

#include <any>
#include <optional>
#include <string>

#include "core/adapters/adapter_injector.h"
#include "core/allocation/expert_allocation.h"
#include "core/config/experiment_config.h"
#include "core/model/transformer_lm.h"
#include "core/train/checkpointer.h"

namespace apportion {

struct BuiltModel {
  TransformerLM model{nullptr};
  std::optional<AdapterSet> adapters;  ///< absent when pretraining
  ExpertAllocation allocation;         ///< empty when pretraining
  ModelShape shape;
  NamedTensors trainable;  ///< what the optimiser updates
  /// A method's upper-level parameters (GuiLoMo's GSVs α), updated by its own optimiser in its
  /// hooks, not in `trainable`.
  NamedTensors upper_level;
  /// A method's own model-side state, set by its runtime (GuiLoMo search: its GsvSupernet;
  /// AlphaLoRA: the spectra it planned from). Empty for most methods.
  std::any method_state;
  int64_t trainable_count = 0;
  int64_t total_count = 0;
};

/// Seeds torch with cfg.seed, then builds. Throws ModelError/ConfigError naming the problem.
BuiltModel build_model(const ExperimentConfig& cfg, const std::string& workspace_dir);

/// Throws apportion::Error if any non-trainable parameter requires grad or any trainable one
/// does not (the "base frozen" invariant).
void assert_only_trainable_require_grad(BuiltModel& built);

}  // namespace apportion
