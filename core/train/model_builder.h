// SPDX-License-Identifier: GPL-3.0-or-later
// Builds what a run trains: the backbone (loaded from backbone.path or randomly initialised
// from backbone.config), frozen for fine-tuning, with adapters injected per the planned
// allocation; and the list of trainable tensors by name (adapters only, or every backbone
// weight when pretraining).
#pragma once

#include <optional>
#include <string>

#include "core/adapters/adapter_injector.h"
#include "core/allocation/expert_allocation.h"
#include "core/allocation/guilomo_readout.h"
#include "core/config/experiment_config.h"
#include "core/guilomo/gsv_supernet.h"
#include "core/model/transformer_lm.h"
#include "core/train/checkpointer.h"

namespace apportion {

struct BuiltModel {
  TransformerLM model{nullptr};
  std::optional<AdapterSet> adapters;  ///< absent when pretraining
  ExpertAllocation allocation;         ///< empty when pretraining
  ModelShape shape;
  NamedTensors trainable;  ///< what the optimiser updates
  /// GuiLoMo search: the supernet and its GSVs (the upper level α, updated by the architect's
  /// own optimiser, not in `trainable`).
  std::optional<GsvSupernet> supernet;
  NamedTensors upper_level;
  /// GuiLoMo retrain: the allocation it trains with (empty otherwise).
  std::optional<GuiLoMoAllocation> guilomo_allocation;
  int64_t trainable_count = 0;
  int64_t total_count = 0;
};

/// True for the GuiLoMo stage-1 search (a supernet with GSVs instead of ordinary adapters).
bool is_guilomo_search(const ExperimentConfig& cfg);
/// True for the GuiLoMo stage-2 retrain (an allocation read from allocation.guilomo).
bool is_guilomo_retrain(const ExperimentConfig& cfg);
/// The GuiLoMo allocation a retrain config names: our JSON file, or a folder with the
/// reference's expert.json + rank.json (n_max, r_max, top-k from the config). ConfigError names
/// the file.
GuiLoMoAllocation load_guilomo_allocation(const ExperimentConfig& cfg,
                                          const std::string& workspace_dir);

/// Seeds torch with cfg.seed, then builds. Throws ModelError/ConfigError naming the problem.
BuiltModel build_model(const ExperimentConfig& cfg, const std::string& workspace_dir);

/// Throws apportion::Error if any non-trainable parameter requires grad or any trainable one
/// does not (the "base frozen" invariant).
void assert_only_trainable_require_grad(BuiltModel& built);

}  // namespace apportion
