// SPDX-License-Identifier: GPL-3.0-or-later
// Tests of the SQLite run store: round trips (NaN/inf scalars, matrix records), latest metrics,
// the commit listener, resume, migration from the v1 fixture, refusal of foreign or newer files,
// two concurrent writers and a reader during writes.
#include <sqlite3.h>

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/common/error.h"
#include "core/common/uuid.h"
#include "core/store/run_reader.h"
#include "core/store/run_store.h"
#include "core/store/run_writer.h"
#include "core/store/store_keys.h"

using namespace apportion;

namespace {

/// Run id of the run inside tests/data/stores/v1.sqlite.
constexpr const char* kFixtureRunId = "0123456789abcdef0123456789abcdef";

QString q(const std::string& text) { return QString::fromStdString(text); }

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

RunStarted make_start(const std::string& run_id, const std::string& experiment = "exp") {
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

MetricPoint point(const std::string& key, int64_t step, double value) {
  MetricPoint m;
  m.key = key;
  m.step = step;
  m.value = value;
  m.wall_ms = 1000 + step;
  return m;
}

/// Runs one SQL statement on a separate raw connection (to damage or inspect a test database).
void raw_exec(const std::string& path, const std::string& sql) {
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
std::string raw_query(const std::string& path, const std::string& sql) {
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

uint32_t bits_of(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  return bits;
}

}  // namespace

class TestStore : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void init();
  void round_trip_run_params_tags_metrics();
  void latest_metrics_follow_highest_step();
  void matrix_round_trip();
  void matrix_shape_mismatch_is_refused();
  void corrupted_blob_length_throws();
  void commit_listener_reports_max_step();
  void resume_overwrites_instead_of_duplicating();
  void flush_rethrows_writer_error();
  void sink_writes_a_whole_run();
  void migrates_v1_fixture();
  void reader_reads_unmigrated_v1();
  void refuses_newer_schema();
  void refuses_garbage_file();
  void refuses_foreign_sqlite_database();
  void reader_refuses_missing_file();
  void two_concurrent_writers();
  void reader_sees_commits_while_writer_busy();

 private:
  std::string db_path(const char* name = "ws.sqlite") const {
    return dir_->filePath(QString::fromUtf8(name)).toStdString();
  }
  std::unique_ptr<QTemporaryDir> dir_;
};

void TestStore::init() {
  dir_ = std::make_unique<QTemporaryDir>();
  QVERIFY(dir_->isValid());
}

void TestStore::round_trip_run_params_tags_metrics() {
  const std::string path = db_path();
  const std::string id = make_uuid_hex();
  const double inf = std::numeric_limits<double>::infinity();
  {
    RunStore store(path);
    QCOMPARE(q(store.path()), q(path));
    store.start_run(make_start(id));
    store.log_metric(id, point("train/loss", 1, 2.5));
    store.log_metric(id, point("train/loss", 2, std::nan("")));
    store.log_metric(id, point("train/loss", 3, inf));
    store.log_metric(id, point("train/loss", 4, -inf));
    store.log_metric(id, point("train/lr", 1, 3e-4));
    store.set_tag(id, "note", "hello");
    store.flush();
    store.finish_run(id, RunStatus::Failed, "out of memory");
  }
  QCOMPARE(raw_query(path, "PRAGMA journal_mode"), std::string("wal"));
  QCOMPARE(raw_query(path, "SELECT is_nan FROM metrics WHERE step = 2"), std::string("1"));
  QCOMPARE(raw_query(path, "SELECT typeof(value) FROM metrics WHERE step = 2"),
           std::string("null"));

  RunReader reader(path);
  const std::vector<Run> runs = reader.list_runs();
  QCOMPARE(runs.size(), size_t(1));
  const Run& run = runs.front();
  QCOMPARE(q(run.run_id), q(id));
  QCOMPARE(q(run.experiment_name), QStringLiteral("exp"));
  QCOMPARE(run.status, RunStatus::Failed);
  QVERIFY(run.end_ms.has_value());
  QVERIFY(*run.end_ms >= run.start_ms);
  QCOMPARE(q(run.config_json), QStringLiteral(R"({"adapters":{"r":8},"seed":42})"));
  QCOMPARE(q(run.config_sha), q(fnv1a64_hex(run.config_json)));
  QCOMPARE(q(fnv1a64_hex("")), QStringLiteral("cbf29ce484222325"));
  QCOMPARE(q(run.allocation_method), QStringLiteral("uniform"));
  QCOMPARE(run.seed, uint64_t(42));
  QCOMPARE(q(run.host), q(host_name()));
  QVERIFY(!run.host.empty());
  QCOMPARE(q(run.torch_version), QStringLiteral("1.13.1"));
  QCOMPARE(run.params.size(), size_t(2));
  QCOMPARE(q(run.params.at("adapters.r")), QStringLiteral("8"));
  QCOMPARE(q(run.tags.at("kind")), QStringLiteral("finetune"));
  QCOMPARE(q(run.tags.at("note")), QStringLiteral("hello"));
  QCOMPARE(q(run.tags.at(kStatusMessageTag)), QStringLiteral("out of memory"));

  const std::vector<std::string> keys = reader.metric_keys(id);
  QCOMPARE(keys, (std::vector<std::string>{"train/loss", "train/lr"}));
  const MetricSeries loss = reader.metric_series(id, "train/loss");
  QCOMPARE(loss.steps, (std::vector<int64_t>{1, 2, 3, 4}));
  QCOMPARE(loss.values[0], 2.5);
  QVERIFY(std::isnan(loss.values[1]));
  QCOMPARE(loss.values[2], inf);
  QCOMPARE(loss.values[3], -inf);
  QCOMPARE(loss.wall_ms, (std::vector<int64_t>{1001, 1002, 1003, 1004}));
  const MetricSeries tail = reader.metric_series(id, "train/loss", /*after_step=*/2);
  QCOMPARE(tail.steps, (std::vector<int64_t>{3, 4}));

  QVERIFY(reader.find_run(id.substr(0, 8)).has_value());
  QCOMPARE(q(reader.find_run(id.substr(0, 8))->run_id), q(id));
  QVERIFY(!reader.find_run("zzzz").has_value());
  QCOMPARE(reader.find_run(id)->latest_metrics.at("train/loss"), -inf);
}

void TestStore::latest_metrics_follow_highest_step() {
  const std::string path = db_path();
  const std::string id = make_uuid_hex();
  RunStore store(path);
  store.start_run(make_start(id));
  for (int64_t step : {5, 3, 9, 7}) store.log_metric(id, point("eval/loss", step, step * 0.5));
  store.log_metric(id, point("eval/loss", 9, 100.0));  // same step again: replaces
  store.log_metric(id, point("eval/loss", 4, 0.1));    // an older step: latest keeps step 9
  store.log_metric(id, point("train/loss", 1, 1.0));
  store.log_metric(id, point("train/loss", 2, std::nan("")));
  store.flush();

  RunReader reader(path);
  const Run run = *reader.find_run(id);
  QCOMPARE(run.latest_steps.at("eval/loss"), int64_t(9));
  QCOMPARE(run.latest_metrics.at("eval/loss"), 100.0);
  QCOMPARE(run.latest_steps.at("train/loss"), int64_t(2));
  QVERIFY(std::isnan(run.latest_metrics.at("train/loss")));
  // Every latest value equals the row of the highest step of its series.
  for (const std::string& key : reader.metric_keys(id)) {
    const MetricSeries s = reader.metric_series(id, key);
    QCOMPARE(run.latest_steps.at(key), s.steps.back());
    const double latest = run.latest_metrics.at(key);
    QVERIFY(latest == s.values.back() || (std::isnan(latest) && std::isnan(s.values.back())));
  }
  QCOMPARE(reader.metric_series(id, "eval/loss").steps, (std::vector<int64_t>{3, 4, 5, 7, 9}));
}

void TestStore::matrix_round_trip() {
  const std::string path = db_path();
  const std::string id = make_uuid_hex();
  float payload_nan;
  const uint32_t payload_bits = 0x7fc01234u;  // a quiet NaN with a payload
  std::memcpy(&payload_nan, &payload_bits, 4);
  {
    RunStore store(path);
    store.start_run(make_start(id));
    MatrixPoint load;
    load.key = "moe/load_fraction";
    load.step = 10;
    load.shape = {2, 3};
    load.axes = "layer,expert";
    load.dtype = MatrixDType::F32;
    load.f32 = {0.25f, 0.75f, payload_nan, 0.5f, -0.0f, std::numeric_limits<float>::infinity()};
    load.wall_ms = 77;
    store.log_matrix(id, load);
    load.step = 20;
    load.f32[0] = 1.0f;
    store.log_matrix(id, load);
    MatrixPoint ranks;
    ranks.key = "alloc/rank";
    ranks.step = 0;
    ranks.shape = {2, 2};
    ranks.axes = "layer,expert";
    ranks.dtype = MatrixDType::I32;
    ranks.i32 = {8, -1, 16, 4};
    store.log_matrix(id, ranks);
    store.flush();
  }
  QCOMPARE(raw_query(path, "SELECT shape FROM matrices WHERE step = 10"), std::string("[2,3]"));
  QCOMPARE(raw_query(path, "SELECT length(blob) FROM matrices WHERE step = 10"), std::string("24"));
  QCOMPARE(raw_query(path, "SELECT hex(blob) FROM matrices WHERE key = 'alloc/rank'"),
           std::string("08000000FFFFFFFF1000000004000000"));  // little-endian

  RunReader reader(path);
  QCOMPARE(reader.matrix_keys(id), (std::vector<std::string>{"alloc/rank", "moe/load_fraction"}));
  QCOMPARE(reader.matrix_steps(id, "moe/load_fraction"), (std::vector<int64_t>{10, 20}));
  const auto load = reader.matrix(id, "moe/load_fraction", 10);
  QVERIFY(load.has_value());
  QCOMPARE(load->shape, (std::vector<int64_t>{2, 3}));
  QCOMPARE(q(load->axes), QStringLiteral("layer,expert"));
  QCOMPARE(load->dtype, MatrixDType::F32);
  QCOMPARE(load->wall_ms, int64_t(77));
  QCOMPARE(load->values.size(), size_t(6));
  QCOMPARE(load->values[0], 0.25f);
  QCOMPARE(load->values[1], 0.75f);
  QCOMPARE(bits_of(load->values[2]), payload_bits);
  QCOMPARE(bits_of(load->values[4]), bits_of(-0.0f));
  QVERIFY(std::isinf(load->values[5]));
  QVERIFY(!reader.matrix(id, "moe/load_fraction", 15).has_value());
  QCOMPARE(reader.matrix_at_or_before(id, "moe/load_fraction", 15)->step, int64_t(10));
  QCOMPARE(reader.matrix_at_or_before(id, "moe/load_fraction", -1)->step, int64_t(20));
  QCOMPARE(reader.matrix_at_or_before(id, "moe/load_fraction", -1)->values[0], 1.0f);
  QVERIFY(!reader.matrix_at_or_before(id, "moe/load_fraction", 5).has_value());

  const auto ranks = reader.matrix(id, "alloc/rank", 0);
  QVERIFY(ranks.has_value());
  QCOMPARE(ranks->dtype, MatrixDType::I32);
  QCOMPARE(ranks->i32, (std::vector<int32_t>{8, -1, 16, 4}));
  QCOMPARE(ranks->values[0], 8.0f);
  QVERIFY(std::isnan(ranks->values[1]));
  QCOMPARE(ranks->values[2], 16.0f);
}

void TestStore::matrix_shape_mismatch_is_refused() {
  const std::string id = make_uuid_hex();
  RunStore store(db_path());
  store.start_run(make_start(id));
  MatrixPoint m;
  m.key = "moe/load_fraction";
  m.shape = {2, 3};
  m.f32 = {1.0f, 2.0f};
  const std::string message = store_error_of([&] { store.log_matrix(id, m); });
  QVERIFY2(message.find("needs 6") != std::string::npos, message.c_str());
  store.flush();  // nothing was queued, nothing fails
}

void TestStore::corrupted_blob_length_throws() {
  const std::string path = db_path();
  const std::string id = make_uuid_hex();
  {
    RunStore store(path);
    store.start_run(make_start(id));
    MatrixPoint m;
    m.key = "drlora/rank";
    m.step = 3;
    m.shape = {4};
    m.dtype = MatrixDType::I32;
    m.i32 = {1, 2, 3, 4};
    store.log_matrix(id, m);
  }
  raw_exec(path, "UPDATE matrices SET blob = x'01020304050607' WHERE step = 3");
  RunReader reader(path);
  const std::string message = store_error_of([&] { reader.matrix(id, "drlora/rank", 3); });
  QVERIFY2(message.find("7 bytes") != std::string::npos, message.c_str());
  QVERIFY2(message.find("needs 16 bytes") != std::string::npos, message.c_str());
  raw_exec(path, "UPDATE matrices SET shape = '[4, \"x\"]' WHERE step = 3");
  QVERIFY(!store_error_of([&] { reader.matrix_at_or_before(id, "drlora/rank", -1); }).empty());
}

void TestStore::commit_listener_reports_max_step() {
  const std::string path = db_path();
  const std::string id_a = make_uuid_hex();
  const std::string id_b = make_uuid_hex();
  std::mutex mutex;
  std::map<std::string, int64_t> reported;
  std::map<std::string, int> calls;
  RunStore store(path);
  store.set_commit_listener([&](const std::string& run_id, int64_t step) {
    std::lock_guard<std::mutex> lock(mutex);
    reported[run_id] = step;
    ++calls[run_id];
  });
  store.start_run(make_start(id_a));
  store.start_run(make_start(id_b));
  {
    std::lock_guard<std::mutex> lock(mutex);
    QVERIFY(reported.empty());  // starting a run adds no step rows
  }
  // Hold the write lock from another connection so every job lands in one transaction.
  sqlite3* other = nullptr;
  QCOMPARE(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  QCOMPARE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  for (int64_t step = 300; step >= 1; --step) store.log_metric(id_a, point("train/loss", step, 1));
  for (int64_t step = 1; step <= 40; ++step) store.log_metric(id_b, point("train/loss", step, 1));
  store.log_metric(id_b, point("eval/loss", 5, 1));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  QCOMPARE(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  store.flush();
  {
    std::lock_guard<std::mutex> lock(mutex);
    QCOMPARE(reported.at(id_a), int64_t(300));
    QCOMPARE(reported.at(id_b), int64_t(40));
    QCOMPARE(calls.at(id_a), 1);
    QCOMPARE(calls.at(id_b), 1);
  }
  // A later commit reports only what it wrote: its own max step.
  store.log_metric(id_b, point("eval/loss", 7, 1));
  store.flush();
  std::lock_guard<std::mutex> lock(mutex);
  QCOMPARE(reported.at(id_b), int64_t(7));
  QCOMPARE(calls.at(id_a), 1);
}

void TestStore::resume_overwrites_instead_of_duplicating() {
  const std::string path = db_path();
  const std::string id = make_uuid_hex();
  {
    RunStore store(path);
    store.start_run(make_start(id));
    for (int64_t step = 1; step <= 10; ++step) store.log_metric(id, point("train/loss", step, 1));
    store.finish_run(id, RunStatus::Killed, "stopped");
  }
  {
    RunReader reader(path);
    QCOMPARE(reader.find_run(id)->status, RunStatus::Killed);
    QVERIFY(reader.find_run(id)->end_ms.has_value());
  }
  RunStore store(path);
  const std::string duplicate = store_error_of([&] { store.start_run(make_start(id)); });
  QVERIFY2(duplicate.find("already exists") != std::string::npos, duplicate.c_str());
  RunStarted missing = make_start(make_uuid_hex());
  missing.resumed = true;
  const std::string no_row = store_error_of([&] { store.start_run(missing); });
  QVERIFY2(no_row.find("cannot resume") != std::string::npos, no_row.c_str());

  RunStarted resume = make_start(id);
  resume.resumed = true;
  store.start_run(resume);
  {
    RunReader reader(path);
    const Run run = *reader.find_run(id);
    QCOMPARE(run.status, RunStatus::Running);
    QVERIFY(!run.end_ms.has_value());
  }
  for (int64_t step = 6; step <= 12; ++step) store.log_metric(id, point("train/loss", step, 2));
  store.flush();
  RunReader reader(path);
  const MetricSeries s = reader.metric_series(id, "train/loss");
  QCOMPARE(s.steps.size(), size_t(12));
  for (size_t i = 0; i < s.steps.size(); ++i) {
    QCOMPARE(s.steps[i], int64_t(i + 1));
    QCOMPARE(s.values[i], s.steps[i] <= 5 ? 1.0 : 2.0);
  }
  QCOMPARE(reader.list_runs().size(), size_t(1));
  QCOMPARE(reader.find_run(id)->latest_steps.at("train/loss"), int64_t(12));
}

void TestStore::flush_rethrows_writer_error() {
  const std::string id = make_uuid_hex();
  RunStore store(db_path());
  store.start_run(make_start(id));
  store.log_metric("no-such-run", point("train/loss", 1, 1));  // violates the foreign key
  store.log_metric(id, point("train/loss", 1, 1));             // still committed
  const std::string message = store_error_of([&] { store.flush(); });
  QVERIFY2(message.find("FOREIGN KEY") != std::string::npos, message.c_str());
  store.flush();  // reported once
  RunReader reader(store.path());
  QCOMPARE(reader.metric_series(id, "train/loss").steps.size(), size_t(1));
  const std::string finish =
      store_error_of([&] { store.finish_run("no-such-run", RunStatus::Finished, ""); });
  QVERIFY2(finish.find("cannot finish") != std::string::npos, finish.c_str());
}

void TestStore::sink_writes_a_whole_run() {
  const std::string id = make_uuid_hex();
  RunStore store(db_path());
  RunStoreSink sink(store);
  EventSink& events = sink;
  events.on_run_started(make_start(id));
  events.on_metric(point("train/loss", 1, 0.5));
  MatrixPoint m;
  m.key = "alloc/rank";
  m.shape = {1};
  m.dtype = MatrixDType::I32;
  m.i32 = {4};
  events.on_matrix(m);
  ArtifactWritten a;
  a.kind = "checkpoint";
  a.path = "checkpoints/step-1.pt";
  a.step = 1;
  a.bytes = 1234;
  events.on_artifact(a);
  RunFinished finished;
  finished.status = RunStatus::Finished;
  events.on_run_finished(finished);
  events.flush();
  RunReader reader(store.path());
  const Run run = *reader.find_run(id);
  QCOMPARE(run.status, RunStatus::Finished);
  QCOMPARE(run.tags.count(kStatusMessageTag), size_t(0));
  QCOMPARE(run.latest_metrics.at("train/loss"), 0.5);
  QCOMPARE(reader.matrix(id, "alloc/rank", 0)->i32, (std::vector<int32_t>{4}));
  const std::vector<Artifact> artifacts = reader.artifacts(id);
  QCOMPARE(artifacts.size(), size_t(1));
  QCOMPARE(q(artifacts[0].path), QStringLiteral("checkpoints/step-1.pt"));
  QCOMPARE(artifacts[0].bytes, int64_t(1234));
}

/// Copies the committed v1 fixture into the temporary folder.
static std::string copy_fixture(const QTemporaryDir& dir) {
  const QString source = QStringLiteral(AP_SOURCE_DIR "/tests/data/stores/v1.sqlite");
  const QString target = dir.filePath(QStringLiteral("v1.sqlite"));
  if (!QFile::copy(source, target)) return {};
  QFile::setPermissions(target, QFile::ReadOwner | QFile::WriteOwner);
  return target.toStdString();
}

void TestStore::migrates_v1_fixture() {
  const std::string path = copy_fixture(*dir_);
  QVERIFY(!path.empty());
  QCOMPARE(raw_query(path, "PRAGMA user_version"), std::string("1"));
  QCOMPARE(raw_query(path, "SELECT count(*) FROM sqlite_master WHERE name = 'artifacts'"),
           std::string("0"));
  QCOMPARE(latest_schema_version(), 2);
  {
    RunStore store(path);
    ArtifactWritten a;
    a.kind = "adapter";
    a.path = "adapter.safetensors";
    store.log_artifact(kFixtureRunId, a);
    store.log_metric(kFixtureRunId, point("train/loss", 4, 2.0));
    store.flush();
  }
  QCOMPARE(raw_query(path, "PRAGMA user_version"), std::string("2"));
  QCOMPARE(raw_query(path, "SELECT count(*) FROM sqlite_master WHERE name = 'runs_by_start'"),
           std::string("1"));
  RunReader reader(path);
  const Run run = *reader.find_run("0123");
  QCOMPARE(q(run.run_id), QStringLiteral("0123456789abcdef0123456789abcdef"));
  QCOMPARE(q(run.experiment_name), QStringLiteral("fixture"));
  QCOMPARE(run.status, RunStatus::Finished);
  QCOMPARE(run.seed, uint64_t(7));
  QCOMPARE(q(run.tags.at("kind")), QStringLiteral("finetune"));
  const MetricSeries s = reader.metric_series(kFixtureRunId, "train/loss");
  QCOMPARE(s.steps, (std::vector<int64_t>{1, 2, 3, 4}));
  QCOMPARE(s.values[1], 2.25);
  QVERIFY(std::isnan(s.values[2]));
  QCOMPARE(run.latest_steps.at("train/loss"), int64_t(4));
  QCOMPARE(reader.artifacts(kFixtureRunId).size(), size_t(1));
}

void TestStore::reader_reads_unmigrated_v1() {
  const std::string path = copy_fixture(*dir_);
  QVERIFY(!path.empty());
  {
    RunReader reader(path);
    QCOMPARE(reader.list_runs().size(), size_t(1));
    QVERIFY(reader.artifacts(kFixtureRunId).empty());
    QCOMPARE(reader.metric_series(kFixtureRunId, "train/loss").steps.size(), size_t(3));
  }
  QCOMPARE(raw_query(path, "PRAGMA user_version"), std::string("1"));  // the reader never writes
}

void TestStore::refuses_newer_schema() {
  const std::string path = db_path();
  { RunStore store(path); }
  raw_exec(path, "PRAGMA user_version = 99");
  const std::string writer = store_error_of([&] { RunStore store(path); });
  QVERIFY2(writer.find("version 99") != std::string::npos, writer.c_str());
  QVERIFY2(writer.find("version 2 ") != std::string::npos, writer.c_str());
  QVERIFY2(writer.find(path) != std::string::npos, writer.c_str());
  const std::string reader = store_error_of([&] { RunReader r(path); });
  QVERIFY2(reader.find("install an Apportion release") != std::string::npos, reader.c_str());
  QCOMPARE(raw_query(path, "PRAGMA user_version"), std::string("99"));
}

void TestStore::refuses_garbage_file() {
  const std::string path = db_path("notes.sqlite");
  QByteArray garbage;
  for (int i = 0; i < 200; ++i) garbage += "this is not a database, just some text\n";
  {
    QFile file(QString::fromStdString(path));
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(garbage);
  }
  const std::string writer = store_error_of([&] { RunStore store(path); });
  QVERIFY2(writer.find(path) != std::string::npos, writer.c_str());
  QVERIFY2(writer.find("not an SQLite database") != std::string::npos, writer.c_str());
  QVERIFY2(writer.find("Choose") != std::string::npos, writer.c_str());
  const std::string reader = store_error_of([&] { RunReader r(path); });
  QVERIFY2(reader.find(path) != std::string::npos, reader.c_str());
  QFile file(QString::fromStdString(path));
  QVERIFY(file.open(QIODevice::ReadOnly));
  QCOMPARE(file.readAll(), garbage);
  QVERIFY(!QFile::exists(QString::fromStdString(path + "-wal")));
}

void TestStore::refuses_foreign_sqlite_database() {
  const std::string path = db_path("other.sqlite");
  raw_exec(path, "CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)");
  const std::string writer = store_error_of([&] { RunStore store(path); });
  QVERIFY2(writer.find("not an Apportion run store") != std::string::npos, writer.c_str());
  QVERIFY2(writer.find(path) != std::string::npos, writer.c_str());
  QCOMPARE(raw_query(path, "SELECT count(*) FROM sqlite_master"), std::string("1"));
  QCOMPARE(raw_query(path, "PRAGMA journal_mode"), std::string("delete"));
}

void TestStore::reader_refuses_missing_file() {
  const std::string path = db_path("missing.sqlite");
  const std::string message = store_error_of([&] { RunReader r(path); });
  QVERIFY2(message.find(path) != std::string::npos, message.c_str());
  QVERIFY(!QFile::exists(QString::fromStdString(path)));
  const std::string no_folder = store_error_of([&] { RunStore s(db_path("nope/ws.sqlite")); });
  QVERIFY2(no_folder.find("nope/ws.sqlite") != std::string::npos, no_folder.c_str());
}

void TestStore::two_concurrent_writers() {
  const std::string path = db_path();
  constexpr int kRows = 4000;
  RunStore first(path);
  RunStore second(path);  // a second connection, as another process would have
  const std::string id_a = make_uuid_hex();
  const std::string id_b = make_uuid_hex();
  std::string error_a;
  std::string error_b;
  auto write = [](RunStore& store, const std::string& id, std::string& error) {
    try {
      store.start_run(make_start(id, "shared"));
      MatrixPoint m;
      m.key = "moe/load_fraction";
      m.shape = {32, 7, 8};
      m.f32.assign(32 * 7 * 8, 0.125f);
      for (int64_t step = 1; step <= kRows; ++step) {
        store.log_metric(id, point("train/loss", step, 1.0 / double(step)));
        store.log_metric(id, point("train/lr", step, 1e-4));
        if (step % 50 == 0) {
          m.step = step;
          store.log_matrix(id, m);
        }
        if (step % 500 == 0) store.flush();
      }
      store.finish_run(id, RunStatus::Finished, "");
    } catch (const std::exception& e) {
      error = e.what();
    }
  };
  std::thread thread_a([&] { write(first, id_a, error_a); });
  std::thread thread_b([&] { write(second, id_b, error_b); });
  thread_a.join();
  thread_b.join();
  QVERIFY2(error_a.empty(), error_a.c_str());
  QVERIFY2(error_b.empty(), error_b.c_str());

  RunReader reader(path);
  QCOMPARE(reader.list_runs().size(), size_t(2));
  for (const std::string& id : {id_a, id_b}) {
    const MetricSeries s = reader.metric_series(id, "train/loss");
    QCOMPARE(s.steps.size(), size_t(kRows));
    QCOMPARE(s.values.back(), 1.0 / kRows);
    QCOMPARE(reader.matrix_steps(id, "moe/load_fraction").size(), size_t(kRows / 50));
    QCOMPARE(reader.find_run(id)->status, RunStatus::Finished);
  }
  QCOMPARE(raw_query(path, "SELECT count(*) FROM experiments"), std::string("1"));
}

void TestStore::reader_sees_commits_while_writer_busy() {
  const std::string path = db_path();
  const std::string id = make_uuid_hex();
  RunStore store(path);
  store.start_run(make_start(id));
  for (int64_t step = 1; step <= 100; ++step) store.log_metric(id, point("train/loss", step, 1));
  store.flush();
  RunReader reader(path);
  const int64_t version_before = reader.data_version();

  // Another connection holds the write lock with uncommitted rows.
  sqlite3* other = nullptr;
  QCOMPARE(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  QCOMPARE(sqlite3_exec(other,
                        ("BEGIN IMMEDIATE; INSERT INTO metrics VALUES ('" + id +
                         "', 'train/loss', 1000, 9.0, 0, 1)")
                            .c_str(),
                        nullptr, nullptr, nullptr),
           SQLITE_OK);
  // Meanwhile the store queues more rows; its writer waits on the lock (busy_timeout).
  std::atomic<bool> flushed{false};
  std::string flush_error;
  std::thread writer([&] {
    for (int64_t step = 101; step <= 150; ++step)
      store.log_metric(id, point("train/loss", step, 1));
    try {
      store.flush();
    } catch (const std::exception& e) {
      flush_error = e.what();
    }
    flushed = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  // WAL: the reader is not blocked, sees the 100 committed rows and nothing uncommitted.
  QCOMPARE(reader.metric_series(id, "train/loss").steps.size(), size_t(100));
  QCOMPARE(reader.data_version(), version_before);
  QVERIFY(!flushed.load());  // the store is still waiting for the lock
  QCOMPARE(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  writer.join();
  QVERIFY2(flush_error.empty(), flush_error.c_str());
  const MetricSeries s = reader.metric_series(id, "train/loss");
  QCOMPARE(s.steps.size(), size_t(151));
  QCOMPARE(s.steps.back(), int64_t(1000));
  QVERIFY(reader.data_version() != version_before);

  // Steady stream: the reader's view only grows while the writer keeps committing.
  std::atomic<bool> done{false};
  std::thread stream([&] {
    for (int64_t step = 2000; step < 6000; ++step) {
      store.log_metric(id, point("stream", step, 1));
      if (step % 200 == 0) {
        store.flush();
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    }
    store.flush();
    done = true;
  });
  size_t last = 0;
  int growth = 0;
  while (!done.load()) {
    const size_t now = reader.metric_series(id, "stream").steps.size();
    QVERIFY(now >= last);
    if (now > last && now < 4000) ++growth;
    last = now;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  stream.join();
  QCOMPARE(reader.metric_series(id, "stream").steps.size(), size_t(4000));
  QVERIFY(growth >= 1);  // saw partial progress while the writer was busy
}

QTEST_APPLESS_MAIN(TestStore)
#include "tst_store.moc"
