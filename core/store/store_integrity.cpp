// SPDX-License-Identifier: GPL-3.0-or-later
// PRAGMA quick_check of a run store, and the error that points at `apportion salvage`.
#include "core/store/store_integrity.h"

#include <sqlite3.h>

#include <filesystem>
#include <fstream>

#include "core/common/error.h"
#include "core/store/sqlite_handle.h"

namespace apportion {

std::vector<std::string> quick_check_store(const std::string& path, int max_problems) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return {};  // missing, a folder: open says so
  {
    // Only an SQLite file can be damaged in this sense; anything else is refused by
    // inspect_store() when the store opens, with its own message.
    std::ifstream in(path, std::ios::binary);
    char magic[16] = {};
    in.read(magic, sizeof magic);
    if (!in || std::string(magic, 15) != "SQLite format 3") return {};
  }
  SqliteDb db(path, SQLITE_OPEN_READONLY);
  std::vector<std::string> problems;
  sqlite3_stmt* stmt = nullptr;
  const std::string sql = "PRAGMA quick_check(" + std::to_string(max_problems) + ")";
  int rc = sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &stmt, nullptr);
  if (rc == SQLITE_OK) rc = SQLITE_ROW;
  while (rc == SQLITE_ROW && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    const std::string line = text ? text : "";
    if (line != "ok") problems.push_back(line);
  }
  if (rc != SQLITE_DONE) {
    // The check itself could not run: not a database, or pages so damaged SQLite stops.
    problems.push_back(sqlite3_errmsg(db.get()));
  }
  sqlite3_finalize(stmt);
  return problems;
}

void require_intact_store(const std::string& path) {
  const auto problems = quick_check_store(path);
  if (problems.empty()) return;
  std::string list;
  for (const auto& p : problems) list += "\n  " + p;
  throw StoreError("run store '" + path + "' is damaged (SQLite's quick_check found:" + list +
                   "\n). Nothing was written to it. Copy every run that is still readable into a "
                   "new store with `apportion salvage " +
                   path +
                   " NEW.sqlite` (or, in the GUI, answer \"Copy readable runs\"), then work "
                   "in the new store; keep the damaged file until you have checked the copy.");
}

}  // namespace apportion
