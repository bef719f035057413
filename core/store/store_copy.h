// SPDX-License-Identifier: GPL-3.0-or-later
// Copying runs from one run store file into another, run by run, each in its own transaction:
// the run row (its experiment matched by name), params, tags, metrics, latest metrics,
// matrices and artifact records. A run that cannot be read whole is left out and reported;
// a run id already in the target is skipped when its rows are the same and reported as a
// conflict when they differ, never overwritten. `apportion salvage` uses it to rescue the
// readable runs of a damaged store (and an import of stores made elsewhere can use it too).
//
// Intended usage:
//   const StoreCopyReport r = copy_store_runs("damaged.sqlite", "rescued.sqlite");
//   for (const auto& run : r.runs) std::cout << run.run_id << " " << to_string(run.outcome);
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace apportion {

/// What happened to one run of the source.
struct RunCopyResult {
  enum class Outcome { Copied, AlreadyPresent, Conflict, Unreadable };
  std::string run_id;
  Outcome outcome = Outcome::Copied;
  int64_t rows = 0;    ///< rows copied (or compared) over all tables
  std::string detail;  ///< why it was left out or what differs
};

struct StoreCopyReport {
  std::vector<RunCopyResult> runs;
  /// Set when the source's run list itself could not be read (then `runs` may be partial).
  std::string list_error;
  int count(RunCopyResult::Outcome o) const;
};

const char* to_string(RunCopyResult::Outcome o);

/// Copies every run of `source_path` (opened read-only, never written) into `target_path`
/// (created with the current schema when missing). Throws StoreError when the target cannot be
/// opened or written; per-run read failures of the source are reported, not thrown.
StoreCopyReport copy_store_runs(const std::string& source_path, const std::string& target_path);

}  // namespace apportion
