// SPDX-License-Identifier: GPL-3.0-or-later
// Rows written for each training event on the writer connection (runs, params, tags, metrics
// with latest_metrics, matrices, artifacts).
#include "core/store/run_writer.h"

#include "core/store/process_identity.h"

#include <sqlite3.h>
#include <unistd.h>

#include <array>
#include <cmath>

#include "core/common/clock.h"
#include "core/common/error.h"
#include "core/store/liveness.h"
#include "core/store/matrix_codec.h"
#include "core/store/schema.h"
#include "core/store/sqlite_handle.h"
#include "core/store/store_keys.h"

namespace apportion {
namespace {

/// How many times begin() waits a full busy_timeout for another writer before giving up.
constexpr int kBeginAttempts = 6;

}  // namespace

std::string fnv1a64_hex(const std::string& text) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, hash >>= 4) out[static_cast<size_t>(i)] = kHex[hash & 0xfu];
  return out;
}

struct RunWriter::Statements {
  explicit Statements(const SqliteDb& db)
      : add_experiment(db,
                       "INSERT INTO experiments (name, created_ms) VALUES (?1, ?2) "
                       "ON CONFLICT (name) DO NOTHING"),
        find_experiment(db, "SELECT experiment_id FROM experiments WHERE name = ?1"),
        run_exists(db, "SELECT 1 FROM runs WHERE run_id = ?1"),
        add_run(db,
                "INSERT INTO runs (run_id, experiment_id, name, status, start_ms, config_json, "
                "config_sha, allocation_method, seed, device, host, torch_version) "
                "VALUES (?1, ?2, ?3, 'RUNNING', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"),
        resume_run(db, "UPDATE runs SET status = 'RUNNING', end_ms = NULL WHERE run_id = ?1"),
        add_param(db, "INSERT OR IGNORE INTO params (run_id, key, value) VALUES (?1, ?2, ?3)"),
        put_tag(db, "INSERT OR REPLACE INTO tags (run_id, key, value) VALUES (?1, ?2, ?3)"),
        put_metric(db,
                   "INSERT OR REPLACE INTO metrics (run_id, key, step, value, is_nan, wall_ms) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
        put_latest(db,
                   "INSERT INTO latest_metrics (run_id, key, step, value, is_nan, wall_ms) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (run_id, key) DO UPDATE SET "
                   "step = excluded.step, value = excluded.value, is_nan = excluded.is_nan, "
                   "wall_ms = excluded.wall_ms WHERE excluded.step >= latest_metrics.step"),
        put_matrix(db,
                   "INSERT OR REPLACE INTO matrices (run_id, key, step, shape, axes, dtype, blob, "
                   "wall_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
        put_artifact(db,
                     "INSERT OR REPLACE INTO artifacts (run_id, kind, path, step, bytes) "
                     "VALUES (?1, ?2, ?3, ?4, ?5)"),
        finish_run(db, "UPDATE runs SET status = ?2, end_ms = ?3 WHERE run_id = ?1"),
        set_owner(db,
                  "UPDATE runs SET owner_host = ?2, owner_pid = ?3, owner_start = ?4, "
                  "heartbeat_ms = ?5 WHERE run_id = ?1"),
        get_param(db, "SELECT value FROM params WHERE run_id = ?1 AND key = ?2"),
        update_param(db, "UPDATE params SET value = ?3 WHERE run_id = ?1 AND key = ?2"),
        get_tag(db, "SELECT value FROM tags WHERE run_id = ?1 AND key = ?2"),
        update_config(db, "UPDATE runs SET config_json = ?2, config_sha = ?3 WHERE run_id = ?1"),
        heartbeat(db,
                  "UPDATE runs SET heartbeat_ms = ?2 WHERE run_id = ?1 AND status = 'RUNNING' "
                  "AND owner_pid = ?3 AND owner_host = ?4") {}

  Statement add_experiment;
  Statement find_experiment;
  Statement run_exists;
  Statement add_run;
  Statement resume_run;
  Statement add_param;
  Statement put_tag;
  Statement put_metric;
  Statement put_latest;
  Statement put_matrix;
  Statement put_artifact;
  Statement finish_run;
  Statement set_owner;
  Statement get_param;
  Statement update_param;
  Statement get_tag;
  Statement update_config;
  Statement heartbeat;
};

RunWriter::RunWriter(const std::string& db_path)
    : db_(std::make_unique<SqliteDb>(db_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)),
      host_(this_host_name()),
      owner_(current_process()) {
  prepare_writer_connection(*db_);
  statements_ = std::make_unique<Statements>(*db_);
}

RunWriter::~RunWriter() = default;

void RunWriter::begin() {
  for (int attempt = 1;; ++attempt) {
    const int rc = sqlite3_exec(db_->get(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
    if (rc == SQLITE_OK) return;
    if ((rc & 0xff) != SQLITE_BUSY || attempt == kBeginAttempts) {
      db_->fail("cannot start a write transaction (another process may hold the lock)");
    }
  }
}

void RunWriter::commit() {
  write_pending_latest();
  db_->exec("COMMIT");
}

void RunWriter::rollback() noexcept {
  pending_latest_.clear();
  if (!sqlite3_get_autocommit(db_->get())) {
    sqlite3_exec(db_->get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

void RunWriter::refuse_live_owner(const std::string& run_id) {
  // Inside the write transaction: of two resumes started at once, the second sees the first
  // as the live owner here and stops, so one run is never trained by two processes.
  Statement q(*db_,
              "SELECT status, owner_host, owner_pid, owner_start, heartbeat_ms FROM runs "
              "WHERE run_id = ?1");
  q.bind_text(1, run_id);
  if (!q.step() || q.column_text(0) != "RUNNING") return;
  Run r;
  r.run_id = run_id;
  r.status = RunStatus::Running;
  r.owner_host = q.column_is_null(1) ? "" : q.column_text(1);
  r.owner_pid = q.column_is_null(2) ? 0 : q.column_int(2);
  r.owner_start = q.column_is_null(3) ? "" : q.column_text(3);
  r.heartbeat_ms = q.column_is_null(4) ? 0 : q.column_int(4);
  if (r.owner_pid == owner_.pid && r.owner_host == owner_.host) return;
  if (run_liveness(r, now_ms(), host_).state != Liveness::Alive) return;
  throw StoreError(detail::concat("cannot resume run ", run_id, ": process ", r.owner_pid, " on ",
                                  r.owner_host,
                                  " took it over a moment ago and trains it now; stop that "
                                  "process first if you want to resume it here"));
}

void RunWriter::start_run(const RunStarted& e, int64_t start_ms) {
  AP_CHECK_AS(StoreError, !e.run_id.empty(), "start_run: the run id is empty");
  Statements& s = *statements_;
  const bool exists = s.run_exists.bind_text(1, e.run_id).step();
  s.run_exists.reset();
  if (e.resumed && !exists) {
    throw StoreError(detail::concat("cannot resume run ", e.run_id, ": it is not in '", db_->path(),
                                    "'; start it as a new run instead"));
  }
  if (!e.resumed && exists) {
    throw StoreError(detail::concat("run ", e.run_id, " already exists in '", db_->path(),
                                    "'; resume it or start with a new run id"));
  }
  // One savepoint so a failure leaves no half-written run inside the batch transaction.
  db_->exec("SAVEPOINT start_run");
  try {
    if (e.resumed) {
      refuse_live_owner(e.run_id);
      s.resume_run.bind_text(1, e.run_id).run();
      record_resume_changes(e);
    } else {
      const std::string experiment =
          e.experiment_name.empty() ? kDefaultExperimentName : e.experiment_name;
      s.add_experiment.bind_text(1, experiment).bind_int(2, start_ms).run();
      s.find_experiment.bind_text(1, experiment);
      if (!s.find_experiment.step()) db_->fail("experiment row vanished");
      const int64_t experiment_id = s.find_experiment.column_int(0);
      s.find_experiment.reset();
      s.add_run.bind_text(1, e.run_id)
          .bind_int(2, experiment_id)
          .bind_text(3, e.run_name)
          .bind_int(4, start_ms)
          .bind_text(5, e.config_json)
          .bind_text(6, fnv1a64_hex(e.config_json))
          .bind_text(7, e.allocation_method)
          .bind_int(8, static_cast<int64_t>(e.seed))
          .bind_text(9, e.device)
          .bind_text(10, host_)
          .bind_text(11, e.torch_version)
          .run();
    }
    // This process trains the run from now on (a resume takes it over): liveness.h.
    s.set_owner.bind_text(1, e.run_id)
        .bind_text(2, owner_.host)
        .bind_int(3, owner_.pid)
        .bind_text(4, owner_.start)
        .bind_int(5, start_ms)
        .run();
    for (const auto& [key, value] : e.params) {
      s.add_param.bind_text(1, e.run_id).bind_text(2, key).bind_text(3, value).run();
    }
    for (const auto& [key, value] : e.tags) set_tag(e.run_id, key, value);
    db_->exec("RELEASE start_run");
  } catch (...) {
    sqlite3_exec(db_->get(), "ROLLBACK TO start_run; RELEASE start_run", nullptr, nullptr, nullptr);
    throw;
  }
}

namespace {

void bind_metric(Statement& stmt, const std::string& run_id, const MetricPoint& m) {
  const bool is_nan = std::isnan(m.value);
  stmt.bind_text(1, run_id).bind_text(2, m.key).bind_int(3, m.step);
  if (is_nan) {
    stmt.bind_null(4);
  } else {
    stmt.bind_double(4, m.value);
  }
  stmt.bind_int(5, is_nan ? 1 : 0).bind_int(6, m.wall_ms).run();
}

}  // namespace

void RunWriter::log_metric(const std::string& run_id, const MetricPoint& m) {
  bind_metric(statements_->put_metric, run_id, m);
  if (sqlite3_get_autocommit(db_->get())) {  // no transaction open: write the latest now
    bind_metric(statements_->put_latest, run_id, m);
    return;
  }
  // Inside a transaction only the newest row per (run, key) reaches latest_metrics, written
  // just before COMMIT: one upsert per key and batch instead of one per row.
  auto [it, inserted] = pending_latest_.try_emplace({run_id, m.key}, m);
  if (!inserted && m.step >= it->second.step) it->second = m;
}

void RunWriter::write_pending_latest() {
  for (const auto& [run_key, m] : pending_latest_)
    bind_metric(statements_->put_latest, run_key.first, m);
  pending_latest_.clear();
}

void RunWriter::record_resume_changes(const RunStarted& e) {
  // A resume with --set trains with changed values: the params and the stored config follow
  // them, and the tag resume/changed says what changed ("key: old → new", one entry per resume).
  Statements& s = *statements_;
  std::string changes;
  for (const auto& [key, value] : e.params) {
    s.get_param.bind_text(1, e.run_id).bind_text(2, key);
    const bool known = s.get_param.step();
    const std::string old = known ? s.get_param.column_text(0) : std::string();
    s.get_param.reset();
    if (!known || old == value) continue;
    s.update_param.bind_text(1, e.run_id).bind_text(2, key).bind_text(3, value).run();
    changes += (changes.empty() ? "" : "; ") + key + ": " + old + " → " + value;
  }
  if (changes.empty()) return;
  s.update_config.bind_text(1, e.run_id)
      .bind_text(2, e.config_json)
      .bind_text(3, fnv1a64_hex(e.config_json))
      .run();
  s.get_tag.bind_text(1, e.run_id).bind_text(2, kResumeChangedTag);
  const std::string before = s.get_tag.step() ? s.get_tag.column_text(0) : std::string();
  s.get_tag.reset();
  set_tag(e.run_id, kResumeChangedTag, before.empty() ? changes : before + " | " + changes);
}

void RunWriter::heartbeat(const std::string& run_id, int64_t now_ms) {
  statements_->heartbeat.bind_text(1, run_id)
      .bind_int(2, now_ms)
      .bind_int(3, owner_.pid)
      .bind_text(4, owner_.host)
      .run();
}

void RunWriter::log_matrix(const std::string& run_id,
                           const MatrixPoint& m,
                           const std::vector<uint8_t>& blob) {
  statements_->put_matrix.bind_text(1, run_id)
      .bind_text(2, m.key)
      .bind_int(3, m.step)
      .bind_text(4, shape_to_json(m.shape))
      .bind_text(5, m.axes)
      .bind_text(6, dtype_name(m.dtype))
      .bind_blob(7, blob.data(), blob.size())
      .bind_int(8, m.wall_ms)
      .run();
}

void RunWriter::set_tag(const std::string& run_id,
                        const std::string& key,
                        const std::string& value) {
  statements_->put_tag.bind_text(1, run_id).bind_text(2, key).bind_text(3, value).run();
}

void RunWriter::log_artifact(const std::string& run_id, const ArtifactWritten& a) {
  statements_->put_artifact.bind_text(1, run_id)
      .bind_text(2, a.kind)
      .bind_text(3, a.path)
      .bind_int(4, a.step)
      .bind_int(5, a.bytes)
      .run();
}

void RunWriter::finish_run(const std::string& run_id,
                           RunStatus status,
                           const std::string& message,
                           int64_t end_ms) {
  statements_->finish_run.bind_text(1, run_id)
      .bind_text(2, to_string(status))
      .bind_int(3, end_ms)
      .run();
  if (db_->changes() == 0) {
    throw StoreError(
        detail::concat("cannot finish run ", run_id, ": it is not in '", db_->path(), "'"));
  }
  if (!message.empty()) set_tag(run_id, kStatusMessageTag, message);
}

}  // namespace apportion
