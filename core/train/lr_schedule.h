// SPDX-License-Identifier: GPL-3.0-or-later
// Learning-rate schedule: linear warmup, then cosine, linear or constant decay to
// lr · min_lr_ratio at the last step. A pure function of the step (resume-safe).
#pragma once

#include <cstdint>

#include "core/config/experiment_config.h"

namespace apportion {

/// Learning rate for optimiser step `step` (1-based) of `cfg.steps`.
double learning_rate_at(const TrainConfig& cfg, int64_t step);

}  // namespace apportion
