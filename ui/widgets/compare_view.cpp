// SPDX-License-Identifier: GPL-3.0-or-later
// CompareView: overlaid curves of two runs and their config differences.
#include "ui/widgets/compare_view.h"

#include "ui/plots/allocation_diff_plot.h"

#include <set>

#include <QCheckBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include "core/common/error.h"
#include "ui/models/run_colors.h"
#include "ui/models/run_format.h"
#include "ui/plots/metric_plot.h"

namespace apportion::ui {

namespace {

const char* const kCurveKeys[] = {"train/loss", "eval/loss", "eval/acc"};

QString shortName(const Run& run) {
  return QString::fromStdString(run.name.empty() ? run.run_id.substr(0, 8) : run.name);
}

}  // namespace

CompareView::CompareView(QWidget* parent)
    : QWidget(parent),
      m_title(new QLabel(this)),
      m_lossPlot(new MetricPlot(tr("Loss"), tr("loss"))),
      m_accPlot(new MetricPlot(tr("Accuracy (eval/acc, mean over tasks)"), tr("accuracy"))),
      m_diff(new QTableWidget(0, 3)),
      m_onlyDiff(new QCheckBox(tr("Only differences"))),
      m_allocDiff(new AllocationDiffPlot) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  m_title->setTextFormat(Qt::RichText);
  layout->addWidget(m_title);

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
  diffLayout->addWidget(m_onlyDiff);
  m_diff->setHorizontalHeaderLabels({tr("Parameter"), tr("Run A"), tr("Run B")});
  m_diff->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
  m_diff->verticalHeader()->setVisible(false);
  m_diff->setEditTriggers(QAbstractItemView::NoEditTriggers);
  m_diff->setAlternatingRowColors(true);
  auto* diffRow = new QHBoxLayout;
  diffRow->addWidget(m_diff, 3);
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
  m_runA = runA;
  m_runB = runB;
  m_lastStep.clear();
  m_lossPlot->clear();
  m_accPlot->clear();
  rebuildDiff();
  QStringList modules;
  if (m_reader && !runA.isEmpty()) {
    try {
      if (const auto run = m_reader->find_run(runA.toStdString())) {
        const auto it = run->tags.find("modules");
        if (it != run->tags.end())
          modules = QString::fromStdString(it->second).split(QLatin1Char(','), Qt::SkipEmptyParts);
      }
    } catch (const Error&) {
    }
  }
  m_allocDiff->setRuns(m_reader, runA, runB, modules);
  refreshNow();
}

void CompareView::onRunUpdated(const QString& runId, qint64 /*step*/) {
  if ((runId == m_runA || runId == m_runB) && !m_refreshTimer.isActive()) m_refreshTimer.start();
}

void CompareView::onStoreChanged() {
  if (!m_runA.isEmpty() && !m_refreshTimer.isActive()) m_refreshTimer.start();
}

void CompareView::pull(const QString& runId, const std::string& key) {
  const std::string id = runId.toStdString() + "|" + key;
  const auto last = m_lastStep.find(id);
  const MetricSeries s = m_reader->metric_series(runId.toStdString(), key,
                                                 last == m_lastStep.end() ? -1 : last->second);
  if (s.steps.empty()) return;
  MetricPlot* plot = key == "eval/acc" ? m_accPlot : m_lossPlot;
  const QString series = QString::fromStdString(id);
  if (!plot->hasSeries(series)) {
    const std::optional<Run> run = m_reader->find_run(runId.toStdString());
    const QString label = (run ? shortName(*run) : runId.left(8)) + QStringLiteral(" · ") +
                          QString::fromStdString(key);
    const bool eval = key.rfind("eval/", 0) == 0;
    plot->addSeries(series, label, runColor(runId),
                    key == "eval/loss" ? Qt::DashLine : Qt::SolidLine, eval);
  }
  plot->appendPoints(series, s.steps, s.values);
  m_lastStep[id] = s.steps.back();
}

void CompareView::refreshNow() {
  m_refreshTimer.stop();
  if (!m_reader || m_runA.isEmpty() || m_runB.isEmpty()) {
    m_title->setText(tr("<i>Select two runs in the table to compare them.</i>"));
    m_lossPlot->replotNow();
    m_accPlot->replotNow();
    return;
  }
  try {
    for (const QString& run : {m_runA, m_runB})
      for (const char* key : kCurveKeys) pull(run, key);
  } catch (const Error&) {
  }
}

void CompareView::rebuildDiff() {
  m_diff->setRowCount(0);
  if (!m_reader || m_runA.isEmpty() || m_runB.isEmpty()) return;
  std::optional<Run> a;
  std::optional<Run> b;
  try {
    a = m_reader->find_run(m_runA.toStdString());
    b = m_reader->find_run(m_runB.toStdString());
  } catch (const Error&) {
    return;
  }
  if (!a || !b) return;
  m_title->setText(tr("<b>A</b> <span style='color:%1'>&#9632; %2</span> (%3) &nbsp; vs &nbsp; "
                      "<b>B</b> <span style='color:%4'>&#9632; %5</span> (%6)")
                       .arg(runColor(m_runA).name(), shortName(*a).toHtmlEscaped(),
                            statusText(a->status), runColor(m_runB).name(),
                            shortName(*b).toHtmlEscaped(), statusText(b->status)));
  m_diff->setHorizontalHeaderLabels(
      {tr("Parameter"), tr("A: %1").arg(shortName(*a)), tr("B: %1").arg(shortName(*b))});
  std::set<std::string> keys;
  for (const auto& [k, v] : a->params) keys.insert(k);
  for (const auto& [k, v] : b->params) keys.insert(k);
  const bool onlyDiff = m_onlyDiff->isChecked();
  for (const std::string& key : keys) {
    const QString va = paramText(*a, key);
    const QString vb = paramText(*b, key);
    const bool differs = !a->params.count(key) || !b->params.count(key) || va != vb;
    if (onlyDiff && !differs) continue;
    const int row = m_diff->rowCount();
    m_diff->insertRow(row);
    auto* keyItem = new QTableWidgetItem(QString::fromStdString(key));
    auto* aItem = new QTableWidgetItem(a->params.count(key) ? va : tr("—"));
    auto* bItem = new QTableWidgetItem(b->params.count(key) ? vb : tr("—"));
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
