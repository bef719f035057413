// SPDX-License-Identifier: GPL-3.0-or-later
// Helpers shared by the run-store tests (tst_store, tst_store_files): a run's start event and
// metric points, StoreError messages, and raw SQLite access to damage or inspect a test database.
#pragma once

#include <sqlite3.h>

#include <QFile>
#include <QString>
#include <QTemporaryDir>
#include <QtTest>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/events/training_events.h"

namespace apportion::test {

/// Run id of the run inside tests/data/stores/v1.sqlite.
inline constexpr const char* kFixtureRunId = "0123456789abcdef0123456789abcdef";

inline QString q(const std::string& text) { return QString::fromStdString(text); }

/// The message of the StoreError `f` throws, or "" when it throws none.
template <typename F>
std::string store_error_of(F&& f) {
  try {
    f();
  } catch (const StoreError& e) {
    return e.what();
  }
  return {};
}

inline RunStarted make_start(const std::string& run_id, const std::string& experiment = "exp") {
  RunStarted e;
  e.run_id = run_id;
  e.experiment_name = experiment;
  e.run_name = "run-" + run_id.substr(0, 6);
  e.config_json = R"({"adapters":{"r":8},"seed":42})";
  e.allocation_method = "uniform";
  e.seed = 42;
  e.device = "cpu";
  e.torch_version = "1.13.1";
  e.params = {{"adapters.r", "8"}, {"seed", "42"}};
  e.tags = {{"kind", "finetune"}};
  return e;
}

inline MetricPoint point(const std::string& key, int64_t step, double value) {
  MetricPoint m;
  m.key = key;
  m.step = step;
  m.value = value;
  m.wall_ms = 1000 + step;
  return m;
}

/// Runs one SQL statement on a separate raw connection (to damage or inspect a test database).
inline void raw_exec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  QCOMPARE(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  const QString message = QString::fromUtf8(error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
  QVERIFY2(rc == SQLITE_OK, qPrintable(message));
}

/// The first column of the first row of a query, as text ("" when NULL or no row).
inline std::string raw_query(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* stmt = nullptr;
  std::string result = "<error>";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
    result.clear();
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0)) {
      result = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return result;
}

inline uint32_t bits_of(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  return bits;
}

/// Copies the committed v1 fixture (tests/data/stores/v1.sqlite) into `dir`; "" on failure.
inline std::string copy_fixture(const QTemporaryDir& dir) {
  const QString source = QStringLiteral(AP_SOURCE_DIR "/tests/data/stores/v1.sqlite");
  const QString target = dir.filePath(QStringLiteral("v1.sqlite"));
  if (!QFile::copy(source, target)) return {};
  QFile::setPermissions(target, QFile::ReadOwner | QFile::WriteOwner);
  return target.toStdString();
}

/// Overwrites the b-tree leaf page of table `table` found at `position` (0..1) of its leaves in
/// key order with garbage, as a failing disk would. Returns false when this SQLite lacks the
/// dbstat table (the caller skips).
inline bool corrupt_leaf_page(const std::string& db, const std::string& table, double position) {
  std::vector<int64_t> leaves;
  sqlite3* h = nullptr;
  sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  const std::string sql =
      "SELECT pageno FROM dbstat WHERE name = '" + table + "' AND pagetype = 'leaf' ORDER BY path";
  const bool ok = sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK;
  while (ok && sqlite3_step(st) == SQLITE_ROW) leaves.push_back(sqlite3_column_int64(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(h);
  if (!ok || leaves.empty()) return false;
  const int64_t page_size = std::stoll(raw_query(db, "PRAGMA page_size"));
  const int64_t victim = leaves[static_cast<size_t>(position * static_cast<double>(leaves.size()))];
  std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp((victim - 1) * page_size);
  const std::string garbage(static_cast<size_t>(page_size), '\x5a');
  f.write(garbage.data(), page_size);
  return static_cast<bool>(f);
}

}  // namespace apportion::test
