// SPDX-License-Identifier: GPL-3.0-or-later
// MainWindow: wires the panels (run table, run view, compare view, new-run and sweep dialogs) to
// the workspace, the store watcher, the run launcher (runs trained here) and RemoteCommands
// (runs on executor profiles, sweeps, pull, import). It holds no logic of its own beyond that
// wiring and the close-with-active-runs question (DESIGN §6 rule 7).
#pragma once

#include <memory>

#include <QList>
#include <QMainWindow>
#include <QModelIndex>
#include <QString>

#include "app/gui/app_paths.h"

class QLabel;
class QSortFilterProxyModel;
class QSplitter;
class QTabWidget;
class QTreeView;
class QAction;
class QLineEdit;

namespace apportion {

class RunLauncher;
class RemoteCommands;
struct CliResult;

namespace ui {
class CompareView;
struct CompareSide;
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
  /// Selects the run whose id starts with `idPrefix` (screenshots, pipeline links); false if none.
  bool selectRunById(const QString& idPrefix);
  /// Opens the new-run dialog (non-modal); returns it (for screenshots).
  QWidget* openNewRunDialog();
  /// Opens the sweep dialog (non-modal), loaded from `sweepFile` when given; returns it.
  QWidget* openSweepDialog(const QString& sweepFile = {});
  /// Stop for a run: SIGTERM to a child of this window, else `apportion stop` (a run launched
  /// on a profile, or a live trainer started elsewhere). False when it is not running.
  bool stopRun(const QString& runId);
  /// True when stopRun(runId) has something to stop.
  bool canStop(const QString& runId) const;
  /// Seed-group rows in the run table on or off (as View → Group runs by seed, not saved).
  void setGroupSeeds(bool on);
  /// Expands the seed groups whose label (or key) matches one of `labels` ("*": all); returns
  /// how many it expanded. Turns grouping on.
  int expandGroups(const QStringList& labels);
  /// Selects the seed group whose label (or key) matches `label` and shows the run view of its
  /// first run; false if none. Turns grouping on.
  bool selectGroup(const QString& label);
  /// Compares seed groups (by label or key; with fewer than two labels, the first groups of
  /// the table fill up to two) and shows the compare tab; false when there are fewer than two
  /// groups. Turns grouping on.
  bool showCompareOfGroups(const QStringList& labels = {});
  /// Compares the runs whose ids start with the given prefixes (all of them; with fewer than
  /// two, the newest finished runs fill up to two) and shows the compare tab.
  bool showCompareOfRuns(const QStringList& idPrefixes);

  RunLauncher* launcher() const { return m_launcher.get(); }
  RemoteCommands* remote() const { return m_remote.get(); }
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
  /// Selects the next / previous run row of the table (Alt+Down / Alt+Up).
  void selectAdjacentRun(int delta);
  /// The figure of the view in front (the plot under the mouse, else its loss plot).
  void exportCurrentFigure();
  void copyCurrentFigure();
  void onGroupSeedsToggled(bool on);
  void onRunStarted(const QString& runId);
  void onRunFinished(const QString& runId, const QString& status, const QString& message);
  void onLaunchFailed(const QString& key, const QString& message);
  void onPullNow();
  void onImportStore();

 private:
  void buildMenus();
  /// RemoteCommands for the open workspace; starts the follower when launches are open.
  void setUpRemote();
  /// `apportion train CONFIG --on PROFILE` for the new-run dialog.
  void submitOnProfile(const QString& config, const QString& profile);
  void resubmitSweep(const QString& sweepKey);
  /// The run table's context menu (stop, resubmit a sweep's failed members, pull, compare).
  void showTableMenu(const QPoint& at);
  /// A message box with a command's output (a warning when it failed).
  void showCliResult(const QString& title, const CliResult& result);
  /// Window geometry, splitter, table columns (widths, order, hidden) and the front tab, as
  /// the user left them (QSettings "window/…").
  void saveLayout();
  void restoreLayout();
  /// The table header's menu: show or hide each column.
  void showColumnMenu(const QPoint& at);
  class QCustomPlot* currentFigure() const;
  void connectLauncher();
  void updateStatus();
  void selectRun(const QString& runId);
  /// Runs of the selected rows (a group row: its members), without duplicates.
  QStringList selectedRunIds() const;
  /// The selected rows as compare sides (a run, or a seed group), in selection order.
  QList<ui::CompareSide> selectedSides() const;
  /// Source index of a group matching a label or key (exact label first, then prefixes).
  QModelIndex findGroup(const QString& label) const;
  void resizeTableColumns();
  void rememberTableState();
  void restoreTableState();
  bool confirmCloseWithActiveRuns();

  AppPaths m_paths;
  std::shared_ptr<ui::Workspace> m_workspace;
  std::unique_ptr<RunLauncher> m_launcher;
  std::unique_ptr<RemoteCommands> m_remote;
  ui::RunTableModel* m_model = nullptr;
  QSortFilterProxyModel* m_proxy = nullptr;
  ui::StoreWatcher* m_watcher = nullptr;
  QTreeView* m_table = nullptr;
  QLineEdit* m_filter = nullptr;
  QSplitter* m_splitter = nullptr;
  QTabWidget* m_tabs = nullptr;
  ui::RunView* m_runView = nullptr;
  ui::CompareView* m_compareView = nullptr;
  QLabel* m_statusLabel = nullptr;
  QAction* m_newRunAction = nullptr;
  QAction* m_newSweepAction = nullptr;
  QAction* m_stopAction = nullptr;
  QAction* m_markFailedAction = nullptr;
  QAction* m_compareAction = nullptr;
  QAction* m_groupSeedsAction = nullptr;
  QStringList m_savedSelection;  ///< "run:<id>" / "group:<key>" across model resets
  QStringList m_savedExpanded;   ///< group keys expanded before a model reset
  QString m_pendingSelect;
  bool m_columnsRestored = false;
};

}  // namespace apportion
