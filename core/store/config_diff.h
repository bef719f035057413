// SPDX-License-Identifier: GPL-3.0-or-later
// The configuration keys in which several runs differ: the flattened params (dotted config
// path → JSON text) of N runs side by side, keeping the keys whose value is not the same in
// all of them (a key missing from some run counts as a difference). Used by the Compare view's
// config table for any number of runs or seed groups.
//
// Intended usage:
//   std::vector<ParamRow> rows = param_rows({&a, &b, &c}, /*only_differences=*/true);
//   for (const ParamRow& r : rows) ... r.key, r.values[i] (std::nullopt: run i lacks the key)
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/store/run_types.h"

namespace apportion {

struct ParamRow {
  std::string key;
  std::vector<std::optional<std::string>> values;  ///< one per run, in the runs' order
  bool differs = false;
};

/// The union of the runs' param keys, sorted, each with every run's value; with
/// only_differences, just the rows that differ. Null run pointers are skipped.
std::vector<ParamRow> param_rows(const std::vector<const Run*>& runs, bool only_differences);

}  // namespace apportion
