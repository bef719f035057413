// SPDX-License-Identifier: GPL-3.0-or-later
// Matrix record keys shared by the trainer (writer) and the GUI/CLI (readers), with their
// shapes. Values are f32 unless noted; i32 records use -1 as padding, f32 ones NaN.
#pragma once

namespace apportion::matrix_keys {

/// i32 [layer, module]: experts of each adapted module (the current argmax during a search).
constexpr const char* kAllocExperts = "alloc/experts";
/// i32 [layer, module, expert]: rank of each expert.
constexpr const char* kAllocRank = "alloc/rank";
/// [layer, module, expert]: fraction of top-k assignments / mean router probability.
constexpr const char* kLoadFraction = "moe/load_fraction";
constexpr const char* kRouterProbMean = "moe/router_prob_mean";
/// [layer, expert]: the MoE backbone's own router (sparse-MoE backbones).
constexpr const char* kBackboneLoadFraction = "backbone/load_fraction";
/// GuiLoMo: sigmoid of the expert GSVs [layer, module, n_max] and of the rank GSVs
/// [layer, module, n_max, r_max].
constexpr const char* kGsvExpert = "guilomo/gsv_expert";
constexpr const char* kGsvRank = "guilomo/gsv_rank";
/// DR-LoRA, [layer, expert]: active rank, routing-frequency EMA, rank importance, saliency.
constexpr const char* kDrRank = "drlora/rank";
constexpr const char* kDrFrequency = "drlora/frequency";
constexpr const char* kDrImportance = "drlora/importance";
constexpr const char* kDrSaliency = "drlora/saliency";

}  // namespace apportion::matrix_keys
