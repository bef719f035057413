// SPDX-License-Identifier: GPL-3.0-or-later
// Whether a run store file is intact (SQLite's PRAGMA quick_check), and the message that says
// what to do when it is not: read what survives into a new store (`apportion salvage`).
//
// Intended usage:
//   require_intact_store(db_path);                    // StoreError naming the file and the way out
//   const auto problems = quick_check_store(db_path); // empty: intact
#pragma once

#include <string>
#include <vector>

namespace apportion {

/// Runs PRAGMA quick_check on `path` (read-only) and returns its findings, at most
/// `max_problems` of them; empty when the file is intact, missing, a folder or not an SQLite
/// file (opening the store reports those). Damage SQLite stops at gives one problem.
std::vector<std::string> quick_check_store(const std::string& path, int max_problems = 5);

/// Throws StoreError when quick_check_store() finds a problem: the file, the first findings,
/// and the way out (`apportion salvage PATH NEW.sqlite` copies every readable run; the GUI
/// offers the same).
void require_intact_store(const std::string& path);

}  // namespace apportion
