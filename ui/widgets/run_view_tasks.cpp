// SPDX-License-Identifier: GPL-3.0-or-later
// RunView's "Tasks" tab: the per-task table (split, protocol, accuracies, parse failures,
// validation, reported value under the checkpoint rule) and the bars of the reported accuracies.
#include <cmath>

#include <qcustomplot.h>
#include <QLabel>
#include <QTabWidget>
#include <QTableWidget>

#include "core/scoring/protocol.h"
#include "core/store/results_table.h"
#include "core/store/store_keys.h"
#include "ui/models/run_colors.h"
#include "ui/widgets/run_view.h"

namespace apportion::ui {

namespace {

/// "84.41 %" (2 decimals, as the results tables print), "—" when absent.
QString accuracyCell(double fraction) {
  return std::isfinite(fraction) ? QString::number(100 * fraction, 'f', 2) + QStringLiteral(" %")
                                 : QStringLiteral("—");
}

QTableWidgetItem* cellItem(const QString& text, bool number, const QString& tip = {}) {
  auto* item = new QTableWidgetItem(text);
  if (number) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
  if (!tip.isEmpty()) item->setToolTip(tip);
  return item;
}

}  // namespace

int RunView::tasksTabIndex() const { return m_tabs->indexOf(m_tasksPage); }

void RunView::updateTaskTable(const Run* run) {
  const std::vector<TaskResult> results = run ? task_results(*run) : std::vector<TaskResult>{};
  const QString rule = run ? QString::fromStdString(checkpoint_rule(*run)) : QString();
  const int64_t step = run ? report_step(*run) : -1;
  const bool onTest = run && best_on_test(*run);
  // Rebuild only when something shown changed (keeps the selection and scroll position).
  QString signature = rule + QLatin1Char('|') + QString::number(step);
  for (const TaskResult& r : results)
    for (double v :
         {r.accuracy, r.latest_accuracy, r.acc_norm, r.parse_failures, r.validation_accuracy})
      signature += QLatin1Char('|') + QString::number(v, 'g', 10);
  for (const TaskResult& r : results)
    signature += QString::fromStdString("|" + r.task + "|" + r.protocol + "|" + r.split);
  if (signature == m_tasksSignature && m_tasks->rowCount() == static_cast<int>(results.size()))
    return;
  m_tasksSignature = signature;
  m_tasks->setRowCount(0);
  m_taskBars->clearPlottables();
  m_taskBars->setVisible(!results.empty());
  if (!run) {
    m_tasksNote->clear();
    return;
  }
  if (results.empty()) {
    m_tasksNote->setText(tr("<i>No per-task metrics recorded for this run (yet).</i>"));
    return;
  }
  auto* bars = new QCPBars(m_taskBars->xAxis, m_taskBars->yAxis);
  auto ticker = qSharedPointerCast<QCPAxisTickerText>(m_taskBars->xAxis->ticker());
  ticker->clear();
  QVector<double> keys;
  QVector<double> values;
  for (const TaskResult& r : results) {
    if (!std::isfinite(r.accuracy)) continue;
    keys << keys.size() + 1;
    values << 100 * r.accuracy;
    ticker->addTick(keys.back(), QString::fromStdString(r.task));
  }
  bars->setData(keys, values, /*alreadySorted=*/true);
  m_taskBars->xAxis->setLabel(rule == QLatin1String(kRuleLatest)
                                  ? tr("latest evaluation of each task")
                                  : tr("reported accuracy (rule %1)").arg(rule));
  bars->setWidth(0.6);
  const QColor color = runColor(m_runId);
  bars->setPen(QPen(color.darker(130)));
  bars->setBrush(color);
  m_taskBars->xAxis->setRange(0.4, keys.size() + 0.6);
  m_taskBars->replot();
  QString note;
  if (rule == QLatin1String(kRuleLatest)) {
    note =
        tr("No reported numbers yet (an older run, or one still going): <b>Accuracy</b> is the "
           "latest evaluation of each task.");
  } else {
    note = tr("Reported numbers: checkpoint rule <b>%1</b>").arg(rule.toHtmlEscaped());
    if (step >= 0) note += tr(", the evaluation of step %1").arg(step);
    const auto mean = run->latest_metrics.find(kMetricReportAcc);
    if (mean != run->latest_metrics.end() && std::isfinite(mean->second))
      note += tr("; mean over tasks %1").arg(accuracyCell(mean->second));
    note += QLatin1Char('.');
  }
  if (onTest)
    note +=
        tr(" <span style='color:#c62828'><b>The checkpoint was chosen on the test split: "
           "the reported numbers are optimistic.</b></span>");
  m_tasksNote->setText(note);
  for (const TaskResult& r : results) {
    const int row = m_tasks->rowCount();
    m_tasks->insertRow(row);
    const QString protocol = QString::fromStdString(r.protocol);
    QString protocolTip = QString::fromStdString(protocol_description(r.protocol));
    if (r.protocol_inferred)
      protocolTip += tr("\n(no protocol tag: inferred from the run's config, an older run)");
    m_tasks->setItem(row, 0, cellItem(QString::fromStdString(r.task), false));
    m_tasks->setItem(row, 1, cellItem(QString::fromStdString(r.split), false));
    m_tasks->setItem(row, 2,
                     cellItem(r.protocol_inferred ? tr("%1 (inferred)").arg(protocol) : protocol,
                              false, protocolTip));
    m_tasks->setItem(row, 3, cellItem(accuracyCell(r.latest_accuracy), true));
    m_tasks->setItem(row, 4, cellItem(accuracyCell(r.acc_norm), true));
    m_tasks->setItem(row, 5,
                     cellItem(std::isfinite(r.parse_failures)
                                  ? QString::number(static_cast<qint64>(r.parse_failures))
                                  : QStringLiteral("—"),
                              true));
    m_tasks->setItem(row, 6, cellItem(accuracyCell(r.validation_accuracy), true));
    auto* reported = cellItem(r.reported ? accuracyCell(r.accuracy) : QStringLiteral("—"), true);
    if (r.reported) {
      QFont bold = reported->font();
      bold.setBold(true);
      reported->setFont(bold);
    }
    m_tasks->setItem(row, 7, reported);
    auto* ruleItem = cellItem(step >= 0 ? tr("%1 (step %2)").arg(rule).arg(step) : rule, false);
    if (onTest) ruleItem->setForeground(QColor(0xc6, 0x28, 0x28));
    m_tasks->setItem(row, 8, ruleItem);
  }
}

}  // namespace apportion::ui
