// SPDX-License-Identifier: GPL-3.0-or-later
// Sweeps: an experiment plus a grid of `--set` values and seeds, as a small JSON file
// (docs/REMOTE.md):
//   {"name": "mola-lr", "experiment": "../experiments/mola-2468.json",
//    "grid": {"train.lr": [1e-3, 3e-3], "allocation.mola.preset": ["2468", "8642"]},
//    "seeds": [0, 1, 2], "set": ["train.steps=200"], "max_parallel": 4}
// expands to one member per grid point × seed (points in row-major order of the grid keys in
// alphabetical order, as JSON objects are unordered; seeds innermost). Paths are relative to the
// sweep file.
//
// Intended usage:
//   const SweepSpec s = load_sweep_spec("sweeps/lr.json");           // ConfigError names field
//   for (const SweepMember& m : expand_sweep(s)) … m.overrides, m.seed, m.point, m.label
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace apportion {

struct SweepSpec {
  std::string file;             ///< where it was read from
  std::string name;             ///< "" → the experiment's name
  std::string experiment_path;  ///< resolved against the sweep file's folder
  std::vector<std::pair<std::string, std::vector<nlohmann::json>>> grid;  ///< keys sorted
  std::vector<uint64_t> seeds;   ///< empty: the experiment's own seed, once
  std::vector<std::string> set;  ///< fixed overrides for every member
  int64_t max_steps = -1;
  int max_parallel = 0;  ///< 0: the profile's
};

struct SweepMember {
  int index = 0;  ///< 0-based over all members
  int point = 0;  ///< grid point (members of one point differ only by seed: a seed group)
  bool has_seed = false;
  uint64_t seed = 0;
  std::vector<std::string> overrides;  ///< "key=value" for `--set`, fixed ones first
  std::string label;                   ///< "train.lr=0.001 allocation.mola.preset=2468"
};

/// Parses a sweep object; `where` names it in errors (ConfigError naming the field).
SweepSpec sweep_spec_from_json(const nlohmann::json& j, const std::string& where);
/// Reads a sweep file (bounded JSON parse); relative paths resolved against its folder.
SweepSpec load_sweep_spec(const std::string& path);
/// Every member; throws ConfigError when the grid has no point or more than 10,000 members.
std::vector<SweepMember> expand_sweep(const SweepSpec& spec);

}  // namespace apportion
