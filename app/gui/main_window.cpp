// SPDX-License-Identifier: GPL-3.0-or-later
// MainWindow: panel wiring, menus, workspace switching and the close question.
#include "app/gui/main_window.h"

#include "app/gui/cli_queries.h"

#include <algorithm>

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QFileDialog>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QToolButton>
#include <QTreeView>
#include <QVBoxLayout>

#include "app/gui/damaged_workspace.h"
#include "app/gui/remote_commands.h"
#include "app/gui/run_launcher.h"
#include "core/common/error.h"
#include "core/methods/method_registry.h"
#include "core/store/liveness.h"
#include "core/store/run_store.h"
#include "core/store/store_integrity.h"
#include "ui/models/progress_delegate.h"
#include "ui/models/run_format.h"
#include "ui/models/run_table_filter.h"
#include "ui/models/run_table_model.h"
#include "ui/models/store_watcher.h"
#include "ui/models/workspace.h"
#include "ui/settings/preference.h"
#include "ui/widgets/compare_view.h"
#include "ui/widgets/new_run_dialog.h"
#include "ui/widgets/run_view.h"

namespace apportion {

namespace {
const ui::Preference<QString> kLastWorkspace(QStringLiteral("workspace/last"), QString());
}  // namespace

MainWindow::MainWindow(AppPaths paths, QWidget* parent)
    : QMainWindow(parent),
      m_paths(std::move(paths)),
      m_model(new ui::RunTableModel(this)),
      m_proxy(new ui::RunTableFilter(this)),
      m_watcher(new ui::StoreWatcher(this)),
      m_table(new QTreeView),
      m_filter(new QLineEdit),
      m_splitter(new QSplitter(Qt::Vertical)),
      m_tabs(new QTabWidget),
      m_runView(new ui::RunView),
      m_compareView(new ui::CompareView),
      m_statusLabel(new QLabel) {
  setWindowTitle(tr("Apportion"));
  m_proxy->setSourceModel(m_model);
  m_proxy->setSortRole(ui::RunTableModel::SortRole);
  m_proxy->setFilterKeyColumn(-1);
  m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
  m_proxy->setRecursiveFilteringEnabled(true);  // a matching run keeps its seed group shown
  m_proxy->setAutoAcceptChildRows(true);        // a matching group shows all its runs
  m_table->setModel(m_proxy);
  m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
  m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
  m_table->setUniformRowHeights(true);
  m_table->setAllColumnsShowFocus(true);
  m_table->setIndentation(14);
  m_table->setRootIsDecorated(false);
  m_table->setTreePosition(ui::RunTableModel::NameColumn);  // group arrows next to the name
  m_table->setItemDelegateForColumn(ui::RunTableModel::ProgressColumn,
                                    new ui::ProgressDelegate(m_table));
  m_table->setSortingEnabled(true);
  m_table->sortByColumn(ui::RunTableModel::StartColumn, Qt::DescendingOrder);
  m_table->header()->setStretchLastSection(true);
  m_table->setAlternatingRowColors(true);
  m_filter->setPlaceholderText(tr("Filter runs (name, experiment, method, status, sweep)…"));
  m_filter->setClearButtonEnabled(true);

  buildMenus();
  auto* top = new QWidget;
  auto* topLayout = new QVBoxLayout(top);
  topLayout->setContentsMargins(4, 4, 4, 0);
  auto* filterRow = new QHBoxLayout;
  filterRow->setContentsMargins(0, 0, 0, 0);
  filterRow->addWidget(m_filter, 1);
  auto* groupButton = new QToolButton;
  groupButton->setDefaultAction(m_groupSeedsAction);
  groupButton->setToolButtonStyle(Qt::ToolButtonTextOnly);
  filterRow->addWidget(groupButton);
  topLayout->addLayout(filterRow);
  topLayout->addWidget(m_table);
  m_tabs->addTab(m_runView, tr("Run"));
  m_tabs->addTab(m_compareView, tr("Compare"));
  m_splitter->addWidget(top);
  m_splitter->addWidget(m_tabs);
  m_splitter->setStretchFactor(0, 1);
  m_splitter->setStretchFactor(1, 3);
  setCentralWidget(m_splitter);
  statusBar()->addWidget(m_statusLabel, 1);
  connect(m_filter, &QLineEdit::textChanged, m_proxy, &QSortFilterProxyModel::setFilterFixedString);
  connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
          &MainWindow::onSelectionChanged);
  connect(m_watcher, &ui::StoreWatcher::storeChanged, m_model, &ui::RunTableModel::scheduleRefresh);
  connect(m_watcher, &ui::StoreWatcher::storeChanged, m_runView, &ui::RunView::onStoreChanged);
  connect(m_watcher, &ui::StoreWatcher::storeChanged, m_compareView,
          &ui::CompareView::onStoreChanged);
  // A run found DEAD (its process gone) changes the run view's header too.
  connect(m_model, &ui::RunTableModel::livenessChanged, m_runView, &ui::RunView::onStoreChanged);
  connect(m_model, &QAbstractItemModel::modelAboutToBeReset, this, &MainWindow::rememberTableState);
  connect(m_model, &QAbstractItemModel::modelReset, this, &MainWindow::restoreTableState);
  connect(m_model, &ui::RunTableModel::runsRefreshed, this, [this] {
    if (!m_pendingSelect.isEmpty() && m_model->rowOf(m_pendingSelect) >= 0) {
      selectRun(m_pendingSelect);
      m_pendingSelect.clear();
    }
    m_runView->setStopEnabled(canStop(m_runView->runId()));  // remote runs end by the store
    updateStatus();
  });
  connect(m_runView, &ui::RunView::stopRequested, this, &MainWindow::stopRun);
  connect(m_runView, &ui::RunView::runLinkActivated, this, [this](const QString& id) {
    m_filter->clear();  // the linked run may be filtered out
    selectRun(id);
  });

  resize(1400, 900);
  restoreLayout();
  updateStatus();
}

MainWindow::~MainWindow() = default;

bool MainWindow::openWorkspace(const QString& dbPath) {
  if (m_launcher && m_launcher->hasActiveRuns()) {
    QMessageBox::information(this, tr("Open workspace"),
                             tr("Runs launched here are still training; stop them first."));
    return false;
  }
  const QString path = checkWorkspaceIntegrity(this, dbPath);
  if (path.isEmpty()) return false;
  std::shared_ptr<ui::Workspace> workspace;
  try {
    workspace = ui::Workspace::open(path);
  } catch (const std::exception& e) {
    QMessageBox::warning(this, tr("Open workspace"),
                         tr("Cannot open %1:\n%2").arg(path, QString::fromUtf8(e.what())));
    return false;
  }
  m_workspace = std::move(workspace);
  kLastWorkspace.setValue(m_workspace->dbPath());
  m_launcher = std::make_unique<RunLauncher>(m_paths.apportionExe, m_workspace->dbPath());
  connectLauncher();
  setUpRemote();
  m_model->setReader(m_workspace->reader());
  m_runView->setReader(m_workspace->reader());
  m_compareView->setReader(m_workspace->reader());
  m_watcher->setReader(m_workspace->reader());
  setWindowTitle(tr("Apportion — %1").arg(m_workspace->dbPath()));
  resizeTableColumns();
  updateStatus();
  return true;
}

bool MainWindow::openLastWorkspace() {
  const QString last = kLastWorkspace.value();
  return !last.isEmpty() && QFileInfo::exists(last) && openWorkspace(last);
}

void MainWindow::connectLauncher() {
  RunLauncher* l = m_launcher.get();
  connect(l, &RunLauncher::runStarted, this, &MainWindow::onRunStarted);
  connect(l, &RunLauncher::runUpdated, m_model, &ui::RunTableModel::scheduleRefresh);
  connect(l, &RunLauncher::runUpdated, m_runView, &ui::RunView::onRunUpdated);
  connect(l, &RunLauncher::runUpdated, m_compareView, &ui::CompareView::onRunUpdated);
  connect(l, &RunLauncher::runProgress, m_model, &ui::RunTableModel::onRunProgress);
  connect(l, &RunLauncher::runFinished, this, &MainWindow::onRunFinished);
  connect(l, &RunLauncher::launchFailed, this, &MainWindow::onLaunchFailed);
  connect(l, &RunLauncher::logAppended, m_runView, &ui::RunView::onLogAppended);
}

void MainWindow::onOpenWorkspace() {
  const QString start = m_workspace ? m_workspace->dir().absolutePath() : QDir::homePath();
  const QString path =
      QFileDialog::getSaveFileName(this, tr("Open or create a workspace database"), start,
                                   tr("Apportion workspace (*.sqlite *.db);;All files (*)"),
                                   nullptr, QFileDialog::DontConfirmOverwrite);
  if (!path.isEmpty()) openWorkspace(path);
}

QWidget* MainWindow::openNewRunDialog() {
  if (!m_workspace) {
    QMessageBox::information(this, tr("New run"),
                             tr("Open a workspace first (File → Open workspace)."));
    return nullptr;
  }
  auto* dialog = new ui::NewRunDialog(m_paths.experimentsDir, m_workspace->dir(),
                                      make_cli_queries(m_paths.apportionExe), this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  connect(dialog, &ui::NewRunDialog::launchRequested, this, [this, dialog](const QString& config) {
    const QString profile = dialog->executorProfile();
    if (!profile.isEmpty()) return submitOnProfile(config, profile);
    if (m_launcher) m_launcher->launch(config);
    statusBar()->showMessage(tr("Launching %1…").arg(config), 5000);
  });
  dialog->open();
  return dialog;
}

void MainWindow::onNewRun() { openNewRunDialog(); }

QStringList MainWindow::selectedRunIds() const {
  QStringList ids;
  for (const QModelIndex& index : m_table->selectionModel()->selectedRows())
    for (const QString& id : index.data(ui::RunTableModel::MemberRunIdsRole).toStringList())
      if (!ids.contains(id)) ids << id;
  return ids;
}

QList<ui::CompareSide> MainWindow::selectedSides() const {
  QList<ui::CompareSide> sides;
  for (const QModelIndex& index : m_table->selectionModel()->selectedRows()) {
    const QModelIndex source = m_proxy->mapToSource(index);
    if (const SeedGroup* group = m_model->groupFor(source))
      sides << ui::CompareSide{QString::fromStdString(group->label),
                               QString::fromStdString(group->key),
                               source.data(ui::RunTableModel::MemberRunIdsRole).toStringList()};
    else if (const Run* run = m_model->runFor(source))
      sides << ui::CompareSide::run(QString::fromStdString(run->run_id));
  }
  return sides;
}

void MainWindow::selectRun(const QString& runId) {
  const QModelIndex source = m_model->indexOfRun(runId);
  if (!source.isValid()) return;
  const QModelIndex index = m_proxy->mapFromSource(source);
  if (index.parent().isValid()) m_table->expand(index.parent());
  m_table->selectionModel()->select(
      index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
  m_table->scrollTo(index);
}

void MainWindow::onSelectionChanged() {
  const QList<ui::CompareSide> sides = selectedSides();
  if (sides.size() >= 2) m_compareView->setSides(sides);
  const QStringList ids = selectedRunIds();  // a group row: the run view shows its first run
  const QString current = ids.isEmpty() ? QString() : ids.first();
  if (current != m_runView->runId()) {
    m_runView->setRun(current);
    if (m_launcher && m_launcher->isLaunchedHere(current))
      m_runView->setLogText(m_launcher->stderrText(current));
  }
  m_runView->setStopEnabled(canStop(current));
  updateStatus();
}

void MainWindow::onStopSelected() {
  for (const QString& id : selectedRunIds()) stopRun(id);
}

void MainWindow::onMarkFailed() {
  if (!m_workspace) return;
  QStringList refused;
  for (const QString& id : selectedRunIds()) {
    const Run* run = m_model->run(id);
    if (!run || run->status != RunStatus::Running || (m_launcher && m_launcher->isActive(id)))
      continue;
    const LivenessVerdict live = ui::runLiveness(*run);
    if (live.state == Liveness::Alive) {  // a live trainer elsewhere: Stop it, never close it
      refused << QString::fromStdString(run->name);
      continue;
    }
    if (live.state == Liveness::Unknown &&
        QMessageBox::question(this, tr("Close run"),
                              tr("Run %1 has no recorded owner (an older run): is its process "
                                 "really gone? Closing marks it FAILED.")
                                  .arg(QString::fromStdString(run->name))) != QMessageBox::Yes)
      continue;
    const std::string why = live.state == Liveness::Dead
                                ? live.reason
                                : std::string("closed by the user (owner unknown)");
    try {
      require_intact_store(m_workspace->dbPath().toStdString());
      RunStore store(m_workspace->dbPath().toStdString());
      store.set_tag(id.toStdString(), "error", why);
      store.finish_run(id.toStdString(), RunStatus::Failed, why);
      store.flush();
    } catch (const std::exception& e) {
      QMessageBox::warning(this, tr("Close run"), QString::fromUtf8(e.what()));
    }
  }
  if (!refused.isEmpty())
    QMessageBox::information(this, tr("Close run"),
                             tr("Still training, so not closed: %1. Stop them instead.")
                                 .arg(refused.join(QStringLiteral(", "))));
  m_model->refresh();
}

void MainWindow::onGroupSeedsToggled(bool on) {
  if (m_groupSeedsAction->isChecked() != on) m_groupSeedsAction->setChecked(on);
  m_table->setRootIsDecorated(on);
  m_model->setGroupSeeds(on);
  resizeTableColumns();
}

void MainWindow::setGroupSeeds(bool on) { m_groupSeedsAction->setChecked(on); }

void MainWindow::resizeTableColumns() {
  if (m_columnsRestored) return;  // the user's column widths (restoreLayout) win
  for (int c = 0; c < ui::RunTableModel::ColumnCount; ++c) m_table->resizeColumnToContents(c);
  // Wide enough for a running seed group's step range ("1056–1094 / 2000") inside its bar.
  const int range = m_table->fontMetrics().horizontalAdvance(QStringLiteral("88888–88888 / 88888"));
  m_table->setColumnWidth(
      ui::RunTableModel::ProgressColumn,
      std::max({110, range + 16, m_table->columnWidth(ui::RunTableModel::ProgressColumn)}));
}

void MainWindow::rememberTableState() {
  m_savedSelection.clear();
  m_savedExpanded.clear();
  for (const QModelIndex& index : m_table->selectionModel()->selectedRows()) {
    const QString key = index.data(ui::RunTableModel::GroupKeyRole).toString();
    m_savedSelection << (key.isEmpty() ? QStringLiteral("run:") +
                                             index.data(ui::RunTableModel::RunIdRole).toString()
                                       : QStringLiteral("group:") + key);
  }
  for (int row = 0; row < m_proxy->rowCount(); ++row) {
    const QModelIndex index = m_proxy->index(row, 0);
    if (m_table->isExpanded(index))
      m_savedExpanded << index.data(ui::RunTableModel::GroupKeyRole).toString();
  }
}

void MainWindow::restoreTableState() {
  for (const QString& key : m_savedExpanded)
    m_table->expand(m_proxy->mapFromSource(m_model->indexOfGroup(key)));
  QItemSelection selection;
  for (const QString& item : m_savedSelection) {
    QModelIndex source;
    if (item.startsWith(QLatin1String("group:"))) {
      source = m_model->indexOfGroup(item.mid(6));
      if (!source.isValid()) {  // ungrouped: the group's first run stands in for it
        for (const SeedGroup& g : m_model->groups())
          if (QString::fromStdString(g.key) == item.mid(6) && !g.run_ids.empty())
            source = m_model->indexOfRun(QString::fromStdString(g.run_ids.front()));
      }
    } else {
      source = m_model->indexOfRun(item.mid(4));
    }
    const QModelIndex index = m_proxy->mapFromSource(source);
    if (!index.isValid()) continue;
    if (index.parent().isValid()) m_table->expand(index.parent());
    selection.select(index, index);
  }
  m_savedSelection.clear();
  m_savedExpanded.clear();
  if (!selection.isEmpty())
    m_table->selectionModel()->select(
        selection, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

QModelIndex MainWindow::findGroup(const QString& label) const {
  const std::vector<SeedGroup>& groups = m_model->groups();
  for (const bool exact : {true, false})
    for (const SeedGroup& g : groups) {
      const QString l = QString::fromStdString(g.label);
      const QString k = QString::fromStdString(g.key);
      if (exact ? (l == label || k == label) : (l.startsWith(label) || k.startsWith(label)))
        return m_model->indexOfGroup(k);
    }
  return {};
}

int MainWindow::expandGroups(const QStringList& labels) {
  setGroupSeeds(true);
  int n = 0;
  for (const SeedGroup& g : m_model->groups()) {
    const QString key = QString::fromStdString(g.key);
    bool match = labels.contains(QStringLiteral("*"));
    for (const QString& label : labels)
      match = match || (!label.isEmpty() && findGroup(label) == m_model->indexOfGroup(key));
    if (!match) continue;
    m_table->expand(m_proxy->mapFromSource(m_model->indexOfGroup(key)));
    ++n;
  }
  return n;
}

bool MainWindow::selectGroup(const QString& label) {
  setGroupSeeds(true);
  const QModelIndex index = m_proxy->mapFromSource(findGroup(label));
  if (!index.isValid()) return false;
  m_table->selectionModel()->select(
      index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
  m_table->scrollTo(index);
  m_tabs->setCurrentWidget(m_runView);
  return true;
}

bool MainWindow::selectRunById(const QString& idPrefix) {
  for (const Run& run : m_model->runs()) {
    const QString id = QString::fromStdString(run.run_id);
    if (!idPrefix.isEmpty() && id.startsWith(idPrefix)) {
      selectRun(id);
      m_tabs->setCurrentWidget(m_runView);
      return true;
    }
  }
  return false;
}

void MainWindow::onRunStarted(const QString& runId) {
  m_pendingSelect = runId;
  m_model->refresh();
  statusBar()->showMessage(tr("Run %1 started").arg(runId.left(8)), 4000);
}

void MainWindow::onRunFinished(const QString& runId,
                               const QString& status,
                               const QString& message) {
  m_model->refresh();
  m_runView->onRunUpdated(runId);
  if (runId == m_runView->runId()) m_runView->setStopEnabled(false);
  QString text = tr("Run %1 ended: %2").arg(runId.left(8), status);
  if (!message.isEmpty()) text += QStringLiteral(" — ") + message.section(QLatin1Char('\n'), 0, 0);
  statusBar()->showMessage(text, 15000);
}

void MainWindow::onLaunchFailed(const QString& /*key*/, const QString& message) {
  auto* box = new QMessageBox(QMessageBox::Warning, tr("Run did not start"), message,
                              QMessageBox::Ok, this);
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->open();
}

void MainWindow::updateStatus() {
  if (!m_workspace) {
    m_statusLabel->setText(tr("No workspace — File → Open workspace (Ctrl+O)"));
    m_newRunAction->setEnabled(false);
    m_newSweepAction->setEnabled(false);
    return;
  }
  m_newRunAction->setEnabled(true);
  m_newSweepAction->setEnabled(true);
  const int active = m_launcher ? static_cast<int>(m_launcher->activeRunIds().size()) : 0;
  m_statusLabel->setText(tr("%1 · %2 runs · %3 training here%4 · apportion: %5")
                             .arg(m_workspace->dbPath())
                             .arg(m_model->runs().size())
                             .arg(active)
                             .arg(m_remote && m_remote->isPulling()
                                      ? tr(" · following remote launches (pull)")
                                      : QString())
                             .arg(m_paths.apportionExe));
  const QStringList ids = selectedRunIds();
  m_compareAction->setEnabled(m_table->selectionModel()->selectedRows().size() >= 2);
  m_stopAction->setEnabled(!ids.isEmpty());
}

bool MainWindow::confirmCloseWithActiveRuns() {
  if (!m_launcher || !m_launcher->hasActiveRuns()) return true;
  const int n = static_cast<int>(m_launcher->activeRunIds().size());
  const auto answer = QMessageBox::question(
      this, tr("Runs are training"),
      tr("%n run(s) launched from this window are still training.\nStop them (each finishes its "
         "step and checkpoints) and quit?",
         nullptr, n),
      QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel);
  if (answer != QMessageBox::Yes) return false;
  m_launcher->stopAll();
  while (true) {
    QApplication::setOverrideCursor(Qt::WaitCursor);
    const bool stopped = m_launcher->waitForAll(30000);
    QApplication::restoreOverrideCursor();
    if (stopped) return true;
    const auto again = QMessageBox::question(
        this, tr("Runs are still stopping"),
        tr("Some runs did not stop within 30 s. Kill them (no checkpoint), keep waiting, or "
           "cancel closing?"),
        QMessageBox::Discard | QMessageBox::Retry | QMessageBox::Cancel, QMessageBox::Retry);
    if (again == QMessageBox::Discard) {
      m_launcher->killAll();
      m_launcher->waitForAll(5000);
      return true;
    }
    if (again == QMessageBox::Cancel) return false;
  }
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (!confirmCloseWithActiveRuns()) {
    event->ignore();
    return;
  }
  saveLayout();
  event->accept();
}

}  // namespace apportion
