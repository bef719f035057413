// SPDX-License-Identifier: GPL-3.0-or-later
// Tests of the SQLite run store as a file: migration from the committed v1 fixture, a reader on
// an unmigrated file, refusal of newer, garbage, foreign and missing files, two concurrent
// writers and a reader that sees commits while a writer is busy.
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
#include "tests/core/store_test_util.h"

using namespace apportion;

using namespace apportion::test;

class TestStoreFiles : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void init();
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

void TestStoreFiles::init() {
  dir_ = std::make_unique<QTemporaryDir>();
  QVERIFY(dir_->isValid());
}

void TestStoreFiles::migrates_v1_fixture() {
  const std::string path = copy_fixture(*dir_);
  QVERIFY(!path.empty());
  QCOMPARE(raw_query(path, "PRAGMA user_version"), std::string("1"));
  QCOMPARE(raw_query(path, "SELECT count(*) FROM sqlite_master WHERE name = 'artifacts'"),
           std::string("0"));
  QCOMPARE(latest_schema_version(), 3);
  {
    RunStore store(path);
    ArtifactWritten a;
    a.kind = "adapter";
    a.path = "adapter.safetensors";
    store.log_artifact(kFixtureRunId, a);
    store.log_metric(kFixtureRunId, point("train/loss", 4, 2.0));
    store.flush();
  }
  QCOMPARE(raw_query(path, "PRAGMA user_version"), std::string("3"));
  QCOMPARE(raw_query(path, "SELECT count(*) FROM sqlite_master WHERE name = 'runs_by_start'"),
           std::string("1"));
  // v3: the fixture's run (written before owners existed) has none: liveness Unknown.
  QCOMPARE(raw_query(path, "SELECT owner_pid FROM runs"), std::string("0"));
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

void TestStoreFiles::reader_reads_unmigrated_v1() {
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

void TestStoreFiles::refuses_newer_schema() {
  const std::string path = db_path();
  { RunStore store(path); }
  raw_exec(path, "PRAGMA user_version = 99");
  const std::string writer = store_error_of([&] { RunStore store(path); });
  QVERIFY2(writer.find("version 99") != std::string::npos, writer.c_str());
  QVERIFY2(writer.find("version 3 ") != std::string::npos, writer.c_str());
  QVERIFY2(writer.find(path) != std::string::npos, writer.c_str());
  const std::string reader = store_error_of([&] { RunReader r(path); });
  QVERIFY2(reader.find("install an Apportion release") != std::string::npos, reader.c_str());
  QCOMPARE(raw_query(path, "PRAGMA user_version"), std::string("99"));
}

void TestStoreFiles::refuses_garbage_file() {
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

void TestStoreFiles::refuses_foreign_sqlite_database() {
  const std::string path = db_path("other.sqlite");
  raw_exec(path, "CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)");
  const std::string writer = store_error_of([&] { RunStore store(path); });
  QVERIFY2(writer.find("not an Apportion run store") != std::string::npos, writer.c_str());
  QVERIFY2(writer.find(path) != std::string::npos, writer.c_str());
  QCOMPARE(raw_query(path, "SELECT count(*) FROM sqlite_master"), std::string("1"));
  QCOMPARE(raw_query(path, "PRAGMA journal_mode"), std::string("delete"));
}

void TestStoreFiles::reader_refuses_missing_file() {
  const std::string path = db_path("missing.sqlite");
  const std::string message = store_error_of([&] { RunReader r(path); });
  QVERIFY2(message.find(path) != std::string::npos, message.c_str());
  QVERIFY(!QFile::exists(QString::fromStdString(path)));
  const std::string no_folder = store_error_of([&] { RunStore s(db_path("nope/ws.sqlite")); });
  QVERIFY2(no_folder.find("nope/ws.sqlite") != std::string::npos, no_folder.c_str());
}

void TestStoreFiles::two_concurrent_writers() {
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

void TestStoreFiles::reader_sees_commits_while_writer_busy() {
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

QTEST_APPLESS_MAIN(TestStoreFiles)
#include "tst_store_files.moc"
