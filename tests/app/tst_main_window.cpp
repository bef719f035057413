// SPDX-License-Identifier: GPL-3.0-or-later
// The main window as a keyboard user meets it, on a real workspace of five demo runs: every
// common action has its shortcut (new run, stop, compare, export, copy figure, next/previous
// run), Alt+Down walks the run table, Ctrl+D compares any number of selected runs, and the
// layout (hidden table columns, the front tab) comes back in the next window; a damaged
// workspace (one b-tree page overwritten) brings up the damage dialog, which opens it to read or
// copies its readable runs into a new workspace. QSettings are redirected to a temporary folder.
#include <QAction>
#include <QFileInfo>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QTreeView>
#include <QtTest>

#include "app/gui/main_window.h"
#include "core/store/run_store.h"
#include "tests/core/store_test_util.h"
#include "tests/ui/demo_run.h"
#include "ui/models/run_table_model.h"
#include "ui/widgets/compare_view.h"
#include "ui/widgets/run_view.h"

using namespace apportion;

class TestMainWindow : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir m_dir;
  QString m_db;

  static QAction* actionWithShortcut(QWidget& window, const QString& keys) {
    for (QAction* a : window.findChildren<QAction*>())
      if (a->shortcut() == QKeySequence(keys)) return a;
    return nullptr;
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope,
                       m_dir.filePath(QStringLiteral("settings")));
    m_db = m_dir.filePath(QStringLiteral("ws.sqlite"));
    RunStore store(m_db.toStdString());
    for (int i = 0; i < 5; ++i) {
      test::DemoRunSpec s;
      s.name = "run-" + std::to_string(i);
      s.seed = static_cast<uint64_t>(i + 1);
      s.preset = i % 2 ? "8642" : "2468";
      test::add_demo_run(store, s);
    }
    store.flush();
  }

  void shortcutsDriveTheWindow() {
    MainWindow window(AppPaths{m_dir.path(), QStringLiteral("/bin/false")});
    QVERIFY(window.openWorkspace(m_db));
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    for (const char* keys : {"Ctrl+N", "Ctrl+O", "Ctrl+D", "Ctrl+.", "Ctrl+E", "Ctrl+Shift+C",
                             "Alt+Down", "Alt+Up", "Ctrl+G", "Ctrl+1", "Ctrl+2"})
      QVERIFY2(actionWithShortcut(window, QString::fromUtf8(keys)), keys);
    auto* table = window.findChild<QTreeView*>();
    QVERIFY(table);
    QTRY_COMPARE(table->model()->rowCount(), 5);
    // Next / previous run.
    actionWithShortcut(window, QStringLiteral("Alt+Down"))->trigger();
    const QString first = window.runView()->runId();
    QVERIFY(!first.isEmpty());
    actionWithShortcut(window, QStringLiteral("Alt+Down"))->trigger();
    QVERIFY(window.runView()->runId() != first);
    actionWithShortcut(window, QStringLiteral("Alt+Up"))->trigger();
    QCOMPARE(window.runView()->runId(), first);
    // Select four runs, compare them all.
    QItemSelection selection;
    for (int row = 0; row < 4; ++row) {
      const QModelIndex index = table->model()->index(row, 0);
      selection.select(index, index);
    }
    table->selectionModel()->select(
        selection, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    actionWithShortcut(window, QStringLiteral("Ctrl+D"))->trigger();
    QCOMPARE(window.compareView()->sides().size(), 4);
    auto* tabs = window.compareView()->parentWidget()->parentWidget();
    QVERIFY(qobject_cast<QTabWidget*>(tabs));
    QCOMPARE(qobject_cast<QTabWidget*>(tabs)->currentWidget(), window.compareView());
    // Hide a column; closing remembers it and the front tab.
    table->header()->setSectionHidden(ui::RunTableModel::StartColumn, true);
    QVERIFY(window.close());
  }

  void layoutComesBack() {
    MainWindow window(AppPaths{m_dir.path(), QStringLiteral("/bin/false")});
    QVERIFY(window.openWorkspace(m_db));
    auto* table = window.findChild<QTreeView*>();
    QVERIFY(table->header()->isSectionHidden(ui::RunTableModel::StartColumn));
    QVERIFY(!table->header()->isSectionHidden(ui::RunTableModel::NameColumn));
    auto* tabs = qobject_cast<QTabWidget*>(window.compareView()->parentWidget()->parentWidget());
    QCOMPARE(tabs->currentWidget(), window.compareView());
  }

  void damagedWorkspaceOffersAWayOut() {
    const std::string db = m_dir.filePath(QStringLiteral("damaged.sqlite")).toStdString();
    {
      RunStore store(db);
      for (char c : {'a', 'b', 'c', 'd'}) {
        const std::string id(32, c);
        store.start_run(test::make_start(id));
        for (int step = 0; step < 3000; ++step) {
          store.log_metric(id, test::point("train/loss", step, 1.0 / (step + 1)));
        }
        store.finish_run(id, RunStatus::Finished, "");
      }
      store.flush();
    }
    test::raw_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    if (!test::corrupt_leaf_page(db, "metrics", 3.0 / 8)) QSKIP("no dbstat table");
    const QString damaged = QString::fromStdString(db);

    // The dialog: its findings, then "Open to read" opens the damaged file (4 runs listed).
    MainWindow window(AppPaths{m_dir.path(), QStringLiteral("/bin/false")});
    QString shown;
    QTimer::singleShot(0, [&] {
      auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
      if (!box) return;
      shown = box->text();
      const QString shots = qEnvironmentVariable("AP_SCREENSHOT_DIR");
      if (!shots.isEmpty())
        box->grab().save(shots + QStringLiteral("/damaged_workspace_dialog.png"));
      for (QAbstractButton* b : box->buttons())
        if (b->text().contains(QStringLiteral("Open to read"))) b->click();
    });
    QVERIFY(window.openWorkspace(damaged));
    QVERIFY2(shown.contains(QStringLiteral("is damaged")) &&
                 shown.contains(QStringLiteral("quick_check")),
             qPrintable(shown));
    QCOMPARE(window.findChild<QTreeView*>()->model()->rowCount(), 4);

    // Scripted "Copy readable runs": the new workspace holds the three runs that survived.
    const QString rescued = m_dir.filePath(QStringLiteral("rescued.sqlite"));
    qputenv("APPORTION_DAMAGED_CHOICE", QStringLiteral("copy:%1").arg(rescued).toUtf8());
    MainWindow second(AppPaths{m_dir.path(), QStringLiteral("/bin/false")});
    QVERIFY(second.openWorkspace(damaged));
    qunsetenv("APPORTION_DAMAGED_CHOICE");
    QVERIFY(second.windowTitle().contains(rescued));
    QCOMPARE(second.findChild<QTreeView*>()->model()->rowCount(), 3);
  }
};

QTEST_MAIN(TestMainWindow)
#include "tst_main_window.moc"
