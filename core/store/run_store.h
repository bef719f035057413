// SPDX-License-Identifier: GPL-3.0-or-later
// RunStore: the single writer of one process to a workspace database. It owns one SQLite
// connection on its own thread with a job queue, batches jobs in BEGIN IMMEDIATE transactions
// (capped at ~100 ms of work) and commits when the queue drains; a commit listener reports
// (run_id, max step) after each commit. Several processes may write one workspace at once (WAL,
// busy_timeout). RunStoreSink adapts it to the trainer's EventSink.
//
// Intended usage:
//   RunStore store("ws/workspace.sqlite");            // creates/migrates the schema (WAL)
//   store.set_commit_listener([](const std::string& run, int64_t step) { ... });
//   RunStoreSink sink(store);                          // trainer → sink → store
//   ... trainer.run(cfg, sink, stop) ...
//   store.flush();                                     // everything is committed after this
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/events/event_sink.h"

namespace apportion {

/// Writer for one database file. Thread-safe enqueue; all SQL runs on the writer thread.
class RunStore {
 public:
  /// Opens or creates the database (parent folder must exist), sets WAL, runs migrations.
  /// Throws StoreError naming the file when it is not a valid Apportion database.
  explicit RunStore(const std::string& db_path);
  ~RunStore();
  RunStore(const RunStore&) = delete;
  RunStore& operator=(const RunStore&) = delete;

  /// Creates the run row (experiment by name, params, tags) or, when e.resumed, sets it back
  /// to RUNNING. Synchronous: the row is committed when this returns.
  void start_run(const RunStarted& e);
  void log_metric(const std::string& run_id, const MetricPoint& m);
  void log_matrix(const std::string& run_id, const MatrixPoint& m);
  void set_tag(const std::string& run_id, const std::string& key, const std::string& value);
  void log_artifact(const std::string& run_id, const ArtifactWritten& a);
  /// Sets the final status and end time (synchronous: committed when this returns).
  void finish_run(const std::string& run_id, RunStatus status, const std::string& message);
  /// Blocks until every queued job is committed. Rethrows a writer-thread StoreError.
  void flush();

  /// Called on the writer thread after each commit that added rows: (run_id, max step).
  void set_commit_listener(std::function<void(const std::string&, int64_t)> listener);

  /// The database path this store writes.
  const std::string& path() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// EventSink that writes every event of one run into a RunStore.
class RunStoreSink : public EventSink {
 public:
  explicit RunStoreSink(RunStore& store) : store_(store) {}
  void on_run_started(const RunStarted& e) override;
  void on_metric(const MetricPoint& e) override;
  void on_matrix(const MatrixPoint& e) override;
  void on_artifact(const ArtifactWritten& e) override;
  void on_tag(const TagSet& e) override;
  void on_run_finished(const RunFinished& e) override;
  void flush() override;

 private:
  RunStore& store_;
  std::string run_id_;
};

/// Latest schema version this build knows (PRAGMA user_version).
int latest_schema_version();

}  // namespace apportion
