// SPDX-License-Identifier: GPL-3.0-or-later
// GuiLoMo readout (METHODS.md §3.5), torch-free: turns the GuidedSelection Vectors of a stage-1
// search into a per-module allocation (expert count and the rank of each expert slot), counts
// its trainable parameters, and optionally rescales it to a parameter budget.
//
// Unlike ExpertAllocation (per layer), a GuiLoMo allocation is per adapted module: every
// projection (layer, q_proj … down_proj) has its own expert count and ranks.
//
// Intended usage:
//   std::vector<GsvModuleValues> gsv = supernet.gsv_values();          // from the stage-1 model
//   GuiLoMoAllocation a = read_allocation(gsv, GuiLoMoReadoutOptions{}); // argmax readout
//   int64_t n = count_parameters(a, shape, /*with_router=*/true);
//   // Optional (our design): the same shape rescaled to MoLA's trainable-parameter count.
//   BudgetMatchOptions b;
//   b.target_parameters = count_trainable_parameters(shape, mola, modules, true);
//   GuiLoMoAllocation fair = budget_matched(a, shape, b);
//   save_reference_files(fair, "out/exprank");   // expert.json + rank.json
//   (guilomo_allocation_io.h)
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/allocation/expert_allocation.h"

namespace apportion {

/// Candidate sets of the readout. The reference uses n_max = r_max = 8, top-k 2, min 2 experts.
struct GuiLoMoReadoutOptions {
  int n_max = 8;        ///< expert slots per module (length of an expert GSV)
  int r_max = 8;        ///< rank slots per expert (length of a rank GSV)
  int top_k = 2;        ///< experts per token in stage 2
  int min_experts = 2;  ///< N = max(min_experts, top_k, argmax + 1); the reference's max(2, …)
  /// Throws ConfigError naming the field when a value is out of range.
  void validate() const;
};

/// The GSVs of one adapted module. Values may be raw g or σ(g): the readout only takes argmaxes
/// and σ is monotone.
struct GsvModuleValues {
  std::string path;                      ///< module path, e.g. model.layers.0.self_attn.q_proj
  int layer = -1;                        ///< decoder layer, -1 if unknown
  std::string module;                    ///< q_proj … down_proj
  std::vector<float> expert;             ///< [n_max] expert GSV
  std::vector<std::vector<float>> rank;  ///< [n_max][r_max] rank GSV of each expert slot
};

/// The allocation of one module.
struct GuiLoMoModuleAllocation {
  std::string path;
  int layer = -1;
  std::string module;
  int experts = 0;         ///< N: the first N expert slots are instantiated in stage 2
  std::vector<int> ranks;  ///< [n_max] rank of every slot (slots ≥ N are unused; 0 = unknown)
  /// The ranks of the instantiated experts (the first `experts` slots).
  std::vector<int> used_ranks() const;
};

/// A whole-model allocation, modules sorted by (layer, canonical module order, path).
struct GuiLoMoAllocation {
  int n_max = 8;
  int r_max = 8;
  int top_k = 2;
  std::vector<GuiLoMoModuleAllocation> modules;
  /// The module with this path, or nullptr.
  const GuiLoMoModuleAllocation* find(const std::string& path) const;
};

/// Index of the first largest entry (torch.argmax's tie rule). Throws Error naming `what` for an
/// empty vector or a NaN entry.
int gsv_argmax(const std::vector<float>& values, const std::string& what);

/// Rank of one expert: argmax(rank GSV) + 1.
int read_rank(const std::vector<float>& rank_gsv, const std::string& what);

/// Expert count of one module: max(min_experts, top_k, argmax(expert GSV) + 1).
int read_expert_count(const std::vector<float>& expert_gsv,
                      const GuiLoMoReadoutOptions& options,
                      const std::string& what);

/// Readout of one module; Error naming the path when the vectors' sizes differ from the options.
GuiLoMoModuleAllocation read_module(const GsvModuleValues& values,
                                    const GuiLoMoReadoutOptions& options);

/// Readout of all modules (sorted as described at GuiLoMoAllocation).
GuiLoMoAllocation read_allocation(const std::vector<GsvModuleValues>& values,
                                  const GuiLoMoReadoutOptions& options);

/// (layer, module) from a module path: the integer after "layers." and the last path component
/// ({-1, path} when there is no "layers.<n>." part).
std::pair<int, std::string> parse_module_path(const std::string& path);

/// Sorts modules by layer, then canonical module order (q, k, v, o, gate, up, down, others by
/// name), then path.
void sort_modules(std::vector<GuiLoMoModuleAllocation>& modules);

/// Trainable parameters: Σ over modules of Σ_{i<N} r_i·(in + out), plus N·in for the routers
/// when with_router. Module dims come from shape.projection_dims(module).
int64_t count_parameters(const GuiLoMoAllocation& allocation,
                         const ModelShape& shape,
                         bool with_router);

/// Settings of the budget-matched readout.
struct BudgetMatchOptions {
  int64_t target_parameters = 0;  ///< the trainable-parameter count to match (from above)
  int max_rank = 0;               ///< cap on a rescaled rank; 0 = no cap
  bool with_router = true;        ///< count router parameters (they stay fixed)
};

/// Budget-matched readout (our design, METHODS.md §3.5/§7.7): keeps every module's expert count
/// and rescales all used ranks by one common factor c, r' = clamp(floor(c·r), 1, max_rank), with
/// c the largest factor whose count stays ≤ the target; then, in order of the largest shortfall
/// c·r − r' (ranks clamped up to 1 come last; ties: larger r, earlier module, earlier slot),
/// raises each rank at most once by one while the count still fits. The result never exceeds the
/// target; an allocation already on target is returned unchanged. Throws ConfigError when the
/// target is below the all-ranks-1 count or above the count at max_rank.
GuiLoMoAllocation budget_matched(const GuiLoMoAllocation& allocation,
                                 const ModelShape& shape,
                                 const BudgetMatchOptions& options);

}  // namespace apportion
