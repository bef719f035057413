// SPDX-License-Identifier: GPL-3.0-or-later
// GrowthSchedule arithmetic (see growth_schedule.h). The window bounds t·T are rounded with a
// small tolerance so that e.g. 0.7 · 1000 (699.99999999999989 in binary) counts as step 700.
#include "core/drlora/growth_schedule.h"

#include <algorithm>
#include <cmath>

#include "core/common/error.h"

namespace apportion {
namespace {

/// Tolerance on t·T before rounding to a step.
constexpr double kStepTolerance = 1e-6;

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace

GrowthSchedule::GrowthSchedule(const DrLoraOptions& options, int64_t total_steps)
    : total_(total_steps), interval_(options.interval) {
  AP_CHECK(total_steps >= 1, "DR-LoRA schedule: total steps must be >= 1, got ", total_steps);
  AP_CHECK(options.interval >= 1, "DR-LoRA schedule: interval must be >= 1, got ",
           options.interval);
  const double t = static_cast<double>(total_steps);
  first_ =
      std::max<int64_t>(1, static_cast<int64_t>(std::ceil(options.t_warm * t - kStepTolerance)));
  last_ = std::min<int64_t>(total_steps,
                            static_cast<int64_t>(std::floor(options.t_stop * t + kStepTolerance)));
}

bool GrowthSchedule::is_event(int64_t step) const {
  return step >= first_ && step <= last_ && step % interval_ == 0;
}

std::vector<int64_t> GrowthSchedule::event_steps() const {
  std::vector<int64_t> steps;
  for (int64_t s = ceil_div(first_, interval_) * interval_; s <= last_; s += interval_) {
    steps.push_back(s);
  }
  return steps;
}

int64_t GrowthSchedule::events_from(int64_t step) const {
  const int64_t lo = std::max(step, first_);
  if (lo > last_) return 0;
  return last_ / interval_ - (lo - 1) / interval_;
}

int64_t GrowthSchedule::experts_to_grow(int64_t budget_left, int delta_r, int64_t events_left) {
  if (budget_left <= 0 || events_left <= 0 || delta_r <= 0) return 0;
  const int64_t units = ceil_div(budget_left, delta_r);
  return ceil_div(units, events_left);
}

}  // namespace apportion
