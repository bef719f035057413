// SPDX-License-Identifier: GPL-3.0-or-later
// Tests of the SQLite run store's contents: round trips (NaN/inf scalars, matrix records),
// latest metrics, the commit listener, resume and the event sink. The store as a file (v1
// migration, foreign/newer/missing files, concurrent writers) is tst_store_files.cpp.
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
#include "core/store/process_identity.h"
#include "core/store/run_reader.h"
#include "core/store/run_store.h"
#include "core/store/run_writer.h"
#include "core/store/store_keys.h"
#include "tests/core/store_test_util.h"

using namespace apportion;

using namespace apportion::test;

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
  QCOMPARE(q(run.host), q(this_host_name()));
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

QTEST_APPLESS_MAIN(TestStore)
#include "tst_store.moc"
