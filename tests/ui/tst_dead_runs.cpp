// SPDX-License-Identifier: GPL-3.0-or-later
// The run table with a dead run: a forked child starts a run through RunStore (so the child is
// its owner) and is SIGKILLed; the table shows it DEAD without a progress bar, says why in the
// tooltip, and a SIGSTOPped owner's run stays RUNNING.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <QTemporaryDir>
#include <QtTest>

#include "core/common/uuid.h"
#include "core/store/run_reader.h"
#include "core/store/run_store.h"
#include "tests/ui/demo_run.h"
#include "ui/models/run_table_model.h"

using namespace apportion;

namespace {

/// A child process that starts run `id` in `db` and then waits to be killed.
pid_t trainerChild(const std::string& db, const std::string& id) {
  const pid_t pid = fork();
  if (pid == 0) {
    {
      RunStore store(db);
      test::DemoRunSpec spec;
      spec.name = "child-" + id.substr(0, 4);
      store.start_run(test::demo_run_started(spec, id));
      store.flush();
      for (;;) pause();
    }
  }
  return pid;
}

QString statusCell(const ui::RunTableModel& model, const QString& id) {
  return model.index(model.rowOf(id), ui::RunTableModel::StatusColumn).data().toString();
}

}  // namespace

class TestDeadRuns : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void tableShowsDeadRuns() {
    QTemporaryDir dir;
    const std::string db = dir.filePath(QStringLiteral("ws.sqlite")).toStdString();
    { RunStore create(db); }
    const std::string deadId = make_uuid_hex();
    const std::string stoppedId = make_uuid_hex();
    const pid_t dead = trainerChild(db, deadId);
    const pid_t stopped = trainerChild(db, stoppedId);
    QVERIFY(dead > 0 && stopped > 0);
    auto reader = std::make_shared<RunReader>(db);
    QTRY_COMPARE_WITH_TIMEOUT(reader->list_runs().size(), size_t{2}, 10000);
    ui::RunTableModel model;
    model.setReader(reader);
    const QString deadRun = QString::fromStdString(deadId);
    const QString stoppedRun = QString::fromStdString(stoppedId);
    QCOMPARE(statusCell(model, deadRun), QStringLiteral("RUNNING"));
    kill(dead, SIGKILL);
    waitpid(dead, nullptr, 0);
    kill(stopped, SIGSTOP);
    QSignalSpy changed(&model, &ui::RunTableModel::livenessChanged);
    QVERIFY(changed.wait(5000));  // within one 2 s check
    QCOMPARE(statusCell(model, deadRun), QStringLiteral("DEAD"));
    QCOMPARE(statusCell(model, stoppedRun), QStringLiteral("RUNNING"));
    const QModelIndex progress =
        model.index(model.rowOf(deadRun), ui::RunTableModel::ProgressColumn);
    QCOMPARE(progress.data(ui::RunTableModel::ProgressRole).toDouble(), -1.0);
    const QString tip = model.index(model.rowOf(deadRun), ui::RunTableModel::StatusColumn)
                            .data(Qt::ToolTipRole)
                            .toString();
    QVERIFY2(tip.contains(QStringLiteral("process lost")), qPrintable(tip));
    kill(stopped, SIGKILL);
    waitpid(stopped, nullptr, 0);
  }
};

QTEST_MAIN(TestDeadRuns)
#include "tst_dead_runs.moc"
