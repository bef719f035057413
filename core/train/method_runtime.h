// SPDX-License-Identifier: GPL-3.0-or-later
// The method seam, torch half: what an allocation method does with the model and inside the
// training loop. One row per method that needs more than the defaults (method_runtimes.cpp
// lists them by registry name); the model builder and the trainer ask the row of the run's
// method (runtime_of) and never name a method. The torch-free half is core/methods/method.h.
//
// Intended usage (model_builder.cpp, trainer.cpp):
//   const MethodRuntime& rt = runtime_of(cfg);
//   if (!rt.build_adapters(cfg, workspace, built)) {            // GuiLoMo builds a supernet
//     built.allocation = rt.allocation(cfg, workspace, built);  // AlphaLoRA reads the weights
//     built.adapters = inject_adapters(…);  rt.after_injection(cfg, built);
//   }
//   double held = rt.holdout_fraction(cfg);                     // upper-level data split
//   auto hooks = rt.hooks(context);                             // the loop's extra steps
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/train/model_builder.h"
#include "core/train/training_hooks.h"

namespace apportion {

class MethodRuntime {
 public:
  virtual ~MethodRuntime() = default;
  /// Builds the adapters itself onto the built (not yet frozen) backbone and returns true
  /// (GuiLoMo's search supernet); false: the builder plans, injects and calls after_injection.
  virtual bool build_adapters(const ExperimentConfig& /*cfg*/,
                              const std::string& /*workspace_dir*/,
                              BuiltModel& /*built*/) const {
    return false;
  }
  /// The allocation to inject, with the frozen backbone at hand (default: the torch-free plan).
  virtual ExpertAllocation allocation(const ExperimentConfig& cfg,
                                      const std::string& workspace_dir,
                                      BuiltModel& built) const;
  /// After inject_adapters (scaling modes, initial active ranks).
  virtual void after_injection(const ExperimentConfig& /*cfg*/, BuiltModel& /*built*/) const {}
  /// Share of the training examples held out for the method's upper level (0: none), and the
  /// config path that sets it (for errors).
  virtual std::pair<double, std::string> holdout_fraction(const ExperimentConfig& /*cfg*/) const {
    return {0.0, ""};
  }
  /// What the method adds to the training loop (default: nothing).
  virtual std::unique_ptr<TrainingHooks> hooks(const HookContext& /*context*/) const {
    return std::make_unique<TrainingHooks>();
  }
  /// Tags recorded when the run starts (links to the runs of earlier stages).
  virtual std::vector<std::pair<std::string, std::string>> start_tags(
      const ExperimentConfig& /*cfg*/) const {
    return {};
  }
  /// True when the trainer records alloc/* from built.allocation at the start (false when the
  /// method's hooks record their own view, as the search supernet's argmax).
  virtual bool records_planned_allocation(const ExperimentConfig& /*cfg*/) const { return true; }
  /// Why the method cannot train data-parallel on `world_size` (> 1) ranks ("" when it can),
  /// e.g. a search mode whose side effects follow the micro-batches one after another.
  virtual std::string data_parallel_problem(const ExperimentConfig& /*cfg*/,
                                            int /*world_size*/) const {
    return "";
  }
};

/// The row of cfg's method (method_of(cfg)), or the defaults.
const MethodRuntime& runtime_of(const ExperimentConfig& cfg);

/// The rows (one accessor each, defined in the method's file).
const MethodRuntime* guilomo_runtime();
const MethodRuntime* drlora_runtime();
const MethodRuntime* static_frequency_runtime();
const MethodRuntime* alphalora_runtime();
const MethodRuntime* increlora_runtime();

}  // namespace apportion
