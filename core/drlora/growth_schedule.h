// SPDX-License-Identifier: GPL-3.0-or-later
// GrowthSchedule: when DR-LoRA grows ranks and by how much in total (METHODS.md §4.4, our
// design). Events fall on every `interval`-th optimiser step inside [t_warm·T, t_stop·T]; at an
// event the budget still unspent is spread evenly over the events left (rounded up, so the last
// event spends what is left). Torch-free and pure, so the arithmetic is tested on its own.
//
// Intended usage:
//   GrowthSchedule schedule(options, total_steps);
//   if (schedule.is_event(step)) {
//     int64_t q = GrowthSchedule::experts_to_grow(budget_left, options.delta_r,
//                                                 schedule.events_from(step));
//   }
#pragma once

#include <cstdint>
#include <vector>

#include "core/methods/drlora/drlora_options.h"

namespace apportion {

class GrowthSchedule {
 public:
  /// `total_steps` T ≥ 1 is the number of optimiser steps of the run.
  GrowthSchedule(const DrLoraOptions& options, int64_t total_steps);

  /// Steps are counted as optimiser steps done (the first step() makes step 1). An event step is
  /// a multiple of `interval` with ceil(t_warm·T) ≤ step ≤ floor(t_stop·T) and step ≥ 1.
  bool is_event(int64_t step) const;
  /// Every event step in increasing order.
  std::vector<int64_t> event_steps() const;
  /// Number of event steps ≥ `step` (the current event included when `step` is one).
  int64_t events_from(int64_t step) const;
  /// First and last step of the growth window (may be empty: first > last).
  int64_t window_first() const { return first_; }
  int64_t window_last() const { return last_; }
  int64_t total_steps() const { return total_; }

  /// Experts to grow by delta_r at an event so that `budget_left` rank units are spread evenly
  /// over `events_left` events: ceil(ceil(budget_left / delta_r) / events_left); 0 when nothing
  /// is left or no event remains.
  static int64_t experts_to_grow(int64_t budget_left, int delta_r, int64_t events_left);

 private:
  int64_t total_ = 0;
  int64_t interval_ = 1;
  int64_t first_ = 1;
  int64_t last_ = 0;
};

}  // namespace apportion
