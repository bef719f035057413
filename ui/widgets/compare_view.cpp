// SPDX-License-Identifier: GPL-3.0-or-later
// CompareView: overlaid curves of two runs or seed groups (mean + min–max band), the A − B
// statistics of their final accuracies and their config differences.
#include "ui/widgets/compare_view.h"

#include "ui/plots/allocation_diff_plot.h"

#include <algorithm>
#include <set>

#include <qcustomplot.h>
#include <QCheckBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTableWidget>
#include <QTextBrowser>
#include <QVBoxLayout>

#include "core/common/error.h"
#include "core/store/results_table.h"
#include "core/store/run_groups.h"
#include "core/store/store_keys.h"
#include "ui/models/run_colors.h"
#include "ui/models/run_format.h"
#include "ui/models/seed_group_format.h"
#include "ui/plots/metric_plot.h"

namespace apportion::ui {

namespace {

const char* const kCurveKeys[] = {kMetricTrainLoss, kMetricEvalLoss, kMetricEvalAcc};

QString shortName(const Run& run) {
  return QString::fromStdString(run.name.empty() ? run.run_id.substr(0, 8) : run.name);
}

QColor sideColor(const CompareSide& side) {
  if (side.isGroup()) return groupColor(side.groupKey);
  return side.runIds.isEmpty() ? QColor(Qt::gray) : runColor(side.runIds.first());
}

/// A colour for B that is not A's (two ids can hash to one palette entry).
QColor distinctFrom(const QColor& a, const QColor& b) {
  if (a != b) return b;
  for (const QRgb alt : {0x6b6ecf, 0xf28e2b, 0x4e79a7})
    if (QColor(alt) != a) return QColor(alt);
  return b;
}

}  // namespace

QString CompareView::groupSeriesId(const CompareSide& side, const std::string& key) {
  return QStringLiteral("group:") + side.groupKey + QLatin1Char('|') + QString::fromStdString(key);
}

CompareView::CompareView(QWidget* parent)
    : QWidget(parent),
      m_title(new QLabel(this)),
      m_protocolWarning(new QLabel(this)),
      m_lossPlot(new MetricPlot(tr("Loss"), tr("loss"))),
      m_accPlot(new MetricPlot(tr("Accuracy (eval/acc, mean over tasks)"), tr("accuracy"))),
      m_stats(new QTextBrowser),
      m_diff(new QTableWidget(0, 3)),
      m_onlyDiff(new QCheckBox(tr("Only differences"))),
      m_allocDiff(new AllocationDiffPlot) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  m_title->setTextFormat(Qt::RichText);
  m_title->setWordWrap(true);
  layout->addWidget(m_title);
  m_protocolWarning->setTextFormat(Qt::RichText);
  m_protocolWarning->setWordWrap(true);
  m_protocolWarning->setTextInteractionFlags(Qt::TextSelectableByMouse);
  m_protocolWarning->setStyleSheet(
      QStringLiteral("QLabel { background: #fff4ce; color: #5c3c00; border: 1px solid #e0b000; "
                     "border-radius: 3px; padding: 4px 6px; }"));
  m_protocolWarning->setToolTip(
      tr("The same model scores differently under different protocols, splits and checkpoint "
         "rules: compare such numbers only with this in mind"));
  m_protocolWarning->setVisible(false);
  layout->addWidget(m_protocolWarning);

  auto* splitter = new QSplitter(Qt::Vertical, this);
  auto* plots = new QWidget;
  auto* plotRow = new QHBoxLayout(plots);
  plotRow->setContentsMargins(0, 0, 0, 0);
  plotRow->addWidget(m_lossPlot);
  plotRow->addWidget(m_accPlot);
  splitter->addWidget(plots);

  auto* diffPanel = new QWidget;
  auto* diffLayout = new QVBoxLayout(diffPanel);
  diffLayout->setContentsMargins(0, 0, 0, 0);
  m_onlyDiff->setChecked(true);
  m_diff->setHorizontalHeaderLabels({tr("Parameter"), tr("Run A"), tr("Run B")});
  m_diff->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  m_diff->verticalHeader()->setVisible(false);
  m_diff->setEditTriggers(QAbstractItemView::NoEditTriggers);
  m_diff->setAlternatingRowColors(true);
  m_stats->setReadOnly(true);
  m_stats->setOpenLinks(false);
  m_stats->setToolTip(
      tr("Final accuracy of each side: the mean over its runs' latest eval values. The 95 % "
         "interval of A − B is Welch's t interval; it needs 2 or more seeds on each side."));
  auto* diffRow = new QHBoxLayout;
  diffRow->addWidget(m_stats, 3);
  auto* configColumn = new QVBoxLayout;  // the checkbox belongs to the config table
  configColumn->addWidget(m_onlyDiff);
  configColumn->addWidget(m_diff, 1);
  diffRow->addLayout(configColumn, 3);
  diffRow->addWidget(m_allocDiff, 2);
  diffLayout->addLayout(diffRow, 1);
  splitter->addWidget(diffPanel);
  splitter->setStretchFactor(0, 3);
  splitter->setStretchFactor(1, 2);
  layout->addWidget(splitter, 1);

  m_accPlot->setFixedYRange(0.0, 1.0);
  m_accPlot->setLegendAlignment(Qt::AlignTop | Qt::AlignLeft);
  m_refreshTimer.setSingleShot(true);
  m_refreshTimer.setInterval(60);
  connect(&m_refreshTimer, &QTimer::timeout, this, &CompareView::refreshNow);
  connect(m_onlyDiff, &QCheckBox::toggled, this, &CompareView::rebuildDiff);
  setRuns({}, {});
}

void CompareView::setReader(std::shared_ptr<RunReader> reader) {
  m_reader = std::move(reader);
  setRuns({}, {});
}

void CompareView::setRuns(const QString& runA, const QString& runB) {
  setSides(CompareSide::run(runA), CompareSide::run(runB));
}

void CompareView::setSides(const CompareSide& a, const CompareSide& b) {
  m_sideA = a;
  m_sideB = b;
  m_runA = a.runIds.isEmpty() ? QString() : a.runIds.first();
  m_runB = b.runIds.isEmpty() ? QString() : b.runIds.first();
  m_colorA = sideColor(a);
  m_colorB = distinctFrom(m_colorA, sideColor(b));
  m_lastStep.clear();
  m_lossPlot->clear();
  m_accPlot->clear();
  const bool groups = a.isGroup() || b.isGroup();
  m_lossPlot->setTitle(groups ? tr("Loss (groups: mean line, min–max band over seeds)")
                              : tr("Loss"));
  m_accPlot->setTitle(groups ? tr("Accuracy (eval/acc; groups: mean, min–max band)")
                             : tr("Accuracy (eval/acc, mean over tasks)"));
  rebuildDiff();
  QStringList modules;
  if (m_reader && !m_runA.isEmpty()) {
    try {
      if (const auto run = m_reader->find_run(m_runA.toStdString())) {
        const auto it = run->tags.find(kModulesTag);
        if (it != run->tags.end())
          modules = QString::fromStdString(it->second).split(QLatin1Char(','), Qt::SkipEmptyParts);
      }
    } catch (const Error&) {
    }
  }
  m_allocDiff->setRuns(m_reader, m_runA, m_runB, modules);
  refreshNow();
}

bool CompareView::involves(const QString& runId) const {
  return m_sideA.runIds.contains(runId) || m_sideB.runIds.contains(runId);
}

void CompareView::onRunUpdated(const QString& runId, qint64 /*step*/) {
  if (involves(runId) && !m_refreshTimer.isActive()) m_refreshTimer.start();
}

void CompareView::onStoreChanged() {
  if (!m_runA.isEmpty() && !m_refreshTimer.isActive()) m_refreshTimer.start();
}

QString CompareView::sideName(const CompareSide& side) const {
  if (side.isGroup()) return tr("%1 ×%2").arg(side.label).arg(side.runIds.size());
  if (side.isEmpty()) return {};
  if (m_reader) {
    try {
      if (const auto run = m_reader->find_run(side.runIds.first().toStdString()))
        return shortName(*run);
    } catch (const Error&) {
    }
  }
  return side.runIds.first().left(8);
}

void CompareView::pull(const QString& runId, const QColor& color, const std::string& key) {
  const std::string id = runId.toStdString() + "|" + key;
  const auto last = m_lastStep.find(id);
  const MetricSeries s = m_reader->metric_series(runId.toStdString(), key,
                                                 last == m_lastStep.end() ? -1 : last->second);
  if (s.steps.empty()) return;
  MetricPlot* plot = key == kMetricEvalAcc ? m_accPlot : m_lossPlot;
  const QString series = QString::fromStdString(id);
  if (!plot->hasSeries(series)) {
    const QString label =
        sideName(CompareSide::run(runId)) + QStringLiteral(" · ") + QString::fromStdString(key);
    const bool eval = key.rfind("eval/", 0) == 0;
    plot->addSeries(series, label, color, key == kMetricEvalLoss ? Qt::DashLine : Qt::SolidLine,
                    eval);
  }
  plot->appendPoints(series, s.steps, s.values);
  m_lastStep[id] = s.steps.back();
}

void CompareView::pullGroup(const CompareSide& side, const QColor& color, const std::string& key) {
  // Members' whole series, re-aggregated on every refresh (a group has a handful of runs).
  std::vector<MetricSeries> series;
  for (const QString& runId : side.runIds) {
    MetricSeries s = m_reader->metric_series(runId.toStdString(), key, -1);
    if (!s.steps.empty()) series.push_back(std::move(s));
  }
  if (series.empty()) return;
  const GroupCurve curve = aggregate_curves(series);
  MetricPlot* plot = key == kMetricEvalAcc ? m_accPlot : m_lossPlot;
  const QString id = groupSeriesId(side, key);
  if (!plot->hasSeries(id)) {
    plot->addBand(id, color);
    const QString label = tr("%1 (mean of n = %2) · %3")
                              .arg(side.label)
                              .arg(side.runIds.size())
                              .arg(QString::fromStdString(key));
    const bool eval = key.rfind("eval/", 0) == 0;
    plot->addSeries(id, label, color, key == kMetricEvalLoss ? Qt::DashLine : Qt::SolidLine, eval);
  }
  plot->setPoints(id, curve.steps, curve.mean);
  plot->setBand(id, curve.steps, curve.min, curve.max);
}

void CompareView::refreshNow() {
  m_refreshTimer.stop();
  if (!m_reader || m_sideA.isEmpty() || m_sideB.isEmpty()) {
    m_title->setText(
        tr("<i>Select two runs or seed groups in the table to compare them "
           "(View → Group runs by seed shows the groups).</i>"));
    m_stats->clear();
    showWarnings({}, {});
    m_lossPlot->replotNow();
    m_accPlot->replotNow();
    return;
  }
  try {
    for (const auto& [side, color] : {std::pair{&m_sideA, m_colorA}, std::pair{&m_sideB, m_colorB}})
      for (const char* key : kCurveKeys) {
        if (side->isGroup())
          pullGroup(*side, color, key);
        else
          pull(side->runIds.first(), color, key);
      }
  } catch (const Error&) {
  }
  rebuildStats();
}

QString CompareView::statsText() const { return m_stats->toPlainText(); }

void CompareView::rebuildStats() {
  std::vector<Run> runsA;
  std::vector<Run> runsB;
  try {
    for (const auto& [side, out] : {std::pair{&m_sideA, &runsA}, std::pair{&m_sideB, &runsB}})
      for (const QString& id : side->runIds)
        if (auto run = m_reader->find_run(id.toStdString())) out->push_back(std::move(*run));
  } catch (const Error&) {
    return;
  }
  showWarnings(runsA, runsB);
  std::vector<const Run*> a;
  std::vector<const Run*> b;
  for (const Run& r : runsA) a.push_back(&r);
  for (const Run& r : runsB) b.push_back(&r);
  std::set<std::string> tasks;
  for (const auto* side : {&a, &b})
    for (const Run* r : *side)
      for (const auto& [key, value] : r->latest_metrics)
        if (key.rfind("eval/acc/", 0) == 0) tasks.insert(key);
  std::vector<std::string> keys = {kMetricEvalAcc};
  keys.insert(keys.end(), tasks.begin(), tasks.end());

  QString html = tr("<p style='margin-top:0'><b>Final accuracy</b>: A = <span style='color:%1'>"
                    "&#9632;</span> %2, B = <span style='color:%3'>&#9632;</span> %4; each "
                    "side's mean over its runs' latest eval.</p>")
                     .arg(m_colorA.name(), sideName(m_sideA).toHtmlEscaped(), m_colorB.name(),
                          sideName(m_sideB).toHtmlEscaped());
  for (const std::string& key : keys) {
    const std::vector<double> va = latestValues(a, key);
    const std::vector<double> vb = latestValues(b, key);
    if (va.empty() && vb.empty()) continue;
    const SampleSummary sa = summarize(va);
    const SampleSummary sb = summarize(vb);
    const MeanDifference d = difference_of_means(va, vb);
    const QString name =
        key == kMetricEvalAcc ? tr("eval/acc (all tasks)") : QString::fromStdString(key.substr(9));
    const QString meanA = sa.n > 0 ? percentText(sa.mean) : tr("—");
    const QString meanB = sb.n > 0 ? percentText(sb.mean) : tr("—");
    QString sentence = differenceSentence(d).toHtmlEscaped();
    for (const char* verdict : {"A is better", "B is better"})
      sentence.replace(QLatin1String(verdict), QStringLiteral("<b>%1</b>").arg(tr(verdict)));
    html += QStringLiteral(
                "<p style='margin-top:4px;margin-bottom:0'><b>%1</b>: A %2 &nbsp;·&nbsp; "
                "B %3<br>%4</p>")
                .arg(name.toHtmlEscaped(), meanA, meanB, sentence);
  }
  const auto unfinished = [](const std::vector<const Run*>& runs) {
    return std::count_if(runs.begin(), runs.end(),
                         [](const Run* r) { return r->status != RunStatus::Finished; });
  };
  const auto open = unfinished(a) + unfinished(b);
  if (open > 0)
    html +=
        tr("<p style='color:#b05000'>%n run(s) not FINISHED: their latest values are not "
           "final.</p>",
           nullptr, static_cast<int>(open));
  m_stats->setHtml(html);
}

void CompareView::showWarnings(const std::vector<Run>& a, const std::vector<Run>& b) {
  QStringList warnings;
  for (const std::string& w : comparability_warnings(a, b)) warnings << QString::fromStdString(w);
  if (warnings == m_warnings && m_protocolWarning->isVisibleTo(this) == !warnings.isEmpty()) return;
  m_warnings = warnings;
  QString html = tr("<b>&#9888; Not directly comparable:</b>");
  for (const QString& w : warnings) html += QStringLiteral("<br>&bull; ") + w.toHtmlEscaped();
  m_protocolWarning->setText(warnings.isEmpty() ? QString() : html);
  m_protocolWarning->setVisible(!warnings.isEmpty());
}

void CompareView::rebuildDiff() {
  m_diff->setRowCount(0);
  m_stats->clear();
  if (!m_reader || m_runA.isEmpty() || m_runB.isEmpty()) return;
  std::optional<Run> a;
  std::optional<Run> b;
  std::vector<Run> membersA;
  std::vector<Run> membersB;
  try {
    a = m_reader->find_run(m_runA.toStdString());
    b = m_reader->find_run(m_runB.toStdString());
    for (const auto& [side, out] : {std::pair{&m_sideA, &membersA}, std::pair{&m_sideB, &membersB}})
      for (const QString& id : side->runIds)
        if (auto run = m_reader->find_run(id.toStdString())) out->push_back(std::move(*run));
  } catch (const Error&) {
    return;
  }
  if (!a || !b) return;
  auto status = [](const CompareSide& side, const std::vector<Run>& members) {
    std::vector<const Run*> runs;
    for (const Run& r : members) runs.push_back(&r);
    return side.isGroup() ? statusSummary(runs)
                          : (runs.empty() ? QString() : statusText(runs.front()->status));
  };
  const QString nameA = sideName(m_sideA);
  const QString nameB = sideName(m_sideB);
  m_title->setText(tr("<b>A</b> <span style='color:%1'>&#9632; %2</span> (%3) &nbsp; vs &nbsp; "
                      "<b>B</b> <span style='color:%4'>&#9632; %5</span> (%6)")
                       .arg(m_colorA.name(), nameA.toHtmlEscaped(), status(m_sideA, membersA),
                            m_colorB.name(), nameB.toHtmlEscaped(), status(m_sideB, membersB)));
  m_diff->setHorizontalHeaderLabels(
      {tr("Parameter"), tr("A: %1").arg(nameA), tr("B: %1").arg(nameB)});
  auto seeds = [](const std::vector<Run>& members) {
    std::vector<uint64_t> s;
    for (const Run& r : members) s.push_back(r.seed);
    return seedsText(s);
  };
  std::set<std::string> keys;
  for (const auto& [k, v] : a->params) keys.insert(k);
  for (const auto& [k, v] : b->params) keys.insert(k);
  const bool onlyDiff = m_onlyDiff->isChecked();
  for (const std::string& key : keys) {
    // A group's seed is its list of seeds (its runs differ only there).
    const bool seedA = key == "seed" && m_sideA.isGroup();
    const bool seedB = key == "seed" && m_sideB.isGroup();
    const QString va = seedA ? seeds(membersA) : paramText(*a, key);
    const QString vb = seedB ? seeds(membersB) : paramText(*b, key);
    const bool differs = !a->params.count(key) || !b->params.count(key) || va != vb;
    if (onlyDiff && !differs) continue;
    const int row = m_diff->rowCount();
    m_diff->insertRow(row);
    auto* keyItem = new QTableWidgetItem(QString::fromStdString(key));
    auto* aItem = new QTableWidgetItem(a->params.count(key) || seedA ? va : tr("—"));
    auto* bItem = new QTableWidgetItem(b->params.count(key) || seedB ? vb : tr("—"));
    if (differs) {
      QFont bold = keyItem->font();
      bold.setBold(true);
      keyItem->setFont(bold);
    }
    m_diff->setItem(row, 0, keyItem);
    m_diff->setItem(row, 1, aItem);
    m_diff->setItem(row, 2, bItem);
  }
}

}  // namespace apportion::ui
