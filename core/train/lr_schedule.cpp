// SPDX-License-Identifier: GPL-3.0-or-later
// Warmup + cosine/linear/constant learning-rate schedule, stepped as Hugging Face's.
#include "core/train/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace apportion {

double learning_rate_at(const TrainConfig& cfg, int64_t step) {
  const double peak = cfg.lr;
  // Hugging Face's LambdaLR schedules: optimiser step s uses λ(s − 1) (the scheduler steps
  // after the optimiser), so the first step of a warm-up trains at rate 0, as in the reference
  // codes (MoLA, GuiLoMo: get_linear/cosine_schedule_with_warmup).
  step -= 1;
  if (cfg.warmup_steps > 0 && step < cfg.warmup_steps) {
    return peak * static_cast<double>(step) / static_cast<double>(cfg.warmup_steps);
  }
  if (cfg.schedule == "constant") return peak;
  const double floor_lr = peak * cfg.min_lr_ratio;
  const int64_t decay_steps = std::max<int64_t>(1, cfg.steps - cfg.warmup_steps);
  const double progress = std::clamp(
      static_cast<double>(step - cfg.warmup_steps) / static_cast<double>(decay_steps), 0.0, 1.0);
  if (cfg.schedule == "linear") return floor_lr + (peak - floor_lr) * (1.0 - progress);
  return floor_lr + (peak - floor_lr) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

}  // namespace apportion
