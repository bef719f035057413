// SPDX-License-Identifier: GPL-3.0-or-later
// The GuiLoMo stage-1 search inside the training loop (METHODS.md §3.2-§3.5): before every
// micro-batch the architect updates the GSVs on a (train, held-out) pair of batches, the
// supernet's balance loss joins the lower-level loss, GSV/argmax matrix records are written at
// the matrix-logging interval, the search's extra cost is measured, and at the end the
// allocation is read off (argmax or budget-matched) and written as guilomo_allocation.json plus
// the reference code's expert.json / rank.json in the run folder.
#pragma once

#include <memory>

#include "core/allocation/guilomo_readout.h"
#include "core/guilomo/gsv_supernet.h"
#include "core/train/training_hooks.h"

namespace apportion {

/// The search's supernet (BuiltModel::method_state), or nullptr for other runs.
GsvSupernet* supernet_of(BuiltModel& built);
const GsvSupernet* supernet_of(const BuiltModel& built);

/// The GuiLoMo allocation a retrain config names: our JSON file, or a folder with the
/// reference's expert.json + rank.json (n_max, r_max, top-k from the config). ConfigError names
/// the file.
GuiLoMoAllocation load_guilomo_allocation(const ExperimentConfig& cfg,
                                          const std::string& workspace_dir);

std::unique_ptr<TrainingHooks> make_guilomo_search_hooks(const HookContext& context);

/// λ-weighted balance loss over the supernet's masked router logits of the last forward (scope
/// and N multiplier from `balance`), undefined when λ = 0 or nothing was routed.
at::Tensor supernet_balance_loss(const BuiltModel& built, const BalanceConfig& balance, int top_k);

}  // namespace apportion
