// SPDX-License-Identifier: GPL-3.0-or-later
// Turns allocations and routing statistics into the store's matrix records:
// alloc/experts i32 [layer, module], alloc/rank i32 [layer, module, expert] (-1 padding),
// moe/load_fraction and moe/router_prob_mean f32 [layer, module, expert] (NaN padding),
// backbone/load_fraction and backbone/router_prob_mean f32 [layer, expert] (the sparse-MoE
// backbone's own routers; NaN rows for dense layers).
#pragma once

#include <string>
#include <vector>

#include "core/adapters/adapter_injector.h"
#include "core/adapters/backbone_routing.h"
#include "core/allocation/expert_allocation.h"
#include "core/events/training_events.h"

namespace apportion {

/// target_modules in canonical order (q, k, v, o, gate, up, down), as the records' module axis.
std::vector<std::string> canonical_module_order(const std::vector<std::string>& target_modules);

/// alloc/experts and alloc/rank at `step`.
std::vector<MatrixPoint> allocation_records(const ExpertAllocation& allocation,
                                            const std::vector<std::string>& modules,
                                            int64_t step);

/// moe/load_fraction and moe/router_prob_mean at `step`.
std::vector<MatrixPoint> routing_records(const RoutingStats& stats, int64_t step);

/// backbone/load_fraction and backbone/router_prob_mean at `step` (none for a dense backbone).
std::vector<MatrixPoint> backbone_routing_records(const BackboneRoutingStats& stats, int64_t step);

}  // namespace apportion
