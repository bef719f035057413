// SPDX-License-Identifier: GPL-3.0-or-later
// CompareView's Statistics and Tasks tabs: each side's final accuracies, the Welch difference
// of A against every other side, and per-task grouped bars with interval whiskers.
#include <cmath>
#include <map>
#include <set>

#include <qcustomplot.h>
#include <QTextBrowser>

#include "core/store/results_table.h"
#include "core/store/run_groups.h"
#include "core/store/store_keys.h"
#include "ui/models/seed_group_format.h"
#include "ui/widgets/compare_view.h"

namespace apportion::ui {

QString CompareView::statsText() const { return m_stats->toPlainText(); }

void CompareView::rebuildStats(const std::vector<std::vector<Run>>& members) {
  std::vector<std::vector<const Run*>> sides;
  for (const auto& runs : members) {
    sides.emplace_back();
    for (const Run& r : runs) sides.back().push_back(&r);
  }
  std::set<std::string> tasks;
  for (const auto& side : sides)
    for (const Run* r : side)
      for (const auto& [key, value] : r->latest_metrics)
        if (key.rfind("eval/acc/", 0) == 0) tasks.insert(key);
  std::vector<std::string> keys = {kMetricEvalAcc};
  keys.insert(keys.end(), tasks.begin(), tasks.end());

  QStringList legend;
  for (int i = 0; i < static_cast<int>(sides.size()); ++i)
    legend << QStringLiteral("%1 = <span style='color:%2'>&#9632;</span> %3")
                  .arg(sideLetter(i), sideColor(i).name(), sideName(i).toHtmlEscaped());
  QString html = tr("<p style='margin-top:0'><b>Final accuracy</b>: %1; each side's mean over its "
                    "runs' latest eval%2.</p>")
                     .arg(legend.join(QStringLiteral(", ")),
                          sides.size() > 2 ? tr("; differences against A") : QString());
  for (const std::string& key : keys) {
    std::vector<std::vector<double>> values;
    bool any = false;
    for (const auto& side : sides) {
      values.push_back(latestValues(side, key));
      any = any || !values.back().empty();
    }
    if (!any) continue;
    const QString name =
        key == kMetricEvalAcc ? tr("eval/acc (all tasks)") : QString::fromStdString(key.substr(9));
    QStringList means;
    for (size_t i = 0; i < values.size(); ++i) {
      const SampleSummary s = summarize(values[i]);
      means << sideLetter(static_cast<int>(i)) + QLatin1Char(' ') +
                   (s.n > 0 ? percentText(s.mean) : tr("—"));
    }
    QStringList sentences;
    for (size_t i = 1; i < values.size(); ++i) {
      QString sentence = differenceSentence(difference_of_means(values[0], values[i]));
      const QString other = sideLetter(static_cast<int>(i));
      sentence.replace(QStringLiteral("A − B"), QStringLiteral("A − ") + other);
      sentence.replace(QStringLiteral("B is better"), other + QStringLiteral(" is better"));
      sentence = sentence.toHtmlEscaped();
      for (const QString& verdict :
           {QStringLiteral("A is better"), other + QStringLiteral(" is better")})
        sentence.replace(verdict, QStringLiteral("<b>%1</b>").arg(verdict));
      sentences << sentence;
    }
    html += QStringLiteral("<p style='margin-top:4px;margin-bottom:0'><b>%1</b>: %2<br>%3</p>")
                .arg(name.toHtmlEscaped(), means.join(QStringLiteral(" &nbsp;·&nbsp; ")),
                     sentences.join(QStringLiteral("<br>")));
  }
  long open = 0;
  for (const auto& side : sides)
    for (const Run* r : side) open += r->status != RunStatus::Finished;
  if (open > 0)
    html +=
        tr("<p style='color:#b05000'>%n run(s) not FINISHED: their latest values are not "
           "final.</p>",
           nullptr, static_cast<int>(open));
  m_stats->setHtml(html);
}

void CompareView::rebuildTaskBars(const std::vector<std::vector<Run>>& members) {
  // Per side and task: the members' reported (else latest) accuracies.
  std::vector<std::map<std::string, std::vector<double>>> perSide;
  std::set<std::string> taskSet;
  for (const auto& runs : members) {
    perSide.emplace_back();
    for (const Run& r : runs)
      for (const TaskResult& t : task_results(r))
        if (std::isfinite(t.accuracy)) {
          perSide.back()[t.task].push_back(t.accuracy);
          taskSet.insert(t.task);
        }
  }
  QString signature;
  for (size_t i = 0; i < perSide.size(); ++i)
    for (const auto& [task, v] : perSide[i]) {
      signature += QString::fromStdString(task) + QLatin1Char(':') + QString::number(i);
      for (double x : v) signature += QLatin1Char(',') + QString::number(x, 'g', 10);
    }
  if (signature == m_tasksSignature) return;
  m_tasksSignature = signature;
  m_taskBars->clearPlottables();
  const std::vector<std::string> tasks(taskSet.begin(), taskSet.end());
  auto ticker = qSharedPointerCast<QCPAxisTickerText>(m_taskBars->xAxis->ticker());
  ticker->clear();
  for (size_t t = 0; t < tasks.size(); ++t)
    ticker->addTick(static_cast<double>(t + 1), QString::fromStdString(tasks[t]));
  if (tasks.empty()) {
    m_taskBars->legend->setVisible(false);
    m_taskBars->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  auto* group = new QCPBarsGroup(m_taskBars);
  const double width = 0.8 / static_cast<double>(std::max<size_t>(1, perSide.size()));
  double top = 0.0;
  for (size_t i = 0; i < perSide.size(); ++i) {
    auto* bars = new QCPBars(m_taskBars->xAxis, m_taskBars->yAxis);
    bars->setName(sideLetter(static_cast<int>(i)) + QLatin1Char(' ') +
                  sideName(static_cast<int>(i)));
    const QColor color = sideColor(static_cast<int>(i));
    bars->setPen(QPen(color.darker(130)));
    bars->setBrush(color);
    bars->setWidth(width);
    bars->setBarsGroup(group);
    QVector<double> keys;
    QVector<double> values;
    QVector<double> errors;
    for (size_t t = 0; t < tasks.size(); ++t) {
      const auto it = perSide[i].find(tasks[t]);
      if (it == perSide[i].end()) continue;
      const SampleSummary s = summarize(it->second);
      keys << static_cast<double>(t + 1);
      values << 100 * s.mean;
      const double half = s.n >= 2 ? 100 * (s.ci95_high - s.mean) : 0.0;
      errors << (std::isfinite(half) ? half : 0.0);
      top = std::max(top, 100 * s.mean + errors.back());
    }
    bars->setData(keys, values, /*alreadySorted=*/true);
    if (std::any_of(errors.begin(), errors.end(), [](double e) { return e > 0; })) {
      auto* whiskers = new QCPErrorBars(m_taskBars->xAxis, m_taskBars->yAxis);
      whiskers->removeFromLegend();
      whiskers->setDataPlottable(bars);
      whiskers->setData(errors);
      whiskers->setPen(QPen(QColor(40, 40, 40), 1.0));
    }
  }
  m_taskBars->xAxis->setRange(0.4, static_cast<double>(tasks.size()) + 0.6);
  m_taskBars->yAxis->setRange(0, std::max(100.0, top * 1.05));
  m_taskBars->xAxis->setLabel(
      tr("reported accuracy per task (else latest); whiskers: 95 % interval over seeds"));
  m_taskBars->legend->setVisible(true);
  m_taskBars->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace apportion::ui
