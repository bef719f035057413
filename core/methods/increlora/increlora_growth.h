// SPDX-License-Identifier: GPL-3.0-or-later
// IncreLoRA's arithmetic, torch-free so it is tested by hand: AdaLoRA's smoothed sensitivity
// of one rank component and the choice of which LoRAs grow at an event.
//
// Intended usage (core/increlora/increlora_hooks.cpp):
//   smooth_importance(I, ibar, ubar, o.beta1, o.beta2);  // per component, per step (the hooks
//                                                        // do the same arithmetic on tensors)
//   double score = unit_score(ibar, ubar, active_rank);            // per LoRA
//   auto grants = pick_growth(ranks, scores, q, o.delta_r, o.r_max, budget_left);
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace apportion {

/// AdaLoRA (Zhang et al. 2023, eq. 8-10): Ī ← β1 Ī + (1−β1) I, then Ū ← β2 Ū + (1−β2) |I − Ī|
/// with the updated Ī. I is a component's sensitivity Σ|A⊙∂L/∂A| + Σ|B⊙∂L/∂B|.
void smooth_importance(double sensitivity, double& ibar, double& ubar, double beta1, double beta2);

/// A LoRA's score: the mean over its first `active` components of Ī_j · Ū_j (0 when none).
double unit_score(const std::vector<double>& ibar, const std::vector<double>& ubar, int active);

/// The LoRAs that grow at an event: up to `q` of those below r_max, by decreasing score (ties:
/// lower index), each by min(delta_r, r_max − rank, budget left); stops when the budget is
/// spent. Returns (unit, new rank) in grant order.
std::vector<std::pair<int, int>> pick_growth(const std::vector<int>& ranks,
                                             const std::vector<double>& scores,
                                             int64_t q,
                                             int delta_r,
                                             int r_max,
                                             int64_t budget_left);

}  // namespace apportion
