// SPDX-License-Identifier: GPL-3.0-or-later
// The "static frequency allocation" baseline of DR-LoRA (METHODS.md §6): one calibration pass
// measures each expert's routing frequency, then every layer's rank budget is split in
// proportion to it, once, before training. (The other baseline, uniform LoRA, is the plain
// per-expert LoRA at r_target.) Torch-free.
//
// Intended usage:
//   // frequency[l][i]: mean routing weight of expert i of MoE layer l over the calibration data
//   // (mean_routing_weights() per batch, averaged).
//   auto ranks = static_frequency_ranks(frequency, n_experts * r_target, /*r_min=*/1, r_max);
#pragma once

#include <vector>

namespace apportion {

/// Per layer, ranks R_i = clamp(λ f_i, r_min, r_max) with λ chosen so that they sum to
/// `budget_per_layer` (the excess of a clamped expert goes to the others in proportion), then
/// rounded to integers by largest remainder (ties: lower expert index first), so every layer's
/// ranks sum to exactly `budget_per_layer`. A layer whose frequencies are all zero is split
/// uniformly. Throws apportion::Error when a frequency is negative or not finite, or when the
/// budget cannot be met within [r_min, r_max] (N·r_min ≤ budget ≤ N·r_max).
std::vector<std::vector<int>> static_frequency_ranks(
    const std::vector<std::vector<double>>& frequency, int budget_per_layer, int r_min, int r_max);

}  // namespace apportion
