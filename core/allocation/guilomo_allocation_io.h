// SPDX-License-Identifier: GPL-3.0-or-later
// JSON files of a GuiLoMo allocation (torch-free), in two layouts:
//  - ours: one file, {"format": "apportion.guilomo_allocation", "version": 1, "n_max", "r_max",
//    "top_k", "modules": [{"path", "layer", "module", "experts", "ranks": [n_max ints]}]};
//  - the reference code's pair (METHODS.md §3.5, save_rankandexp_num.py): expert.json maps a
//    module path to its expert count, rank.json maps module path + ".expertlora_E_vector_" + i
//    to the rank of expert slot i (all n_max slots are written; stage 2 reads the first N).
// Readers are strict: a malformed file throws ConfigError naming the file and the key.
//
// Intended usage:
//   save_reference_files(allocation, dir);                     // dir/expert.json, dir/rank.json
//   GuiLoMoAllocation a = load_reference_files(dir + "/expert.json", dir + "/rank.json", opts);
//   save_allocation(a, "run/guilomo_allocation.json");
//   GuiLoMoAllocation b = load_allocation("run/guilomo_allocation.json");
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "core/allocation/guilomo_readout.h"

namespace apportion {

/// The "format" value of our layout.
constexpr const char* kGuiLoMoAllocationFormat = "apportion.guilomo_allocation";
/// The file name a search run writes its allocation to, in its run folder.
constexpr const char* kGuiLoMoAllocationFile = "guilomo_allocation.json";
/// Infix of the reference's rank.json keys: module path + infix + slot index.
constexpr const char* kGuiLoMoRankKeyInfix = ".expertlora_E_vector_";

/// Our layout as a JSON object.
nlohmann::json allocation_to_json(const GuiLoMoAllocation& allocation);
/// Parses our layout; ConfigError "`where`: <json path>: …" on unknown keys, wrong types or
/// values out of range (experts outside [top_k, n_max], used ranks outside [1, r_max]).
GuiLoMoAllocation allocation_from_json(const nlohmann::json& j, const std::string& where);
/// Writes / reads our layout (pretty-printed). Errors name the file.
void save_allocation(const GuiLoMoAllocation& allocation, const std::string& path);
GuiLoMoAllocation load_allocation(const std::string& path);

/// The reference layout as two JSON objects.
struct GuiLoMoReferenceJson {
  nlohmann::json expert;  ///< {module path: N}
  nlohmann::json rank;    ///< {module path + ".expertlora_E_vector_" + i: r_i}
};
/// Both reference objects; slots with rank 0 (unknown) are left out.
GuiLoMoReferenceJson to_reference_json(const GuiLoMoAllocation& allocation);
/// Parses the reference objects. `options` gives n_max, r_max and top_k (the files do not store
/// them). ConfigError names the file (`expert_where` / `rank_where`) and the key when: an object
/// is not a JSON object; a value is not an integer; N is outside [top_k, n_max]; a rank is
/// outside [1, r_max]; a rank key lacks the infix, has a bad slot index (≥ n_max) or names a
/// module missing from expert.json; one of a module's first N slots is missing.
GuiLoMoAllocation from_reference_json(const nlohmann::json& expert,
                                      const nlohmann::json& rank,
                                      const GuiLoMoReadoutOptions& options,
                                      const std::string& expert_where,
                                      const std::string& rank_where);
/// Writes directory/expert.json and directory/rank.json (the directory must exist).
void save_reference_files(const GuiLoMoAllocation& allocation, const std::string& directory);
/// Reads the pair; syntax errors name the file, line and column.
GuiLoMoAllocation load_reference_files(const std::string& expert_path,
                                       const std::string& rank_path,
                                       const GuiLoMoReadoutOptions& options);

}  // namespace apportion
