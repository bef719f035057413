// SPDX-License-Identifier: GPL-3.0-or-later
// The hook factory: which allocation method adds what to the training loop.
#include "core/train/training_hooks.h"

#include "core/train/drlora_hooks.h"
#include "core/train/guilomo_search_hooks.h"
#include "core/train/model_builder.h"

namespace apportion {

std::unique_ptr<TrainingHooks> make_training_hooks(const HookContext& context) {
  const ExperimentConfig& cfg = *context.cfg;
  if (!cfg.adapters) return std::make_unique<TrainingHooks>();
  if (is_guilomo_search(cfg)) return make_guilomo_search_hooks(context);
  if (cfg.allocation.method == "drlora") return make_drlora_hooks(context);
  if (cfg.allocation.method == "static_frequency") return make_static_frequency_hooks(context);
  return std::make_unique<TrainingHooks>();
}

bool needs_holdout_split(const ExperimentConfig& cfg) {
  return is_guilomo_search(cfg) && cfg.allocation.guilomo.split == "holdout";
}

}  // namespace apportion
