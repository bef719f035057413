// SPDX-License-Identifier: GPL-3.0-or-later
// Dead-run detection with real processes: a forked child that exited is gone, a SIGSTOPped one
// is alive (same pid and start token), a recycled pid with another start token is not the
// owner; run_liveness on this host and on another (heartbeat timeout); a run started through
// RunStore records this process as its owner and gets heartbeats while the store is idle;
// files are published with fsync + rename and a crash's stale .tmp is removed.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <QTemporaryDir>
#include <QtTest>
#include <chrono>
#include <cstdio>
#include <system_error>
#include <thread>

#include "core/common/clock.h"
#include "core/common/durable_file.h"
#include "core/store/liveness.h"
#include "core/store/process_identity.h"
#include "core/store/run_reader.h"
#include "core/store/run_store.h"
#include "tests/core/store_test_util.h"

using namespace apportion;

namespace {

/// A child that sleeps until killed.
pid_t sleeper() {
  const pid_t pid = fork();
  if (pid == 0) {
    for (;;) pause();
  }
  return pid;
}

Run runningRun(const ProcessIdentity& owner, int64_t heartbeat_ms) {
  Run r;
  r.status = RunStatus::Running;
  r.owner_host = owner.host;
  r.owner_pid = owner.pid;
  r.owner_start = owner.start;
  r.heartbeat_ms = heartbeat_ms;
  return r;
}

}  // namespace

class TestLiveness : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void processIdentity() {
    const ProcessIdentity me = current_process();
    QCOMPARE(me.pid, static_cast<int64_t>(getpid()));
    QVERIFY(!me.host.empty());
    QVERIFY(me.start.find(':') != std::string::npos);
    QVERIFY(process_alive(me));
    ProcessIdentity recycled = me;
    recycled.start = "another-boot:1";
    QVERIFY(!process_alive(recycled));  // same pid, another process
  }

  void stoppedChildIsAliveExitedChildIsNot() {
    const pid_t pid = sleeper();
    QVERIFY(pid > 0);
    const auto token = process_start_token(pid);
    QVERIFY(token.has_value());
    const ProcessIdentity child{this_host_name(), pid, *token};
    QVERIFY(process_alive(child));
    QCOMPARE(kill(pid, SIGSTOP), 0);
    QTest::qWait(200);
    QVERIFY(process_alive(child));  // stopped, not dead
    const std::string host = this_host_name();
    QCOMPARE(run_liveness(runningRun(child, 0), now_ms(), host).state, Liveness::Alive);
    kill(pid, SIGKILL);
    QTest::qWait(100);
    // Not yet reaped: a zombie is gone as a trainer.
    QVERIFY(!process_alive(child));
    waitpid(pid, nullptr, 0);
    QVERIFY(!process_alive(child));
    const LivenessVerdict v = run_liveness(runningRun(child, now_ms()), now_ms(), host);
    QCOMPARE(v.state, Liveness::Dead);
    QVERIFY2(v.reason.find("process lost") != std::string::npos, v.reason.c_str());
    QCOMPARE(display_status(runningRun(child, 0), v), std::string("DEAD"));
  }

  void otherHostsByHeartbeat() {
    ProcessIdentity remote{"some-gpu-node", 4242, "boot:77"};
    const int64_t now = now_ms();
    QCOMPARE(run_liveness(runningRun(remote, now - 2000), now, "here").state, Liveness::Alive);
    const LivenessVerdict v =
        run_liveness(runningRun(remote, now - kRemoteTimeoutMs - 1000), now, "here");
    QCOMPARE(v.state, Liveness::Dead);
    QVERIFY2(v.reason.find("no heartbeat") != std::string::npos, v.reason.c_str());
    Run old = runningRun({"", 0, ""}, 0);
    QCOMPARE(run_liveness(old, now, "here").state, Liveness::Unknown);
    Run finished = runningRun(remote, 0);
    finished.status = RunStatus::Finished;
    QCOMPARE(run_liveness(finished, now, "here").state, Liveness::NotRunning);
    QCOMPARE(display_status(finished, run_liveness(finished, now, "here")),
             std::string("FINISHED"));
  }

  void publishAndStaleTemp() {
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("checkpoint.pt")).toStdString();
    {
      std::FILE* f = std::fopen((path + ".tmp").c_str(), "wb");
      QVERIFY(f);
      std::fputs("new", f);
      std::fclose(f);
    }
    publish_file(path + ".tmp", path);
    QVERIFY(QFile::exists(QString::fromStdString(path)));
    QVERIFY(!QFile::exists(QString::fromStdString(path + ".tmp")));
    QVERIFY(!remove_stale_temp(path));
    {
      std::FILE* f = std::fopen((path + ".tmp").c_str(), "wb");  // a crash mid-write
      std::fclose(f);
    }
    QVERIFY(remove_stale_temp(path));
    QVERIFY(!QFile::exists(QString::fromStdString(path + ".tmp")));
    try {
      publish_file(path + ".missing", path);
      QFAIL("publishing a missing file did not throw");
    } catch (const std::system_error& e) {
      QVERIFY2(std::string(e.what()).find(".missing") != std::string::npos, e.what());
    }
  }

  void storeRecordsOwnerAndHeartbeats() {
    QTemporaryDir dir;
    const std::string db = dir.filePath(QStringLiteral("ws.sqlite")).toStdString();
    const std::string id = "dddd0000000000000000000000000001";
    RunStore store(db);
    store.start_run(test::make_start(id));
    store.flush();
    RunReader reader(db);
    const Run first = *reader.find_run(id);
    QCOMPARE(first.owner_pid, static_cast<int64_t>(getpid()));
    QCOMPARE(first.owner_host, this_host_name());
    QCOMPARE(first.owner_start, current_process().start);
    QCOMPARE(run_liveness(first, now_ms(), this_host_name()).state, Liveness::Alive);
    // Idle for more than one interval: a heartbeat arrives.
    std::this_thread::sleep_for(std::chrono::milliseconds(kHeartbeatIntervalMs + 1500));
    const Run later = *reader.find_run(id);
    QVERIFY2(later.heartbeat_ms > first.heartbeat_ms,
             qPrintable(QStringLiteral("%1 → %2").arg(first.heartbeat_ms).arg(later.heartbeat_ms)));
    store.finish_run(id, RunStatus::Finished, "");
    store.flush();
    QCOMPARE(run_liveness(*reader.find_run(id), now_ms(), this_host_name()).state,
             Liveness::NotRunning);
  }
};

QTEST_GUILESS_MAIN(TestLiveness)
#include "tst_liveness.moc"
