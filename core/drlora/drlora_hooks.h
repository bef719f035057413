// SPDX-License-Identifier: GPL-3.0-or-later
// DR-LoRA inside the training loop (METHODS.md §4.4): routing frequencies observed after every
// forward, rank importance after the backward, growth events after the optimiser step, and
// rank/frequency/importance/saliency records at every event and logging interval. Also the
// static-frequency baseline (METHODS.md §6): one calibration pass before training fixes every
// expert's rank in proportion to its routing frequency, at the same budget L·N·r_target.
#pragma once

#include <memory>

#include "core/train/training_hooks.h"

namespace apportion {

std::unique_ptr<TrainingHooks> make_drlora_hooks(const HookContext& context);
std::unique_ptr<TrainingHooks> make_static_frequency_hooks(const HookContext& context);

/// Trainable parameters in use: routed-expert LoRAs count their active rank columns
/// (active · (in + out)), every other adapter parameter in full.
int64_t active_adapter_parameters(const BuiltModel& built);

}  // namespace apportion
