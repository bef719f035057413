// SPDX-License-Identifier: GPL-3.0-or-later
// Thin RAII wrappers over the sqlite3 C API for the run store: a connection (SqliteDb), a
// prepared statement (Statement) and a transaction guard. Every failure becomes a StoreError
// that names the database file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace apportion {

/// How long every connection waits for a lock before SQLITE_BUSY (ms).
constexpr int kBusyTimeoutMs = 10000;

/// One open sqlite3 connection. Closes on destruction.
class SqliteDb {
 public:
  /// Opens `path` with sqlite3_open_v2 flags; throws StoreError naming the file on failure.
  SqliteDb(const std::string& path, int flags);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  /// The raw handle (for the few calls the wrappers do not cover).
  sqlite3* get() const { return db_; }
  /// The file this connection opened.
  const std::string& path() const { return path_; }
  /// Runs one or more statements without results; throws StoreError.
  void exec(const std::string& sql) const;
  /// Runs `PRAGMA name` and returns its integer result.
  int64_t pragma_int(const std::string& name) const;
  /// Runs `PRAGMA name` and returns its text result.
  std::string pragma_text(const std::string& name) const;
  /// Rows changed by the last INSERT/UPDATE/DELETE on this connection.
  int64_t changes() const;
  /// Throws StoreError "<file>: <what>: <sqlite message>" for the connection's last error.
  [[noreturn]] void fail(const std::string& what) const;
  /// Throws StoreError "<file>: <what>: <sqlite message for code>".
  [[noreturn]] void fail(const std::string& what, int code) const;

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

/// A prepared statement; bind → step → reset. Indices are 1-based as in SQLite.
class Statement {
 public:
  Statement(const SqliteDb& db, const std::string& sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind_int(int index, int64_t value);
  Statement& bind_double(int index, double value);
  Statement& bind_text(int index, const std::string& value);
  Statement& bind_blob(int index, const void* data, size_t bytes);
  Statement& bind_null(int index);
  /// Binds column `column` of `row`'s current result row, whatever its type (for copying rows).
  Statement& bind_column(int index, const Statement& row, int column);

  /// Advances; true when a row is available, false when done. Throws StoreError.
  bool step();
  /// Steps to completion, then resets (for statements without results).
  void run();
  /// Resets the statement and clears its bindings.
  void reset();

  bool column_is_null(int index) const;
  int64_t column_int(int index) const;
  double column_double(int index) const;
  std::string column_text(int index) const;
  std::vector<uint8_t> column_blob(int index) const;

 private:
  const SqliteDb& db_;
  sqlite3_stmt* stmt_ = nullptr;
  std::string sql_;
};

/// Begins a transaction ("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE", "BEGIN") and rolls it back on
/// destruction unless commit() was called.
class Transaction {
 public:
  Transaction(const SqliteDb& db, const char* begin_sql);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit();

 private:
  const SqliteDb& db_;
  bool open_ = true;
};

}  // namespace apportion
