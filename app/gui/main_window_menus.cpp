// SPDX-License-Identifier: GPL-3.0-or-later
// MainWindow's menus and keyboard shortcuts, the remembered layout (geometry, splitter, table
// columns, front tab), the column chooser, run navigation, figure export of the view in front
// and the compare entry points used by the command line (screenshots).
#include <QAction>
#include <QApplication>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTreeView>

#include <qcustomplot.h>

#include "app/gui/main_window.h"
#include "core/methods/method_registry.h"
#include "ui/models/run_table_model.h"
#include "ui/plots/figure_export.h"
#include "ui/plots/metric_plot.h"
#include "ui/settings/preference.h"
#include "ui/widgets/compare_view.h"
#include "ui/widgets/run_view.h"

namespace apportion {

namespace {
const ui::Preference<QByteArray> kGeometry(QStringLiteral("window/geometry"), QByteArray());
const ui::Preference<QByteArray> kSplitter(QStringLiteral("window/splitter"), QByteArray());
const ui::Preference<QByteArray> kColumns(QStringLiteral("window/run_table_columns"), QByteArray());
const ui::Preference<int> kFrontTab(QStringLiteral("window/front_tab"), 0);
const ui::Preference<bool> kGroupSeeds(QStringLiteral("runs/group_seeds"), false);
}  // namespace

void MainWindow::buildMenus() {
  QMenu* file = menuBar()->addMenu(tr("&File"));
  m_newRunAction = file->addAction(tr("&New run…"), QKeySequence::New, this, &MainWindow::onNewRun);
  file->addAction(tr("&Open workspace…"), QKeySequence::Open, this, &MainWindow::onOpenWorkspace);
  file->addAction(tr("&Import runs from store…"), this, &MainWindow::onImportStore);
  file->addSeparator();
  file->addAction(tr("&Export figure (PDF, SVG, PNG)…"), QKeySequence(tr("Ctrl+E")), this,
                  &MainWindow::exportCurrentFigure);
  file->addAction(tr("&Copy figure"), QKeySequence(tr("Ctrl+Shift+C")), this,
                  &MainWindow::copyCurrentFigure);
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

  QMenu* run = menuBar()->addMenu(tr("&Run"));
  m_newSweepAction = run->addAction(tr("New s&weep…"), QKeySequence(tr("Ctrl+Shift+N")), this,
                                    [this] { openSweepDialog(); });
  run->addAction(tr("P&ull remote runs now"), this, &MainWindow::onPullNow);
  run->addSeparator();
  m_stopAction = run->addAction(tr("&Stop selected run"), QKeySequence(tr("Ctrl+.")), this,
                                &MainWindow::onStopSelected);
  m_markFailedAction = run->addAction(tr("C&lose dead run (mark FAILED: process lost)"), this,
                                      &MainWindow::onMarkFailed);
  m_compareAction =
      run->addAction(tr("&Compare selected runs or groups"), QKeySequence(tr("Ctrl+D")), this,
                     &MainWindow::onCompareSelected);
  run->addSeparator();
  run->addAction(tr("&Next run"), QKeySequence(tr("Alt+Down")), this,
                 [this] { selectAdjacentRun(+1); });
  run->addAction(tr("&Previous run"), QKeySequence(tr("Alt+Up")), this,
                 [this] { selectAdjacentRun(-1); });
  run->addAction(tr("&Find runs (filter)"), QKeySequence::Find, this, [this] {
    m_filter->setFocus();
    m_filter->selectAll();
  });

  QMenu* view = menuBar()->addMenu(tr("&View"));
  m_groupSeedsAction = view->addAction(tr("&Group runs by seed"));
  m_groupSeedsAction->setCheckable(true);
  m_groupSeedsAction->setShortcut(QKeySequence(tr("Ctrl+G")));
  m_groupSeedsAction->setToolTip(
      tr("One row per seed group (runs of one config that differ only by seed): mean and "
         "min–max of the metrics; expand a group for its runs (Ctrl+G)"));
  m_groupSeedsAction->setChecked(kGroupSeeds.value());
  connect(m_groupSeedsAction, &QAction::toggled, this, &MainWindow::onGroupSeedsToggled);
  connect(m_groupSeedsAction, &QAction::triggered, this,
          [](bool on) { kGroupSeeds.setValue(on); });  // the user's choice only, not options
  view->addAction(tr("&Expand all groups"), this, [this] { m_table->expandAll(); });
  view->addAction(tr("C&ollapse all groups"), this, [this] { m_table->collapseAll(); });
  view->addAction(tr("Run &table columns…"), this, [this] {
    showColumnMenu(m_table->header()->mapToGlobal(QPoint(0, m_table->header()->height())));
  });
  view->addSeparator();
  view->addAction(tr("&Run tab"), QKeySequence(tr("Ctrl+1")), this,
                  [this] { m_tabs->setCurrentWidget(m_runView); });
  view->addAction(tr("&Compare tab"), QKeySequence(tr("Ctrl+2")), this,
                  [this] { m_tabs->setCurrentWidget(m_compareView); });
  onGroupSeedsToggled(m_groupSeedsAction->isChecked());

  m_table->setContextMenuPolicy(Qt::CustomContextMenu);
  connect(m_table, &QWidget::customContextMenuRequested, this, &MainWindow::showTableMenu);
  m_table->header()->setContextMenuPolicy(Qt::CustomContextMenu);
  connect(m_table->header(), &QWidget::customContextMenuRequested, this,
          [this](const QPoint& at) { showColumnMenu(m_table->header()->mapToGlobal(at)); });

  QMenu* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&Keyboard shortcuts"), this, [this] {
    QMessageBox::information(
        this, tr("Keyboard shortcuts"),
        tr("Ctrl+N new run · Ctrl+Shift+N new sweep · Ctrl+O open workspace · Ctrl+F filter "
           "runs\n"
           "Alt+Down / Alt+Up next / previous run · Ctrl+. stop the selected run\n"
           "Ctrl+D compare the selected runs or groups (Ctrl+click, Shift+click to select)\n"
           "Ctrl+1 / Ctrl+2 run / compare tab · Ctrl+G group runs by seed\n"
           "Ctrl+E export the figure under the mouse · Ctrl+Shift+C copy it\n"
           "In a plot: wheel zoom, drag pan, double-click whole run, click a legend entry to "
           "hide it, double-click to show it alone, right-click for export and log axis"));
  });
  help->addAction(tr("&About Apportion"), this, [this] {
    QMessageBox::about(this, tr("About Apportion"),
                       tr("<b>Apportion</b> %1<br>A workbench for LoRA mixture-of-experts "
                          "fine-tuning research.<br>GPL-3.0-or-later.")
                           .arg(QStringLiteral(AP_VERSION)));
  });
}

void MainWindow::saveLayout() {
  kGeometry.setValue(saveGeometry());
  kSplitter.setValue(m_splitter->saveState());
  kColumns.setValue(m_table->header()->saveState());
  kFrontTab.setValue(m_tabs->currentIndex());
}

void MainWindow::restoreLayout() {
  if (!kGeometry.value().isEmpty()) restoreGeometry(kGeometry.value());
  if (!kSplitter.value().isEmpty())
    m_splitter->restoreState(kSplitter.value());
  else
    m_splitter->setSizes({230, 670});
  if (!kColumns.value().isEmpty())
    m_columnsRestored = m_table->header()->restoreState(kColumns.value());
  m_tabs->setCurrentIndex(std::clamp(kFrontTab.value(), 0, m_tabs->count() - 1));
}

void MainWindow::showColumnMenu(const QPoint& at) {
  QMenu menu(this);
  QHeaderView* header = m_table->header();
  for (int c = 0; c < m_proxy->columnCount(); ++c) {
    QAction* a = menu.addAction(m_proxy->headerData(c, Qt::Horizontal).toString());
    a->setCheckable(true);
    a->setChecked(!header->isSectionHidden(c));
    a->setEnabled(c != ui::RunTableModel::NameColumn);  // the name column always stays
    connect(a, &QAction::toggled, this, [this, header, c](bool on) {
      header->setSectionHidden(c, !on);
      kColumns.setValue(header->saveState());
    });
  }
  menu.addSeparator();
  menu.addAction(tr("Fit columns to contents"), this, [this] {
    m_columnsRestored = false;
    resizeTableColumns();
    kColumns.setValue(m_table->header()->saveState());
  });
  menu.exec(at);
}

void MainWindow::selectAdjacentRun(int delta) {
  const QModelIndex current = m_table->currentIndex();
  QModelIndex next = current.isValid()
                         ? (delta > 0 ? m_table->indexBelow(current) : m_table->indexAbove(current))
                         : m_proxy->index(0, 0);
  if (!next.isValid()) return;
  next = next.siblingAtColumn(0);
  m_table->setCurrentIndex(next);
  m_table->selectionModel()->select(
      next, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
  m_table->scrollTo(next);
}

QCustomPlot* MainWindow::currentFigure() const {
  // The plot under the mouse, else the loss plot of the view in front.
  for (QWidget* w = QApplication::widgetAt(QCursor::pos()); w; w = w->parentWidget())
    if (auto* plot = qobject_cast<QCustomPlot*>(w)) return plot;
  return m_tabs->currentWidget() == m_compareView ? m_compareView->lossPlot()->plot()
                                                  : m_runView->lossPlot()->plot();
}

void MainWindow::exportCurrentFigure() { ui::exportFigureInteractively(currentFigure(), this); }

void MainWindow::copyCurrentFigure() {
  ui::copyFigure(currentFigure());
  statusBar()->showMessage(tr("Figure copied to the clipboard"), 3000);
}

void MainWindow::onCompareSelected() {
  const QList<ui::CompareSide> sides = selectedSides();
  if (sides.size() < 2) {
    statusBar()->showMessage(
        tr("Select two or more runs or seed groups (Ctrl+click, Shift+click) to compare them."),
        4000);
    return;
  }
  m_compareView->setSides(sides);
  m_tabs->setCurrentWidget(m_compareView);
}

bool MainWindow::showCompareOfGroups(const QStringList& labels) {
  setGroupSeeds(true);
  QList<QModelIndex> picked;
  for (const QString& label : labels) {
    const QModelIndex index = findGroup(label);
    if (index.isValid() && !picked.contains(index)) picked << index;
  }
  for (const SeedGroup& g : m_model->groups()) {
    const QModelIndex index = m_model->indexOfGroup(QString::fromStdString(g.key));
    if (picked.size() < 2 && index.isValid() && !picked.contains(index)) picked << index;
  }
  if (picked.size() < 2) return false;
  // Select in order: selectedRows() keeps it, so selectedSides() gives A first.
  m_table->selectionModel()->clearSelection();
  for (const QModelIndex& source : picked)
    m_table->selectionModel()->select(m_proxy->mapFromSource(source),
                                      QItemSelectionModel::Select | QItemSelectionModel::Rows);
  const QList<ui::CompareSide> sides = selectedSides();
  if (sides.size() >= 2) m_compareView->setSides(sides);
  m_tabs->setCurrentWidget(m_compareView);
  return sides.size() >= 2;
}

bool MainWindow::showCompareOfRuns(const QStringList& idPrefixes) {
  QStringList ids;
  const std::vector<Run>& runs = m_model->runs();
  for (const QString& prefix : idPrefixes)
    for (const Run& run : runs) {
      const QString id = QString::fromStdString(run.run_id);
      if (!prefix.isEmpty() && id.startsWith(prefix) && !ids.contains(id)) {
        ids << id;
        break;
      }
    }
  for (size_t i = 0; i < runs.size() && ids.size() < 2; ++i) {
    const QString id = QString::fromStdString(runs[i].run_id);
    if (runs[i].status == RunStatus::Finished && !ids.contains(id)) ids << id;
  }
  for (size_t i = 0; i < runs.size() && ids.size() < 2; ++i) {
    const QString id = QString::fromStdString(runs[i].run_id);
    if (!ids.contains(id)) ids << id;
  }
  if (ids.size() < 2) return false;
  m_table->selectionModel()->clearSelection();
  for (const QString& id : ids) {
    const QModelIndex index = m_proxy->mapFromSource(m_model->indexOfRun(id));
    if (index.parent().isValid()) m_table->expand(index.parent());
    m_table->selectionModel()->select(index,
                                      QItemSelectionModel::Select | QItemSelectionModel::Rows);
    if (id == ids.first()) m_table->scrollTo(index, QAbstractItemView::PositionAtTop);
  }
  QList<ui::CompareSide> sides;
  for (const QString& id : ids) sides << ui::CompareSide::run(id);
  m_compareView->setSides(sides);
  m_tabs->setCurrentWidget(m_compareView);
  return true;
}

bool MainWindow::selectFirstFinishedRun() {
  // Prefer a finished LoRA-MoE run (it has routing data to show), then any finished run.
  for (const bool needRouter : {true, false}) {
    for (const Run& run : m_model->runs()) {
      const Method* m = method_for_run_label(run.allocation_method);  // null: pretraining
      const bool router = m && (m->traits().adapter_router || m->traits().routed_experts);
      if (run.status == RunStatus::Finished && (router || !needRouter)) {
        selectRun(QString::fromStdString(run.run_id));
        return true;
      }
    }
  }
  if (m_model->runs().empty()) return false;
  selectRun(QString::fromStdString(m_model->runs().front().run_id));
  return true;
}

}  // namespace apportion
