// SPDX-License-Identifier: GPL-3.0-or-later
// MainWindow: wires the panels (run table, run view, compare view, new-run dialog) to the
// workspace, the store watcher and the run launcher. It holds no logic of its own beyond that
// wiring and the close-with-active-runs question (DESIGN §6 rule 7).
#pragma once

#include <memory>

#include <QMainWindow>
#include <QString>

#include "app/gui/app_paths.h"

class QLabel;
class QSortFilterProxyModel;
class QSplitter;
class QTabWidget;
class QTableView;
class QAction;
class QLineEdit;

namespace apportion {

class RunLauncher;

namespace ui {
class CompareView;
class RunTableModel;
class RunView;
class StoreWatcher;
class Workspace;
}  // namespace ui

class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(AppPaths paths, QWidget* parent = nullptr);
  ~MainWindow() override;

  /// Opens (or creates) a workspace database; shows a message and returns false on error.
  bool openWorkspace(const QString& dbPath);
  /// Opens the workspace remembered from the last session, if any.
  bool openLastWorkspace();
  /// Selects the newest FINISHED run (else the newest run); false when there is none.
  bool selectFirstFinishedRun();
  /// Selects the two newest finished runs (or first the runs whose ids start with the given
  /// prefixes) and shows the compare tab.
  bool showCompareOfFirstTwo(const QStringList& idPrefixes = {});
  /// Selects the run whose id starts with `idPrefix` (screenshots, pipeline links); false if none.
  bool selectRunById(const QString& idPrefix);
  /// Opens the new-run dialog (non-modal); returns it (for screenshots).
  QWidget* openNewRunDialog();

  RunLauncher* launcher() const { return m_launcher.get(); }
  ui::RunView* runView() const { return m_runView; }
  ui::CompareView* compareView() const { return m_compareView; }

 protected:
  void closeEvent(QCloseEvent* event) override;

 private Q_SLOTS:
  void onOpenWorkspace();
  void onNewRun();
  void onSelectionChanged();
  void onStopSelected();
  void onMarkFailed();
  void onCompareSelected();
  void onRunStarted(const QString& runId);
  void onRunFinished(const QString& runId, const QString& status, const QString& message);
  void onLaunchFailed(const QString& key, const QString& message);

 private:
  void buildMenus();
  void connectLauncher();
  void updateStatus();
  void selectRun(const QString& runId);
  QStringList selectedRunIds() const;
  bool confirmCloseWithActiveRuns();

  AppPaths m_paths;
  std::shared_ptr<ui::Workspace> m_workspace;
  std::unique_ptr<RunLauncher> m_launcher;
  ui::RunTableModel* m_model = nullptr;
  QSortFilterProxyModel* m_proxy = nullptr;
  ui::StoreWatcher* m_watcher = nullptr;
  QTableView* m_table = nullptr;
  QLineEdit* m_filter = nullptr;
  QSplitter* m_splitter = nullptr;
  QTabWidget* m_tabs = nullptr;
  ui::RunView* m_runView = nullptr;
  ui::CompareView* m_compareView = nullptr;
  QLabel* m_statusLabel = nullptr;
  QAction* m_newRunAction = nullptr;
  QAction* m_stopAction = nullptr;
  QAction* m_markFailedAction = nullptr;
  QAction* m_compareAction = nullptr;
  QString m_pendingSelect;
};

}  // namespace apportion
