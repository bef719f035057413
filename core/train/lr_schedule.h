// SPDX-License-Identifier: GPL-3.0-or-later
// Learning-rate schedule: linear warmup, then cosine, linear or constant decay towards
// lr · min_lr_ratio. A pure function of the step (resume-safe). Stepped as Hugging Face's
// LambdaLR: optimiser step s (1-based) uses the schedule at s − 1, so with a warm-up the first
// step's rate is 0 and the peak is reached at step warmup_steps + 1.
#pragma once

#include <cstdint>

#include "core/config/experiment_config.h"

namespace apportion {

/// Learning rate for optimiser step `step` (1-based) of `cfg.steps`: schedule(step − 1).
double learning_rate_at(const TrainConfig& cfg, int64_t step);

}  // namespace apportion
