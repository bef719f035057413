// SPDX-License-Identifier: GPL-3.0-or-later
// RunWriter: the SQL side of RunStore. It owns the writer connection and its prepared
// statements and turns one event into rows. It is used by one thread at a time (RunStore's
// writer thread); transactions are driven by the caller via begin()/commit()/rollback().
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/events/training_events.h"
#include "core/store/process_identity.h"

namespace apportion {

class SqliteDb;

/// FNV-1a 64-bit hash of `text` as 16 lowercase hex digits (runs.config_sha).
std::string fnv1a64_hex(const std::string& text);

class RunWriter {
 public:
  /// Opens or creates the database and brings its schema to the latest version.
  explicit RunWriter(const std::string& db_path);
  ~RunWriter();
  RunWriter(const RunWriter&) = delete;
  RunWriter& operator=(const RunWriter&) = delete;

  /// BEGIN IMMEDIATE; retries while another process holds the write lock past busy_timeout.
  void begin();
  void commit();
  /// Rolls back an open transaction; never throws.
  void rollback() noexcept;

  void start_run(const RunStarted& e, int64_t start_ms);
  void log_metric(const std::string& run_id, const MetricPoint& m);
  /// `blob` is encode_matrix(m) (encoded on the caller's thread).
  void log_matrix(const std::string& run_id,
                  const MatrixPoint& m,
                  const std::vector<uint8_t>& blob);
  void set_tag(const std::string& run_id, const std::string& key, const std::string& value);
  /// Refreshes the heartbeat of a RUNNING run this process owns (started or resumed here).
  void heartbeat(const std::string& run_id, int64_t now_ms);
  void log_artifact(const std::string& run_id, const ArtifactWritten& a);
  void finish_run(const std::string& run_id,
                  RunStatus status,
                  const std::string& message,
                  int64_t end_ms);

 private:
  /// On a resume: params and config that --set changed, and the resume/changed tag.
  void record_resume_changes(const RunStarted& e);
  /// latest_metrics rows of the open transaction, written by commit().
  void write_pending_latest();
  /// On a resume: throws StoreError when another live process owns the RUNNING run.
  void refuse_live_owner(const std::string& run_id);

  struct Statements;
  std::unique_ptr<SqliteDb> db_;
  std::unique_ptr<Statements> statements_;
  std::string host_;
  ProcessIdentity owner_;  ///< this process: recorded as the owner of the runs it starts
  std::map<std::pair<std::string, std::string>, MetricPoint> pending_latest_;  ///< (run, key)
};

}  // namespace apportion
