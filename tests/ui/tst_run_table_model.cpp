// SPDX-License-Identifier: GPL-3.0-or-later
// RunTableModel under QAbstractItemModelTester over a temporary store filled with RunStore:
// rows, columns, roles, live updates after new commits, and the data_version watcher; the
// seed-group tree (group rows with hand-computed mean (min–max) cells, members as children).
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
#include "ui/models/seed_group_format.h"
#include "ui/models/store_watcher.h"
#include "ui/models/workspace.h"

using namespace apportion;
using apportion::ui::RunTableModel;

namespace {

/// A run with hand-chosen latest metrics (no demo curves): start, metrics at `step`, finish.
std::string addRunWithMetrics(RunStore& store,
                              const std::string& name,
                              const std::string& method,
                              uint64_t seed,
                              const std::map<std::string, double>& metrics,
                              RunStatus status = RunStatus::Finished,
                              int64_t step = 40) {
  test::DemoRunSpec spec;
  spec.name = name;
  spec.experiment = method;
  spec.method = method;
  spec.seed = seed;
  const std::string id = make_uuid_hex();
  store.start_run(test::demo_run_started(spec, id));
  for (const auto& [key, value] : metrics) store.log_metric(id, {key, step, value, 0});
  if (status != RunStatus::Running) store.finish_run(id, status, "");
  store.flush();
  return id;
}

}  // namespace

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

  void seedGroupsCollapse() {
    RunStore store(m_db.toStdString());
    // Three seeds of one LoRA config (one FAILED), one MoLA run on its own.
    const std::string s1 =
        addRunWithMetrics(store, "lora-s1", "lora", 1, {{"eval/acc", 0.58}, {"train/loss", 0.40}});
    const std::string s3 = addRunWithMetrics(
        store, "lora-s3", "lora", 3, {{"eval/acc", 0.66}, {"train/loss", 0.41}}, RunStatus::Failed);
    const std::string s2 =
        addRunWithMetrics(store, "lora-s2", "lora", 2, {{"eval/acc", 0.632}, {"train/loss", 0.43}});
    const std::string solo = addRunWithMetrics(store, "mola-x", "mola", 7, {{"eval/acc", 0.5}});
    auto ws = ui::Workspace::open(m_db);
    RunTableModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setReader(ws->reader());
    QCOMPARE(model.rowCount(), 4);  // ungrouped: one row per run, no children
    QCOMPARE(model.groups().size(), size_t(1));
    QCOMPARE(model.rowCount(model.index(0, 0)), 0);

    QSignalSpy toggled(&model, &RunTableModel::groupSeedsChanged);
    model.setGroupSeeds(true);
    QCOMPARE(toggled.count(), 1);
    QCOMPARE(model.rowCount(), 2);  // the group and the MoLA run
    const QModelIndex group = model.indexOfGroup(QString::fromStdString(model.groups()[0].key));
    QVERIFY(group.isValid());
    QVERIFY(model.groupFor(group) != nullptr);
    QVERIFY(model.runFor(group) == nullptr);
    auto text = [&](const QModelIndex& parent, int row, int column) {
      return model.data(model.index(row, column, parent)).toString();
    };
    const QModelIndex top;
    const int g = group.row();
    // Hand-computed: eval/acc mean (0.58 + 0.632 + 0.66) / 3 = 0.624, range 0.58–0.66;
    // train/loss mean (0.40 + 0.43 + 0.41) / 3 = 0.41333, range 0.40–0.43.
    QCOMPARE(text(top, g, RunTableModel::NameColumn), QStringLiteral("lora ×3 · seeds 1–3"));
    QCOMPARE(text(top, g, RunTableModel::EvalAccColumn), QStringLiteral("62.4% (58.0–66.0)"));
    QCOMPARE(text(top, g, RunTableModel::TrainLossColumn),
             QStringLiteral("0.4133 (0.4000–0.4300)"));
    QCOMPARE(text(top, g, RunTableModel::StatusColumn), QStringLiteral("2 FINISHED, 1 FAILED"));
    QCOMPARE(text(top, g, RunTableModel::MethodColumn), QStringLiteral("lora"));
    QCOMPARE(text(top, g, RunTableModel::ProgressColumn), QStringLiteral("40 / 40"));
    QCOMPARE(model.data(model.index(g, 0), RunTableModel::RunIdRole).toString(), QString());
    QCOMPARE(model.data(model.index(g, RunTableModel::EvalAccColumn), RunTableModel::SortRole)
                 .toDouble(),
             (0.58 + 0.632 + 0.66) / 3.0);
    QCOMPARE(model.data(model.index(g, 0), RunTableModel::MemberRunIdsRole).toStringList(),
             (QStringList{QString::fromStdString(s1), QString::fromStdString(s2),
                          QString::fromStdString(s3)}));
    // Members are children, by seed.
    QCOMPARE(model.rowCount(group), 3);
    const QModelIndex member = model.index(1, 0, group);
    QCOMPARE(member.parent(), model.index(g, 0));
    QCOMPARE(model.data(member, RunTableModel::RunIdRole).toString(), QString::fromStdString(s2));
    QCOMPARE(text(group, 1, RunTableModel::NameColumn), QStringLiteral("lora-s2"));
    QCOMPARE(text(group, 2, RunTableModel::EvalAccColumn), QStringLiteral("66.0%"));
    QCOMPARE(model.indexOfRun(QString::fromStdString(s3)), model.index(2, 0, group));
    QCOMPARE(model.rowCount(model.indexOfRun(QString::fromStdString(solo))), 0);
    QCOMPARE(
        text(top, model.indexOfRun(QString::fromStdString(solo)).row(), RunTableModel::NameColumn),
        QStringLiteral("mola-x"));

    // A live refresh that keeps the groups updates in place; a new seed resets the tree.
    QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
    store.log_metric(s1, {"eval/acc", 41, 0.61, 0});
    store.flush();
    model.refresh();
    QCOMPARE(resets.count(), 0);
    // (0.61 + 0.632 + 0.66) / 3 = 0.634
    QCOMPARE(text(top, model.indexOfGroup(QString::fromStdString(model.groups()[0].key)).row(),
                  RunTableModel::EvalAccColumn),
             QStringLiteral("63.4% (61.0–66.0)"));
    addRunWithMetrics(store, "lora-s4", "lora", 4, {{"eval/acc", 0.7}}, RunStatus::Running);
    model.refresh();
    QCOMPARE(resets.count(), 1);
    const QModelIndex grown = model.indexOfGroup(QString::fromStdString(model.groups()[0].key));
    QCOMPARE(model.rowCount(grown), 4);
    QCOMPARE(text(top, grown.row(), RunTableModel::NameColumn),
             QStringLiteral("lora ×4 · seeds 1–4"));
    QCOMPARE(text(top, grown.row(), RunTableModel::StatusColumn),
             QStringLiteral("1 RUNNING, 2 FINISHED, 1 FAILED"));

    model.setGroupSeeds(false);
    QCOMPARE(model.rowCount(), 5);
    QCOMPARE(model.rowOf(QString::fromStdString(solo)),
             model.indexOfRun(QString::fromStdString(solo)).row());
  }

  void seedGroupFormatting() {
    QCOMPARE(ui::seedsText({5, 0, 2, 1, 9, 8}), QStringLiteral("0–2, 5, 8, 9"));
    QCOMPARE(ui::signedPoints(-0.0031), QStringLiteral("−0.3"));
    QCOMPARE(ui::signedPoints(0.041), QStringLiteral("+4.1"));
    QCOMPARE(ui::meanRangeText(summarize({0.5}), true), QStringLiteral("50.0%"));
    QCOMPARE(ui::meanRangeText(summarize({}), true), QString());
  }
};

QTEST_MAIN(TestRunTableModel)
#include "tst_run_table_model.moc"
