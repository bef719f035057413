// SPDX-License-Identifier: GPL-3.0-or-later
// Implementation of the sqlite3 RAII wrappers (connection, statement, transaction guard).
#include "core/store/sqlite_handle.h"

#include <sqlite3.h>

#include "core/common/error.h"

namespace apportion {

SqliteDb::SqliteDb(const std::string& path, int flags) : path_(path) {
  const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw StoreError(detail::concat(
        "cannot open run store '", path, "': ", message,
        ". Check that the file (or, for a new store, its folder) exists and is accessible."));
  }
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
}

SqliteDb::~SqliteDb() { sqlite3_close_v2(db_); }

void SqliteDb::exec(const std::string& sql) const {
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    throw StoreError(detail::concat("run store '", path_, "': ", sql.substr(0, 60), ": ", text));
  }
}

int64_t SqliteDb::pragma_int(const std::string& name) const {
  Statement stmt(*this, "PRAGMA " + name);
  return stmt.step() ? stmt.column_int(0) : 0;
}

std::string SqliteDb::pragma_text(const std::string& name) const {
  Statement stmt(*this, "PRAGMA " + name);
  return stmt.step() ? stmt.column_text(0) : std::string();
}

int64_t SqliteDb::changes() const { return sqlite3_changes(db_); }

void SqliteDb::fail(const std::string& what) const {
  throw StoreError(detail::concat("run store '", path_, "': ", what, ": ", sqlite3_errmsg(db_)));
}

void SqliteDb::fail(const std::string& what, int code) const {
  throw StoreError(detail::concat("run store '", path_, "': ", what, ": ", sqlite3_errstr(code)));
}

Statement::Statement(const SqliteDb& db, const std::string& sql) : db_(db), sql_(sql) {
  if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK) {
    db.fail("prepare '" + sql.substr(0, 60) + "'");
  }
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement& Statement::bind_int(int index, int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::bind_double(int index, double value) {
  sqlite3_bind_double(stmt_, index, value);
  return *this;
}

Statement& Statement::bind_text(int index, const std::string& value) {
  sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind_blob(int index, const void* data, size_t bytes) {
  sqlite3_bind_blob64(stmt_, index, data, bytes, SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind_column(int index, const Statement& row, int column) {
  sqlite3_bind_value(stmt_, index, sqlite3_column_value(row.stmt_, column));
  return *this;
}

Statement& Statement::bind_null(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  std::string message = sqlite3_errmsg(db_.get());
  sqlite3_reset(stmt_);
  throw StoreError(
      detail::concat("run store '", db_.path(), "': ", sql_.substr(0, 60), ": ", message));
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::column_is_null(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

int64_t Statement::column_int(int index) const { return sqlite3_column_int64(stmt_, index); }

double Statement::column_double(int index) const { return sqlite3_column_double(stmt_, index); }

std::string Statement::column_text(int index) const {
  const auto* text = sqlite3_column_text(stmt_, index);
  const int bytes = sqlite3_column_bytes(stmt_, index);
  return text ? std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(bytes))
              : std::string();
}

std::vector<uint8_t> Statement::column_blob(int index) const {
  const auto* data = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, index));
  const int bytes = sqlite3_column_bytes(stmt_, index);
  return data ? std::vector<uint8_t>(data, data + bytes) : std::vector<uint8_t>();
}

Transaction::Transaction(const SqliteDb& db, const char* begin_sql) : db_(db) {
  db_.exec(begin_sql);
}

Transaction::~Transaction() {
  if (open_) sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
  db_.exec("COMMIT");
  open_ = false;
}

}  // namespace apportion
