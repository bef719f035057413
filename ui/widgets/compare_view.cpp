// SPDX-License-Identifier: GPL-3.0-or-later
// CompareView: N runs or seed groups overlaid (curves), their config differences and
// allocations; statistics and task bars are in compare_panels.cpp.
#include "ui/widgets/compare_view.h"

#include <algorithm>
#include <set>

#include <qcustomplot.h>
#include <QCheckBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QTextBrowser>
#include <QVBoxLayout>

#include "core/common/error.h"
#include "core/store/config_diff.h"
#include "core/store/results_table.h"
#include "core/store/run_groups.h"
#include "core/store/store_keys.h"
#include "ui/models/run_format.h"
#include "ui/models/seed_group_format.h"
#include "ui/plots/allocation_diff_plot.h"
#include "ui/plots/allocation_small_multiples.h"
#include "ui/plots/figure_export.h"
#include "ui/plots/metric_plot.h"
#include "ui/plots/plot_style.h"
#include "ui/widgets/curve_toolbar.h"

namespace apportion::ui {

namespace {

const char* const kCurveKeys[] = {kMetricTrainLoss, kMetricEvalLoss, kMetricEvalAcc};

QString shortName(const Run& run) {
  return QString::fromStdString(run.name.empty() ? run.run_id.substr(0, 8) : run.name);
}

MetricPlot* plotFor(const std::string& key, MetricPlot* loss, MetricPlot* acc) {
  return key == kMetricEvalAcc ? acc : loss;
}

}  // namespace

QString sideLetter(int index) {
  return index < 26 ? QString(QChar(static_cast<char16_t>(u'A' + index)))
                    : QString::number(index + 1);
}

QString CompareView::groupSeriesId(const CompareSide& side, const std::string& key) {
  return QStringLiteral("group:") + side.groupKey + QLatin1Char('|') + QString::fromStdString(key);
}

CompareView::CompareView(QWidget* parent)
    : QWidget(parent),
      m_title(new QLabel(this)),
      m_protocolWarning(new QLabel(this)),
      m_toolbar(new CurveToolbar),
      m_lossPlot(new MetricPlot(tr("Loss"), tr("loss"))),
      m_accPlot(new MetricPlot(tr("Accuracy (eval/acc, mean over tasks)"), tr("accuracy"))),
      m_panels(new QTabWidget),
      m_stats(new QTextBrowser),
      m_diff(new QTableWidget(0, 1)),
      m_onlyDiff(new QCheckBox(tr("Only keys that differ"))),
      m_taskBars(new QCustomPlot),
      m_multiples(new AllocationSmallMultiples),
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
  layout->addWidget(m_toolbar);

  auto* splitter = new QSplitter(Qt::Vertical, this);
  auto* plots = new QWidget;
  auto* plotRow = new QHBoxLayout(plots);
  plotRow->setContentsMargins(0, 0, 0, 0);
  plotRow->addWidget(m_lossPlot);
  plotRow->addWidget(m_accPlot);
  splitter->addWidget(plots);
  m_toolbar->addPlot(m_lossPlot, /*logAxis=*/true);
  m_toolbar->addPlot(m_accPlot);

  m_stats->setReadOnly(true);
  m_stats->setOpenLinks(false);
  m_stats->setToolTip(
      tr("Final accuracy of each side: the mean over its runs' latest eval values. The 95 % "
         "interval of A − X is Welch's t interval; it needs 2 or more seeds on each side."));
  m_panels->addTab(m_stats, tr("Statistics"));

  auto* configPage = new QWidget;
  auto* configLayout = new QVBoxLayout(configPage);
  configLayout->setContentsMargins(0, 0, 0, 0);
  m_onlyDiff->setChecked(true);
  m_diff->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
  m_diff->horizontalHeader()->setStretchLastSection(true);
  m_diff->verticalHeader()->setVisible(false);
  m_diff->setEditTriggers(QAbstractItemView::NoEditTriggers);
  m_diff->setAlternatingRowColors(true);
  configLayout->addWidget(m_onlyDiff);
  configLayout->addWidget(m_diff, 1);
  m_panels->addTab(configPage, tr("Config"));

  m_taskBars->setMinimumHeight(160);
  m_taskBars->yAxis->setLabel(tr("accuracy (%)"));
  m_taskBars->xAxis->setTicker(QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText));
  applyFigureStyle(m_taskBars);
  // The legend under the bars (bars reach 100 %: no free corner inside), filled row by row.
  auto* legendRow = new QCPLayoutGrid;
  m_taskBars->plotLayout()->addElement(1, 0, legendRow);
  legendRow->setMargins(QMargins(5, 0, 5, 5));
  m_taskBars->axisRect()->insetLayout()->take(m_taskBars->legend);
  legendRow->addElement(0, 0, m_taskBars->legend);
  m_taskBars->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
  m_taskBars->legend->setWrap(5);
  m_taskBars->plotLayout()->setRowStretchFactor(1, 0.001);
  m_taskBars->legend->setVisible(true);
  installFigureMenu(m_taskBars, nullptr);
  m_panels->addTab(m_taskBars, tr("Tasks"));

  auto* allocPage = new QWidget;
  auto* allocRow = new QHBoxLayout(allocPage);
  allocRow->setContentsMargins(0, 0, 0, 0);
  allocRow->addWidget(m_multiples, 3);
  allocRow->addWidget(m_allocDiff, 2);
  m_panels->addTab(allocPage, tr("Allocation"));
  splitter->addWidget(m_panels);
  splitter->setStretchFactor(0, 3);
  splitter->setStretchFactor(1, 2);
  layout->addWidget(splitter, 1);

  m_accPlot->setFixedYRange(0.0, 1.0);
  m_accPlot->setLegendAlignment(Qt::AlignTop | Qt::AlignLeft);
  m_refreshTimer.setSingleShot(true);
  m_refreshTimer.setInterval(60);
  connect(&m_refreshTimer, &QTimer::timeout, this, &CompareView::refreshNow);
  connect(m_onlyDiff, &QCheckBox::toggled, this, &CompareView::rebuildDiff);
  setSides(QList<CompareSide>{});
}

void CompareView::setReader(std::shared_ptr<RunReader> reader) {
  m_reader = std::move(reader);
  m_paletteOf.clear();
  setSides(QList<CompareSide>{});
}

void CompareView::assignColors() {
  // A side keeps its palette slot while it stays compared; new sides take the first free one.
  std::map<QString, int> kept;
  for (const CompareSide& s : m_sides) {
    const auto it = m_paletteOf.find(s.identity());
    if (it != m_paletteOf.end()) kept[s.identity()] = it->second;
  }
  for (const CompareSide& s : m_sides) {
    if (kept.count(s.identity())) continue;
    std::set<int> used;
    for (const auto& [id, slot] : kept) used.insert(slot);
    int slot = 0;
    while (used.count(slot)) ++slot;
    kept[s.identity()] = slot;
  }
  m_paletteOf = kept;
  m_colors.clear();
  for (const CompareSide& s : m_sides) m_colors << paletteColor(m_paletteOf[s.identity()]);
}

void CompareView::setSides(const QList<CompareSide>& sides) {
  m_sides.clear();
  for (const CompareSide& s : sides)
    if (!s.isEmpty()) m_sides << s;
  if (m_sides.size() < 2) m_sides.clear();
  assignColors();
  m_lossPlot->clear();
  m_accPlot->clear();
  m_tasksSignature = QStringLiteral("-");
  const bool groups =
      std::any_of(m_sides.begin(), m_sides.end(), [](const CompareSide& s) { return s.isGroup(); });
  m_lossPlot->setTitle(groups ? tr("Loss: solid train, dashed eval (groups: mean, min–max band)")
                              : tr("Loss: solid train/loss, dashed eval/loss"));
  m_accPlot->setTitle(groups ? tr("Accuracy (eval/acc; groups: mean, min–max band)")
                             : tr("Accuracy (eval/acc, mean over tasks)"));
  rebuildDiff();
  QStringList modules;
  std::vector<AllocationSmallMultiples::Panel> panels;
  if (m_reader) {
    for (int i = 0; i < m_sides.size(); ++i) {
      QString title = sideLetter(i) + QLatin1Char(' ') + sideName(i);
      if (m_sides[i].isGroup()) {  // members may differ (a search per seed): say which is shown
        try {
          if (const auto first = m_reader->find_run(firstRun(i).toStdString()))
            title += tr(": %1 shown").arg(shortName(*first));
        } catch (const Error&) {
        }
      }
      panels.push_back({title, firstRun(i)});
    }
    try {
      if (const auto run = m_reader->find_run(runA().toStdString())) {
        const auto it = run->tags.find(kModulesTag);
        if (it != run->tags.end())
          modules = QString::fromStdString(it->second).split(QLatin1Char(','), Qt::SkipEmptyParts);
      }
    } catch (const Error&) {
    }
  }
  m_multiples->setRuns(m_reader, panels, modules);
  m_allocDiff->setVisible(m_sides.size() == 2);
  m_allocDiff->setRuns(m_reader, m_sides.size() == 2 ? runA() : QString(),
                       m_sides.size() == 2 ? runB() : QString(), modules);
  for (int i = 0; i < m_sides.size(); ++i)
    if (!m_sides[i].isGroup()) addRunCurves(i);
  refreshNow();
}

bool CompareView::involves(const QString& runId) const {
  return std::any_of(m_sides.begin(), m_sides.end(),
                     [&runId](const CompareSide& s) { return s.runIds.contains(runId); });
}

void CompareView::onRunUpdated(const QString& runId, qint64 /*step*/) {
  if (involves(runId) && !m_refreshTimer.isActive()) m_refreshTimer.start();
}

void CompareView::onStoreChanged() {
  if (!m_sides.isEmpty() && !m_refreshTimer.isActive()) m_refreshTimer.start();
}

QString CompareView::sideName(int index) const {
  const CompareSide side = m_sides.value(index);
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

void CompareView::addRunCurves(int side) {
  const QString runId = firstRun(side);
  std::optional<Run> run;
  try {
    run = m_reader ? m_reader->find_run(runId.toStdString()) : std::nullopt;
  } catch (const Error&) {
  }
  if (!run) return;
  const QColor color = sideColor(side);
  const Qt::PenStyle style = paletteStyle(m_paletteOf[m_sides[side].identity()]);
  for (const char* key : kCurveKeys) {
    const QString id = runId + QLatin1Char('|') + QString::fromUtf8(key);
    MetricPlot* plot = plotFor(key, m_lossPlot, m_accPlot);
    if (plot->hasSeries(id) || !run->latest_metrics.count(key)) continue;
    const bool eval = std::string(key).rfind("eval/", 0) == 0;
    const QString label = sideLetter(side) + QLatin1Char(' ') + sideName(side);
    plot->addStoreSeries(id, label, color, m_reader, runId.toStdString(), key,
                         std::string(key) == kMetricEvalLoss ? Qt::DashLine : style, eval);
    if (std::string(key) == kMetricEvalLoss)  // one legend entry per run: its train/loss
      plot->followSeries(id, runId + QStringLiteral("|") + QString::fromUtf8(kMetricTrainLoss));
  }
}

void CompareView::pullGroup(int side, const std::string& key) {
  // Members' whole series, re-aggregated on every refresh (a group has a handful of runs).
  const CompareSide& s = m_sides[side];
  std::vector<MetricSeries> series;
  for (const QString& runId : s.runIds) {
    MetricSeries m = m_reader->metric_series(runId.toStdString(), key, -1);
    if (!m.steps.empty()) series.push_back(std::move(m));
  }
  if (series.empty()) return;
  const GroupCurve curve = aggregate_curves(series);
  MetricPlot* plot = plotFor(key, m_lossPlot, m_accPlot);
  const QString id = groupSeriesId(s, key);
  const QColor color = sideColor(side);
  if (!plot->hasSeries(id)) {
    plot->addBand(id, color);
    const QString label =
        tr("%1 %2 (mean of n = %3)").arg(sideLetter(side), s.label).arg(s.runIds.size());
    const bool eval = key.rfind("eval/", 0) == 0;
    plot->addSeries(id, label, color, key == kMetricEvalLoss ? Qt::DashLine : Qt::SolidLine, eval);
    if (key == kMetricEvalLoss) plot->followSeries(id, groupSeriesId(s, kMetricTrainLoss));
  }
  plot->setPoints(id, curve.steps, curve.mean);
  plot->setBand(id, curve.steps, curve.min, curve.max);
}

std::vector<std::vector<Run>> CompareView::memberRuns() const {
  std::vector<std::vector<Run>> members;
  for (const CompareSide& side : m_sides) {
    members.emplace_back();
    for (const QString& id : side.runIds)
      if (auto run = m_reader->find_run(id.toStdString()))
        members.back().push_back(std::move(*run));
  }
  return members;
}

void CompareView::refreshNow() {
  m_refreshTimer.stop();
  if (!m_reader || m_sides.isEmpty()) {
    m_title->setText(
        tr("<i>Select two or more runs or seed groups in the table (Ctrl+click, Shift+click) and "
           "press Ctrl+D to compare them; View → Group runs by seed shows the groups.</i>"));
    m_stats->clear();
    showWarnings({});
    rebuildTaskBars({});
    m_lossPlot->replotNow();
    m_accPlot->replotNow();
    return;
  }
  std::vector<std::vector<Run>> members;
  try {
    for (int i = 0; i < m_sides.size(); ++i) {
      if (!m_sides[i].isGroup()) {
        addRunCurves(i);  // keys that appeared since (a live run's first evaluation)
        continue;
      }
      for (const char* key : kCurveKeys) pullGroup(i, key);
    }
    m_lossPlot->refreshStoreSeries();
    m_accPlot->refreshStoreSeries();
    members = memberRuns();
  } catch (const Error&) {
    return;  // a busy store: the next nudge retries
  }
  QStringList parts;
  for (int i = 0; i < m_sides.size(); ++i) {
    std::vector<const Run*> runs;
    for (const Run& r : members[static_cast<size_t>(i)]) runs.push_back(&r);
    const QString status = m_sides[i].isGroup()
                               ? statusSummary(runs)
                               : (runs.empty() ? QString() : runStatusText(*runs.front()));
    parts << tr("<b>%1</b> <span style='color:%2'>&#9632; %3</span> (%4)")
                 .arg(sideLetter(i), sideColor(i).name(), sideName(i).toHtmlEscaped(), status);
  }
  m_title->setText(parts.join(QStringLiteral(" &nbsp; vs &nbsp; ")));
  showWarnings(members);
  rebuildStats(members);
  rebuildTaskBars(members);
}

void CompareView::showWarnings(const std::vector<std::vector<Run>>& members) {
  std::vector<std::string> names;
  for (int i = 0; i < static_cast<int>(members.size()); ++i)
    names.push_back(sideLetter(i).toStdString());
  QStringList warnings;
  for (const std::string& w : comparability_warnings(members, names))
    warnings << QString::fromStdString(w);
  if (warnings == m_warnings && m_protocolWarning->isVisibleTo(this) == !warnings.isEmpty()) return;
  m_warnings = warnings;
  QString html = tr("<b>&#9888; Not directly comparable:</b>");
  for (const QString& w : warnings) html += QStringLiteral("<br>&bull; ") + w.toHtmlEscaped();
  m_protocolWarning->setText(warnings.isEmpty() ? QString() : html);
  m_protocolWarning->setVisible(!warnings.isEmpty());
}

void CompareView::rebuildDiff() {
  m_diff->setRowCount(0);
  m_diff->setColumnCount(1 + static_cast<int>(m_sides.size()));
  QStringList headers = {tr("Parameter")};
  for (int i = 0; i < m_sides.size(); ++i)
    headers << sideLetter(i) + QStringLiteral(": ") + sideName(i);
  m_diff->setHorizontalHeaderLabels(headers);
  if (!m_reader || m_sides.isEmpty()) return;
  std::vector<std::vector<Run>> members;
  try {
    members = memberRuns();
  } catch (const Error&) {
    return;
  }
  std::vector<const Run*> firsts;
  for (const auto& runs : members) firsts.push_back(runs.empty() ? nullptr : &runs.front());
  if (std::find(firsts.begin(), firsts.end(), nullptr) != firsts.end()) return;
  // A group's seed is its list of seeds (its runs differ only there).
  std::vector<QString> seeds;
  for (size_t i = 0; i < members.size(); ++i) {
    std::vector<uint64_t> s;
    for (const Run& r : members[i]) s.push_back(r.seed);
    seeds.push_back(seedsText(s));
  }
  for (const ParamRow& row : param_rows(firsts, /*only_differences=*/false)) {
    QStringList cells;
    for (size_t i = 0; i < row.values.size(); ++i) {
      const bool groupSeed = row.key == "seed" && m_sides[static_cast<int>(i)].isGroup();
      cells << (groupSeed ? seeds[i] : (row.values[i] ? paramText(*firsts[i], row.key) : tr("—")));
    }
    const bool differs = std::any_of(cells.begin(), cells.end(),
                                     [&cells](const QString& c) { return c != cells.front(); });
    if (m_onlyDiff->isChecked() && !differs) continue;
    const int r = m_diff->rowCount();
    m_diff->insertRow(r);
    auto* keyItem = new QTableWidgetItem(QString::fromStdString(row.key));
    if (differs) {
      QFont bold = keyItem->font();
      bold.setBold(true);
      keyItem->setFont(bold);
    }
    m_diff->setItem(r, 0, keyItem);
    for (int c = 0; c < cells.size(); ++c)
      m_diff->setItem(r, c + 1, new QTableWidgetItem(cells[c]));
  }
  m_diff->resizeColumnsToContents();
}

}  // namespace apportion::ui
