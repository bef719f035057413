// SPDX-License-Identifier: GPL-3.0-or-later
// What `show`, `export` and `compare` are pointed at: a seed group (key prefix) or one run (id
// prefix), resolved against a workspace; plus small helpers the read-only commands share.
#pragma once

#include <string>
#include <vector>

#include "core/common/csv_text.h"  // csv_escape for the commands' CSV output
#include "core/store/run_groups.h"
#include "core/store/run_reader.h"

namespace apportion::cli {

/// Opens the workspace database read-only; throws StoreError saying what to pass when missing.
RunReader open_reader(const std::string& db_path);

/// A resolved GROUP_OR_RUN argument.
struct Target {
  bool is_group = false;
  SeedGroup group;        ///< is_group: the group (a single run: a one-run group of it)
  std::vector<Run> runs;  ///< the member runs, in group order (one run for a run)
};

/// Resolves `text` as a seed-group key prefix or a run id prefix. Throws StoreError when nothing
/// matches, or when it matches several groups or both a group and a run (write more characters).
Target resolve_target(const RunReader& reader, const std::string& text);

/// The short form of a group key shown in tables: "cfg:" / "<role>:" plus 8 hex digits.
std::string short_group_key(const std::string& key);

/// "baseline (step 0, no adapter): X %  final: Y %  gain: +Z points" (and one line per task)
/// when the run recorded baseline/accuracy (or baseline/acc) and baseline/acc/<task>.
std::vector<std::string> baseline_lines(const Run& run);

}  // namespace apportion::cli
