// SPDX-License-Identifier: GPL-3.0-or-later
// RunTableModel under QAbstractItemModelTester over a temporary store filled with RunStore:
// rows, columns, roles, live updates after new commits, and the data_version watcher.
#include <QAbstractItemModelTester>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "core/common/uuid.h"
#include "core/store/run_reader.h"
#include "core/store/run_store.h"
#include "tests/ui/demo_run.h"
#include "ui/models/run_colors.h"
#include "ui/models/run_table_model.h"
#include "ui/models/store_watcher.h"
#include "ui/models/workspace.h"

using namespace apportion;
using apportion::ui::RunTableModel;

class TestRunTableModel : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir m_dir;
  QString m_db;

 private Q_SLOTS:
  void init() {
    QVERIFY(m_dir.isValid());
    m_db =
        m_dir.filePath(QStringLiteral("ws-%1.sqlite").arg(QRandomGenerator::global()->generate()));
  }

  void emptyWorkspaceIsCreated() {
    auto ws = ui::Workspace::open(m_db);
    QVERIFY(QFileInfo::exists(m_db));
    RunTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setReader(ws->reader());
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.columnCount(), int(RunTableModel::ColumnCount));
  }

  void rowsAndColumns() {
    std::string first;
    std::string second;
    {
      RunStore store(m_db.toStdString());
      test::DemoRunSpec a;
      a.name = "mola-a";
      first = test::add_demo_run(store, a);
      test::DemoRunSpec b;
      b.name = "uniform-b";
      b.method = "uniform";
      b.num_experts = 4;
      second = test::add_demo_run(store, b, RunStatus::Failed);
    }
    auto ws = ui::Workspace::open(m_db);
    RunTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setReader(ws->reader());
    QCOMPARE(model.rowCount(), 2);
    const int rowA = model.rowOf(QString::fromStdString(first));
    const int rowB = model.rowOf(QString::fromStdString(second));
    QVERIFY(rowA >= 0 && rowB >= 0 && rowA != rowB);
    auto cell = [&](int row, int column, int role = Qt::DisplayRole) {
      return model.data(model.index(row, column), role);
    };
    QCOMPARE(cell(rowA, RunTableModel::NameColumn).toString(), QStringLiteral("mola-a"));
    QCOMPARE(cell(rowA, RunTableModel::StatusColumn).toString(), QStringLiteral("FINISHED"));
    QCOMPARE(cell(rowB, RunTableModel::StatusColumn).toString(), QStringLiteral("FAILED"));
    QCOMPARE(cell(rowA, RunTableModel::MethodColumn).toString(), QStringLiteral("mola"));
    QCOMPARE(cell(rowA, RunTableModel::KeyParamsColumn).toString(),
             QStringLiteral("mola 2468 k=2 r=8"));
    QCOMPARE(cell(rowB, RunTableModel::KeyParamsColumn).toString(), QStringLiteral("E=4 k=2 r=8"));
    QCOMPARE(cell(rowA, RunTableModel::ExperimentColumn).toString(), QStringLiteral("demo"));
    QCOMPARE(cell(rowA, RunTableModel::ProgressColumn).toString(), QStringLiteral("40 / 40"));
    QVERIFY(!cell(rowA, RunTableModel::TrainLossColumn).toString().isEmpty());
    QVERIFY(cell(rowA, RunTableModel::EvalAccColumn).toString().endsWith(QLatin1Char('%')));
    QCOMPARE(cell(rowA, 0, RunTableModel::RunIdRole).toString(), QString::fromStdString(first));
    QCOMPARE(cell(rowA, 0, RunTableModel::RunColorRole).value<QColor>(),
             ui::runColor(QString::fromStdString(first)));
    QCOMPARE(cell(rowA, RunTableModel::ProgressColumn, RunTableModel::ProgressRole).toDouble(),
             -1.0);
    QVERIFY(model.headerData(RunTableModel::TrainLossColumn, Qt::Horizontal, Qt::DisplayRole)
                .toString()
                .contains(QStringLiteral("loss")));
    // Stable colours: same id, same colour; the palette spreads different ids.
    QCOMPARE(ui::runColor(QStringLiteral("abc")), ui::runColor(QStringLiteral("abc")));
  }

  void liveUpdateAfterCommits() {
    RunStore store(m_db.toStdString());
    test::DemoRunSpec done;
    test::add_demo_run(store, done);
    auto ws = ui::Workspace::open(m_db);
    RunTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setReader(ws->reader());
    QCOMPARE(model.rowCount(), 1);

    ui::StoreWatcher watcher;
    watcher.setInterval(50);
    watcher.setReader(ws->reader());
    connect(&watcher, &ui::StoreWatcher::storeChanged, &model, &RunTableModel::scheduleRefresh);
    QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
    QSignalSpy changed(&watcher, &ui::StoreWatcher::storeChanged);

    // A new RUNNING run appears through the watcher (no pipe), without a model reset.
    test::DemoRunSpec live;
    live.name = "live";
    live.steps = 100;
    const std::string id = make_uuid_hex();
    store.start_run(test::demo_run_started(live, id));
    for (int step = 0; step <= 20; ++step) test::write_demo_step(store, id, live, step);
    store.flush();
    QTRY_VERIFY_WITH_TIMEOUT(changed.count() > 0, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(model.rowCount(), 2, 5000);
    QCOMPARE(inserted.count(), 1);
    const QString runId = QString::fromStdString(id);
    int row = model.rowOf(runId);
    QCOMPARE(model.data(model.index(row, RunTableModel::StatusColumn)).toString(),
             QStringLiteral("RUNNING"));
    QCOMPARE(
        model.data(model.index(row, RunTableModel::ProgressColumn), RunTableModel::ProgressRole)
            .toDouble(),
        0.2);
    QCOMPARE(model.data(model.index(row, RunTableModel::ProgressColumn)).toString(),
             QStringLiteral("20 / 100"));

    // Progress events of a launched run win over the params' planned steps.
    model.onRunProgress(runId, 30, 60);
    QCOMPARE(
        model.data(model.index(row, RunTableModel::ProgressColumn), RunTableModel::ProgressRole)
            .toDouble(),
        0.5);

    // More commits, then the end: rows update in place.
    for (int step = 21; step <= 100; ++step) test::write_demo_step(store, id, live, step);
    store.finish_run(id, RunStatus::Finished, "");
    store.flush();
    QTRY_COMPARE_WITH_TIMEOUT(
        model.data(model.index(model.rowOf(runId), RunTableModel::StatusColumn)).toString(),
        QStringLiteral("FINISHED"), 5000);
    row = model.rowOf(runId);
    QCOMPARE(
        model.data(model.index(row, RunTableModel::ProgressColumn), RunTableModel::ProgressRole)
            .toDouble(),
        -1.0);
    QCOMPARE(inserted.count(), 1);
    QCOMPARE(model.rowCount(), 2);
  }
};

QTEST_MAIN(TestRunTableModel)
#include "tst_run_table_model.moc"
