// SPDX-License-Identifier: GPL-3.0-or-later
// Matrix records of a GuiLoMo search (torch-free; keys from core/store/matrix_keys.h):
//   guilomo/gsv_expert  f32 [layer, module, n_max]         σ of the expert GSVs
//   guilomo/gsv_rank    f32 [layer, module, n_max, r_max]  σ of the rank GSVs
//   alloc/experts       i32 [layer, module]                the current argmax readout N
//   alloc/rank          i32 [layer, module, n_max]         rank of each used slot (-1 beyond N)
// Cells of (layer, module) pairs without an adapter are padding (NaN / -1). The module axis is
// the canonical order (q, k, v, o, gate, up, down) of the modules present.
//
// Intended usage (trainer, every log interval of a search):
//   for (auto& p : gsv_records(supernet.gsv_values(), readout_options, step)) sink.on_matrix(p);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/allocation/guilomo_readout.h"
#include "core/events/training_events.h"

namespace apportion {

/// The four records above at `step`; empty when `values` is empty. Throws Error when a module's
/// vectors do not match the options or a module has no layer index.
std::vector<MatrixPoint> gsv_records(const std::vector<GsvModuleValues>& values,
                                     const GuiLoMoReadoutOptions& options,
                                     int64_t step);

}  // namespace apportion
