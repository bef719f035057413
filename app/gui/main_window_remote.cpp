// SPDX-License-Identifier: GPL-3.0-or-later
// MainWindow's runs beyond this window (issue 14): submitting to executor profiles, the sweep
// dialog, Stop routed to `apportion stop` for runs that are not our children, resubmitting a
// sweep's failed members, pull and import, and the run table's context menu. Every action is an
// `apportion` child process (RemoteCommands); the run table follows the store as always.
#include <memory>

#include <QAction>
#include <QFileDialog>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPointer>
#include <QSortFilterProxyModel>
#include <QStatusBar>
#include <QTreeView>

#include "app/gui/main_window.h"
#include "app/gui/remote_commands.h"
#include "app/gui/run_launcher.h"
#include "core/store/run_sync.h"
#include "ui/models/run_format.h"
#include "ui/models/run_table_model.h"
#include "ui/models/workspace.h"
#include "ui/widgets/sweep_dialog.h"

namespace apportion {

namespace {
/// Tag of a sweep member naming its sweep's key (written by `apportion sweep`, cmd_sweep.cpp).
constexpr const char* kTagSweep = "sweep";

QString tagOf(const Run* run, const std::string& key) {
  if (!run) return {};
  const auto it = run->tags.find(key);
  return it == run->tags.end() ? QString() : QString::fromStdString(it->second);
}
}  // namespace

void MainWindow::setUpRemote() {
  m_remote = std::make_unique<RemoteCommands>(m_paths.apportionExe, m_workspace->dbPath());
  connect(m_remote.get(), &RemoteCommands::pullingChanged, this, [this](bool on) {
    updateStatus();
    if (!on) m_model->scheduleRefresh();
  });
  // Launches that failed to start and conflicts gather in one non-modal box.
  auto problems = std::make_shared<QPointer<QMessageBox>>();
  connect(m_remote.get(), &RemoteCommands::pullMessage, this,
          [this, problems](const QString& text) {
            m_model->scheduleRefresh();  // rows arrived; progress lines are not worth a message
            const bool problem = text.contains(QStringLiteral("without a run")) ||
                                 text.contains(QStringLiteral("CONFLICT"));
            if (!problem && text.contains(QStringLiteral(" run "))) return;
            statusBar()->showMessage(text.section(QLatin1Char('\n'), 0, 0), 10000);
            if (!problem) return;
            if (!*problems) {
              *problems = new QMessageBox(QMessageBox::Warning, tr("Remote launches"), QString(),
                                          QMessageBox::Ok, this);
              (*problems)->setAttribute(Qt::WA_DeleteOnClose);
              (*problems)->setTextInteractionFlags(Qt::TextSelectableByMouse);
            }
            const QString before = (*problems)->text();
            (*problems)->setText(before.isEmpty() ? text : before + QStringLiteral("\n\n") + text);
            (*problems)->open();
          });
  if (m_remote->openLaunchCount() > 0) m_remote->ensurePulling();
}

void MainWindow::showCliResult(const QString& title, const CliResult& result) {
  const QString text = result.text().isEmpty() ? tr("(no output)") : result.text();
  auto* box = new QMessageBox(
      result.ok ? QMessageBox::Information : QMessageBox::Warning, title,
      result.ok
          ? text
          : tr("`%1` failed (exit %2):\n\n%3").arg(result.command).arg(result.exitCode).arg(text),
      QMessageBox::Ok, this);
  box->setAttribute(Qt::WA_DeleteOnClose);
  box->setTextInteractionFlags(Qt::TextSelectableByMouse);
  box->open();
}

void MainWindow::submitOnProfile(const QString& config, const QString& profile) {
  if (!m_remote) return;
  statusBar()->showMessage(tr("Submitting %1 to %2…").arg(config, profile));
  m_remote->submitTrain(config, profile, [this, config](const CliResult& r) {
    if (!r.ok) return showCliResult(tr("Run not submitted (config kept at %1)").arg(config), r);
    // "launch l-1a2b3c4d: … submitted to …": the first line says where it went.
    statusBar()->showMessage(r.out.trimmed().section(QLatin1Char('\n'), 0, 0), 15000);
    updateStatus();
  });
}

QWidget* MainWindow::openSweepDialog(const QString& sweepFile) {
  if (!m_workspace || !m_remote) {
    QMessageBox::information(this, tr("New sweep"),
                             tr("Open a workspace first (File → Open workspace)."));
    return nullptr;
  }
  auto* dialog = new ui::SweepDialog(m_paths.experimentsDir, m_workspace->dir(),
                                     makeSweepBackend(m_remote.get()), this);
  dialog->setAttribute(Qt::WA_DeleteOnClose);
  QString error;
  if (!sweepFile.isEmpty() && !dialog->loadFile(sweepFile, &error))
    QMessageBox::warning(this, tr("Open sweep"), error);
  connect(
      dialog, &ui::SweepDialog::submitted, this,
      [this](const QString& file, const QString& /*profile*/, bool ok, const QString&) {
        if (!ok) return;
        statusBar()->showMessage(
            tr("Sweep %1 submitted; its runs appear as they start").arg(QFileInfo(file).fileName()),
            15000);
        m_filter->clear();
        updateStatus();
      });
  dialog->open();
  return dialog;
}

bool MainWindow::canStop(const QString& runId) const {
  if (runId.isEmpty()) return false;
  if (m_launcher && m_launcher->isActive(runId)) return true;
  const Run* run = m_model->run(runId);
  if (!run || run->status != RunStatus::Running || !m_remote) return false;
  const Liveness live = ui::runLiveness(*run).state;  // DEAD: nothing left to stop
  return live == Liveness::Alive ||
         (live != Liveness::Dead && !tagOf(run, kTagRemoteLaunch).isEmpty());
}

bool MainWindow::stopRun(const QString& runId) {
  if (m_launcher && m_launcher->isActive(runId)) return m_launcher->stop(runId);
  if (!canStop(runId)) return false;
  statusBar()->showMessage(tr("Stopping run %1…").arg(runId.left(8)));
  m_remote->stop(runId, [this, runId](const CliResult& r) {
    if (!r.ok) return showCliResult(tr("Stop run %1").arg(runId.left(8)), r);
    statusBar()->showMessage(r.text().section(QLatin1Char('\n'), 0, 0), 10000);
    m_model->scheduleRefresh();
  });
  return true;
}

void MainWindow::resubmitSweep(const QString& sweepKey) {
  if (!m_remote) return;
  statusBar()->showMessage(tr("Resubmitting the failed members of sweep %1…").arg(sweepKey));
  m_remote->resubmitSweep(sweepKey, [this, sweepKey](const CliResult& r) {
    showCliResult(tr("Resubmit sweep %1").arg(sweepKey), r);
    updateStatus();
  });
}

void MainWindow::onPullNow() {
  if (!m_remote) return;
  statusBar()->showMessage(tr("Pulling the rows of remote launches…"));
  m_remote->pullNow([this](const CliResult& r) {
    m_model->scheduleRefresh();
    if (!r.ok) return showCliResult(tr("Pull"), r);
    const QString text = r.text();
    statusBar()->showMessage(
        text.isEmpty() ? tr("Pulled: nothing new") : text.section(QLatin1Char('\n'), -1), 10000);
    if (m_remote->openLaunchCount() > 0) m_remote->ensurePulling();
  });
}

void MainWindow::onImportStore() {
  if (!m_remote) return;
  const QString path = QFileDialog::getOpenFileName(this, tr("Import runs from a store"),
                                                    m_workspace->dir().absolutePath(),
                                                    tr("Run store (*.sqlite *.db);;All files (*)"));
  if (path.isEmpty()) return;
  if (QFileInfo(path).canonicalFilePath() == QFileInfo(m_workspace->dbPath()).canonicalFilePath())
    return showCliResult(
        tr("Import runs"),
        CliResult{false, 2, tr("import"), {}, tr("That is this workspace's own store.")});
  statusBar()->showMessage(tr("Importing %1…").arg(path));
  m_remote->importStore(path, [this](const CliResult& r) {
    m_model->refresh();
    showCliResult(tr("Import runs"), r);  // per run: copied, already present or CONFLICT
  });
}

void MainWindow::showTableMenu(const QPoint& at) {
  const QModelIndex index = m_table->indexAt(at);
  const QStringList members = index.data(ui::RunTableModel::MemberRunIdsRole).toStringList();
  const Run* run = members.isEmpty() ? nullptr : m_model->run(members.first());
  QMenu menu(this);
  QStringList stoppable;
  for (const QString& id : selectedRunIds())
    if (canStop(id)) stoppable << id;
  QAction* stop =
      menu.addAction(tr("&Stop (%n run(s))", nullptr, stoppable.size()), this, [this, stoppable] {
        for (const QString& id : stoppable) stopRun(id);
      });
  stop->setEnabled(!stoppable.isEmpty());
  menu.addAction(m_compareAction);
  menu.addAction(m_markFailedAction);
  const QString sweep = tagOf(run, kTagSweep);
  if (!sweep.isEmpty()) {
    menu.addSeparator();
    menu.addAction(tr("&Resubmit failed members of this sweep (%1)").arg(sweep), this,
                   [this, sweep] { resubmitSweep(sweep); });
    menu.addAction(tr("Show only this sweep's runs (filter)"), this,
                   [this, sweep] { m_filter->setText(sweep); });
  }
  menu.addSeparator();
  menu.addAction(tr("&Pull remote runs now"), this, &MainWindow::onPullNow);
  menu.exec(m_table->viewport()->mapToGlobal(at));
}

}  // namespace apportion
