// SPDX-License-Identifier: GPL-3.0-or-later
// `apportion salvage DAMAGED.sqlite NEW.sqlite`: the way out of a store that fails SQLite's
// quick_check. Every run that can still be read whole is copied into a new store; the damaged
// file is only read.
#include <filesystem>
#include <iostream>

#include "app/cli/commands.h"
#include "app/cli/exit_codes.h"
#include "core/common/error.h"
#include "core/store/store_copy.h"
#include "core/store/store_integrity.h"

namespace apportion::cli {
namespace fs = std::filesystem;

int run_salvage(const std::string& source, const std::string& target) {
  if (!fs::is_regular_file(source)) {
    print_error(source + ": no such database file", "give the damaged workspace .sqlite file");
    return kExitUsage;
  }
  if (fs::exists(target)) {
    print_error(target + ": already exists",
                "salvage writes a new file; give a name that does not exist yet");
    return kExitUsage;
  }
  if (const std::string why = workspace_folder_problem(fs::absolute(target)); !why.empty()) {
    print_error(target + ": " + why, "give a path inside a folder you can write");
    return kExitUsage;
  }
  const auto problems = quick_check_store(source);
  std::cout << source << ": "
            << (problems.empty() ? "quick_check found no damage"
                                 : "quick_check: " + problems.front())
            << "\n";
  const StoreCopyReport report = copy_store_runs(source, target);
  for (const auto& r : report.runs) {
    std::cout << "  " << r.run_id << "  " << to_string(r.outcome);
    if (r.outcome == RunCopyResult::Outcome::Copied) std::cout << " (" << r.rows << " rows)";
    if (!r.detail.empty()) std::cout << ": " << r.detail;
    std::cout << "\n";
  }
  if (!report.list_error.empty()) {
    std::cout << "the run list itself broke off after " << report.runs.size()
              << " runs: " << report.list_error << "\n";
  }
  const int copied = report.count(RunCopyResult::Outcome::Copied);
  const int lost = report.count(RunCopyResult::Outcome::Unreadable);
  std::cout << copied << " runs copied into " << target << ", " << lost << " unreadable"
            << (report.list_error.empty() ? "" : ", the list of runs is incomplete")
            << ". Run folders (runs/<id>/: checkpoints, adapters) are not touched; move "
               "them beside the new file to keep resuming those runs."
            << std::endl;
  return kExitFinished;
}

}  // namespace apportion::cli
