// SPDX-License-Identifier: GPL-3.0-or-later
// RunView: one run's curves, allocation, routing heatmap, log and config.
#include "ui/widgets/run_view.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include <qcustomplot.h>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>
#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/methods/method_registry.h"
#include "core/scoring/protocol.h"
#include "core/store/matrix_keys.h"
#include "core/store/results_table.h"
#include "core/store/store_keys.h"
#include "ui/models/run_colors.h"
#include "ui/models/run_format.h"
#include "ui/models/seed_group_format.h"
#include "ui/plots/expert_count_bars.h"
#include "ui/plots/expert_load_heatmap.h"
#include "ui/plots/figure_export.h"
#include "ui/plots/metric_plot.h"
#include "ui/plots/plot_style.h"
#include "ui/widgets/allocation_panel.h"
#include "ui/widgets/curve_toolbar.h"

namespace apportion::ui {

namespace {

/// Fixed colours for the per-task accuracy curves (the mean uses the run colour).
QColor taskColor(const std::string& key) {
  if (key == "eval/acc/lookup") return QColor(0x59a14f);
  if (key == "eval/acc/arithmetic") return QColor(0xe15759);
  if (key == "eval/acc/facts") return QColor(0xb07aa1);
  return QColor(0x9c755f);
}

bool isAccuracyKey(const std::string& key) {
  return key == kMetricEvalAcc || key.rfind("eval/acc/", 0) == 0;
}

QString runLink(const QString& id, bool self) {
  const QString shortId = id.left(8);
  return self ? QStringLiteral("<b>%1</b>").arg(shortId)
              : QStringLiteral("<a href='run:%1'>%2</a>").arg(id, shortId);
}

}  // namespace

namespace {

std::optional<double> latestOf(const Run& run, const std::string& key) {
  const auto it = run.latest_metrics.find(key);
  if (it == run.latest_metrics.end() || !std::isfinite(it->second)) return std::nullopt;
  return it->second;
}

/// The baseline accuracy ("baseline/accuracy"; "baseline/acc" accepted too).
std::optional<double> baselineAccuracy(const Run& run) {
  if (auto v = latestOf(run, "baseline/accuracy")) return v;
  return latestOf(run, "baseline/acc");
}

QString points(double fromFraction, double toFraction) {
  return signedPoints(toFraction - fromFraction);
}

}  // namespace

QString baselineText(const Run& run) {
  const std::optional<double> base = baselineAccuracy(run);
  if (!base) return {};
  const QString word =
      run.status == RunStatus::Finished ? QObject::tr("final") : QObject::tr("latest");
  QString text = QObject::tr("Baseline (step 0, no adapter): %1").arg(percentText(*base));
  if (const auto final = latestOf(run, kMetricEvalAcc))
    text +=
        QObject::tr(" → %1 %2 (%3 points)").arg(word, percentText(*final), points(*base, *final));
  QStringList tasks;
  const std::string prefix = "baseline/acc/";
  for (const auto& [key, value] : run.latest_metrics) {
    if (key.rfind(prefix, 0) != 0 || !std::isfinite(value)) continue;
    const std::string task = key.substr(prefix.size());
    QString part = QStringLiteral("%1 %2").arg(QString::fromStdString(task), percentText(value));
    if (const auto final = latestOf(run, "eval/acc/" + task))
      part += QStringLiteral(" → %1 (%2)").arg(percentText(*final), points(value, *final));
    tasks << part;
  }
  if (!tasks.isEmpty())
    text += QLatin1Char('\n') + QObject::tr("per task: ") + tasks.join(QStringLiteral(" · "));
  return text;
}

QString pipelineLinksHtml(const Run& run) {
  const Method* method = method_for_run_label(run.allocation_method);
  if (!method) return {};
  const auto links = method->stage_links(run.run_id, run.tags);
  if (links.empty()) return {};
  QStringList parts;
  QString previous;
  for (const StageLink& link : links) {
    const QString role = QString::fromStdString(link.role);
    parts << (link.run_id.empty()
                  ? QObject::tr("%1 run <i>(starts after the %2)</i>").arg(role, previous)
                  : QObject::tr("%1 run %2")
                        .arg(role, runLink(QString::fromStdString(link.run_id), link.self)));
    previous = role;
  }
  return QObject::tr("%1 pipeline: %2")
      .arg(QString::fromStdString(method->label()), parts.join(QStringLiteral(" &rarr; ")));
}

RunView::RunView(QWidget* parent)
    : QWidget(parent),
      m_header(new QLabel(this)),
      m_pipeline(new QLabel(this)),
      m_baseline(new QLabel(this)),
      m_stopButton(new QPushButton(tr("Stop"), this)),
      m_tabs(new QTabWidget(this)),
      m_lossPlot(new MetricPlot(tr("Loss"), tr("loss"))),
      m_accPlot(new MetricPlot(tr("Accuracy"), tr("accuracy"))),
      m_heatmap(new ExpertLoadHeatmap),
      m_bars(new ExpertCountBars),
      m_methodMap(new ExpertLoadHeatmap),
      m_toolbar(new CurveToolbar),
      m_allocation(new AllocationPanel),
      m_log(new QPlainTextEdit),
      m_config(new QPlainTextEdit) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  auto* top = new QHBoxLayout;
  m_header->setTextFormat(Qt::RichText);
  m_header->setWordWrap(true);
  m_header->setTextInteractionFlags(Qt::TextSelectableByMouse);
  auto* headerColumn = new QVBoxLayout;
  headerColumn->addWidget(m_header);
  m_pipeline->setTextFormat(Qt::RichText);
  m_pipeline->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::LinksAccessibleByMouse);
  m_pipeline->setToolTip(tr("The runs of one GuiLoMo pipeline; click the other run to select it"));
  m_pipeline->setVisible(false);
  headerColumn->addWidget(m_pipeline);
  m_baseline->setTextFormat(Qt::PlainText);
  m_baseline->setWordWrap(true);
  m_baseline->setTextInteractionFlags(Qt::TextSelectableByMouse);
  m_baseline->setToolTip(
      tr("Accuracy of the backbone alone (no adapter), evaluated at step 0 before training, "
         "and the run's latest eval accuracy; points = percentage points"));
  m_baseline->setVisible(false);
  headerColumn->addWidget(m_baseline);
  top->addLayout(headerColumn, 1);
  connect(m_pipeline, &QLabel::linkActivated, this, [this](const QString& link) {
    if (link.startsWith(QLatin1String("run:"))) Q_EMIT runLinkActivated(link.mid(4));
  });
  m_stopButton->setEnabled(false);
  m_stopButton->setToolTip(tr("Stop the run (SIGTERM: it finishes the step and checkpoints)"));
  top->addWidget(m_stopButton, 0, Qt::AlignTop);
  layout->addLayout(top);
  layout->addWidget(m_tabs, 1);

  auto* plots = new QWidget;
  auto* plotsLayout = new QVBoxLayout(plots);
  plotsLayout->setContentsMargins(0, 0, 0, 0);
  plotsLayout->addWidget(m_toolbar);
  // Two rows of panels; a hidden panel gives its room to the others (choosePanels).
  auto* curveRow = new QHBoxLayout;
  curveRow->setContentsMargins(0, 0, 0, 0);
  curveRow->addWidget(m_lossPlot, 3);
  curveRow->addWidget(m_accPlot, 2);
  m_panelRow = new QWidget;
  auto* panelRow = new QHBoxLayout(m_panelRow);
  panelRow->setContentsMargins(0, 0, 0, 0);
  panelRow->addWidget(m_heatmap, 3);
  panelRow->addWidget(m_bars, 2);
  panelRow->addWidget(m_methodMap, 2);
  plotsLayout->addLayout(curveRow, 1);
  plotsLayout->addWidget(m_panelRow, 1);
  m_toolbar->addPlot(m_lossPlot, /*logAxis=*/true);
  m_toolbar->addPlot(m_accPlot);
  m_methodMap->setVisible(false);
  // The curves' step cursor follows the heatmaps' slider; a click on a curve moves the slider.
  for (ExpertLoadHeatmap* map : {m_heatmap, m_methodMap})
    connect(map, &ExpertLoadHeatmap::stepShown, this, [this](qint64 step) {
      m_lossPlot->setStepCursor(step);
      m_accPlot->setStepCursor(step);
    });
  for (MetricPlot* plot : {m_lossPlot, m_accPlot})
    connect(plot, &MetricPlot::stepClicked, this, [this](qint64 step) {
      for (ExpertLoadHeatmap* map : {m_heatmap, m_methodMap})
        if (map->isVisible() || map == m_heatmap) map->showNearestStep(step);
    });
  m_tabs->addTab(plots, tr("Curves && routing"));
  m_tabs->addTab(m_allocation, tr("Allocation"));
  connect(m_tabs, &QTabWidget::currentChanged, this, [this](int) {
    if (m_tabs->currentWidget() == m_allocation) m_allocation->refresh();
  });
  m_accPlot->setFixedYRange(0.0, 1.0);
  m_accPlot->setLegendAlignment(Qt::AlignTop | Qt::AlignLeft);

  m_log->setReadOnly(true);
  m_log->setMaximumBlockCount(5000);
  m_log->setFont(QFont(QStringLiteral("monospace"), 9));
  m_tabs->addTab(m_log, tr("Log"));
  m_config->setReadOnly(true);
  m_config->setFont(QFont(QStringLiteral("monospace"), 9));
  m_tabs->addTab(m_config, tr("Config"));

  m_tasksPage = new QWidget;
  auto* tasksLayout = new QVBoxLayout(m_tasksPage);
  tasksLayout->setContentsMargins(4, 4, 4, 4);
  m_tasksNote = new QLabel;
  m_tasksNote->setTextFormat(Qt::RichText);
  m_tasksNote->setWordWrap(true);
  tasksLayout->addWidget(m_tasksNote);
  m_tasks = new QTableWidget(0, 9);
  m_tasks->setHorizontalHeaderLabels({tr("Task"), tr("Split"), tr("Protocol"), tr("Latest acc."),
                                      tr("acc_norm"), tr("Parse failures"), tr("Validation"),
                                      tr("Reported"), tr("Rule")});
  const QStringList headerTips = {
      tr("Task name (eval/acc/<task>)"),
      tr("The split the task's test numbers come from (tag split/<task>)"),
      tr("How the split was scored (tag protocol/<task>; hover a cell for its description)"),
      tr("Latest test-split accuracy (eval/acc/<task>)"),
      tr("Length-normalised accuracy of mc_loglik tasks (reported, else latest)"),
      tr("Generations whose answer could not be parsed (counted wrong)"),
      tr("Latest validation-split accuracy (val/acc/<task>)"),
      tr("The reported accuracy (report/acc/<task>) at the run's checkpoint rule"),
      tr("Which evaluation is reported: last, best_validation, best_test; latest = no report "
         "written yet")};
  for (int c = 0; c < headerTips.size(); ++c)
    m_tasks->horizontalHeaderItem(c)->setToolTip(headerTips[c]);
  m_tasks->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  m_tasks->horizontalHeader()->setStretchLastSection(true);
  m_tasks->verticalHeader()->setVisible(false);
  m_tasks->setEditTriggers(QAbstractItemView::NoEditTriggers);
  m_tasks->setAlternatingRowColors(true);
  m_tasks->setSelectionBehavior(QAbstractItemView::SelectRows);
  tasksLayout->addWidget(m_tasks, 3);
  m_taskBars = new QCustomPlot;
  m_taskBars->setMinimumHeight(160);
  m_taskBars->yAxis->setRange(0, 100);
  m_taskBars->yAxis->setLabel(tr("accuracy (%)"));
  m_taskBars->xAxis->setTicker(QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText));
  tasksLayout->addWidget(m_taskBars, 2);
  applyFigureStyle(m_taskBars);
  installFigureMenu(m_taskBars, nullptr);
  m_tabs->addTab(m_tasksPage, tr("Tasks"));

  m_refreshTimer.setSingleShot(true);
  m_refreshTimer.setInterval(60);
  connect(&m_refreshTimer, &QTimer::timeout, this, &RunView::refreshNow);
  connect(m_stopButton, &QPushButton::clicked, this, [this] {
    if (!m_runId.isEmpty()) Q_EMIT stopRequested(m_runId);
  });
  setRun({});
}

void RunView::setReader(std::shared_ptr<RunReader> reader) {
  m_reader = std::move(reader);
  setRun({});
}

void RunView::setRun(const QString& runId) {
  m_runId = runId;
  m_tasksSignature = QStringLiteral("-");  // rebuild the task table
  m_lossPlot->clear();
  m_accPlot->clear();
  m_log->setPlainText(
      runId.isEmpty() ? QString() : tr("(stderr is kept only for runs launched from this window)"));
  m_config->clear();
  m_stopButton->setEnabled(false);
  m_lossPlot->setStepCursor(std::nullopt);
  m_accPlot->setStepCursor(std::nullopt);
  m_panelsChosen = false;
  choosePanels();
  m_bars->setSource(runId.isEmpty() ? nullptr : m_reader, runId);
  m_bars->setColor(runId.isEmpty() ? QColor(0x4e79a7) : runColor(runId));
  m_allocation->setSource(m_reader, runId);
  if (!runId.isEmpty() && m_reader) {
    try {
      if (const auto run = m_reader->find_run(runId.toStdString())) {
        try {
          m_config->setPlainText(
              QString::fromStdString(nlohmann::json::parse(run->config_json).dump(2)));
        } catch (const nlohmann::json::exception&) {
          m_config->setPlainText(QString::fromStdString(run->config_json));
        }
      }
    } catch (const Error&) {
    }
  }
  refreshNow();
}

void RunView::setLogText(const QString& text) {
  m_log->setPlainText(text);
  m_log->verticalScrollBar()->setValue(m_log->verticalScrollBar()->maximum());
}

void RunView::setStopEnabled(bool enabled) { m_stopButton->setEnabled(enabled); }

void RunView::onRunUpdated(const QString& runId, qint64 /*step*/) {
  if (runId == m_runId) scheduleRefresh();
}

void RunView::onStoreChanged() {
  if (!m_runId.isEmpty()) scheduleRefresh();
}

void RunView::onLogAppended(const QString& runId, const QString& text) {
  if (runId != m_runId) return;
  m_log->appendPlainText(text.endsWith(QLatin1Char('\n')) ? text.chopped(1) : text);
}

void RunView::scheduleRefresh() {
  if (!m_refreshTimer.isActive()) m_refreshTimer.start();  // never restart: no starvation
}

void RunView::ensureSeries(const std::string& key) {
  const QString id = QString::fromStdString(key);
  const QColor color = runColor(m_runId);
  const std::string run = m_runId.toStdString();
  if (m_lossPlot->hasSeries(id) || m_accPlot->hasSeries(id)) return;
  if (key == kMetricTrainLoss) {
    m_lossPlot->addStoreSeries(id, id, color, m_reader, run, key);
  } else if (key == kMetricEvalLoss) {
    m_lossPlot->addStoreSeries(id, id, color.darker(150), m_reader, run, key, Qt::DashLine,
                               /*markers=*/true);
  } else if (key == kMetricEvalAcc) {
    m_accPlot->addStoreSeries(id, tr("eval/acc (mean)"), color, m_reader, run, key, Qt::SolidLine,
                              true);
  } else if (isAccuracyKey(key)) {
    m_accPlot->addStoreSeries(id, id, taskColor(key), m_reader, run, key, Qt::DashLine, true);
  }
}

void RunView::choosePanels() {
  if (m_panelsChosen) return;
  std::vector<std::string> keys;
  std::optional<Run> run;
  try {
    if (m_reader && !m_runId.isEmpty()) {
      keys = m_reader->matrix_keys(m_runId.toStdString());
      run = m_reader->find_run(m_runId.toStdString());
    }
  } catch (const Error&) {
    return;
  }
  const auto has = [&keys](const char* key) {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
  };
  const std::shared_ptr<RunReader> reader = m_runId.isEmpty() ? nullptr : m_reader;
  // Routing: the adapters' own router, else the MoE backbone's router (DR-LoRA, pretraining).
  if (has(matrix_keys::kLoadFraction)) {
    m_heatmap->setLabels(tr("Routing load per expert (mean over modules)"), tr("expert"),
                         tr("load fraction"));
    m_heatmap->setSource(reader, m_runId, QString::fromUtf8(matrix_keys::kLoadFraction));
  } else if (has(matrix_keys::kBackboneLoadFraction)) {
    m_heatmap->setLabels(tr("MoE backbone's router: load per expert"), tr("routed expert"),
                         tr("load fraction"));
    m_heatmap->setSource(reader, m_runId, QString::fromUtf8(matrix_keys::kBackboneLoadFraction));
  } else {
    m_heatmap->setSource(reader, m_runId, QString::fromUtf8(matrix_keys::kLoadFraction));
  }
  // The method's panel: expert counts as bars, else what the method decides per layer.
  const char* methodKey = nullptr;
  QString title;
  QString xLabel;
  QString valueLabel;
  if (has(matrix_keys::kDrRank)) {
    methodKey = matrix_keys::kDrRank;
    title = tr("DR-LoRA: rank per routed expert");
    xLabel = tr("routed expert");
    valueLabel = tr("active rank");
  } else if (has(matrix_keys::kGsvExpert)) {
    methodKey = matrix_keys::kGsvExpert;
    title = tr("GuiLoMo search: expert GSV σ(g) (mean over modules)");
    xLabel = tr("expert slot");
    valueLabel = tr("σ(GSV)");
  } else if (!has(matrix_keys::kAllocExperts) && has(matrix_keys::kAllocRank)) {
    methodKey = matrix_keys::kAllocRank;
    title = tr("Rank per expert (mean over modules)");
    xLabel = tr("expert");
    valueLabel = tr("rank");
  }
  const bool bars = has(matrix_keys::kAllocExperts) && !methodKey;
  if (methodKey) {
    m_methodMap->setLabels(title, xLabel, valueLabel);
    m_methodMap->setEmptyText(tr("not recorded yet"));
    m_methodMap->setSource(reader, m_runId, QString::fromUtf8(methodKey));
  } else {
    m_methodMap->setSource(nullptr, {});
  }
  const bool routing = has(matrix_keys::kLoadFraction) || has(matrix_keys::kBackboneLoadFraction);
  const bool empty = m_runId.isEmpty() || !m_reader;
  m_heatmap->setVisible(routing || empty);
  m_bars->setVisible(bars || (empty && !methodKey));
  m_methodMap->setVisible(methodKey != nullptr);
  m_panelRow->setVisible(routing || empty || bars || methodKey);
  // A finished run records nothing more: decide once. A live one is asked again until it has.
  m_panelsChosen = !empty && (!keys.empty() || (run && run->status != RunStatus::Running));
  bool accuracy = false;
  if (run)
    for (const auto& [key, value] : run->latest_metrics) accuracy = accuracy || isAccuracyKey(key);
  m_accPlot->setVisible(accuracy || empty || (run && run->status == RunStatus::Running));
}

void RunView::showBaselinePoint(const Run& run) {
  const std::optional<double> base = baselineAccuracy(run);
  if (!base || m_accPlot->hasSeries(baselineSeriesId())) return;
  const auto stepIt = run.latest_steps.find(
      run.latest_metrics.count("baseline/accuracy") ? "baseline/accuracy" : "baseline/acc");
  const int64_t step = stepIt == run.latest_steps.end() ? 0 : stepIt->second;
  const QColor ink(0x33, 0x33, 0x33);
  QCPGraph* graph =
      m_accPlot->addSeries(baselineSeriesId(), tr("baseline, no adapter (step %1)").arg(step), ink);
  graph->setLineStyle(QCPGraph::lsNone);
  graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, QPen(ink, 1.5),
                                         QBrush(QColor(0xff, 0xd7, 0x00)), 11));
  m_accPlot->appendPoints(baselineSeriesId(), {step}, {*base});
}

void RunView::refreshNow() {
  m_refreshTimer.stop();
  updateHeader();
  if (!m_reader || m_runId.isEmpty()) {
    m_lossPlot->replotNow();
    m_accPlot->replotNow();
    return;
  }
  try {
    for (const std::string& key : m_reader->metric_keys(m_runId.toStdString()))
      if (key == kMetricTrainLoss || key == kMetricEvalLoss || isAccuracyKey(key))
        ensureSeries(key);
  } catch (const Error&) {
    // a busy database: the next nudge or poll retries
  }
  m_lossPlot->refreshStoreSeries();
  m_accPlot->refreshStoreSeries();
  choosePanels();
  m_methodMap->refresh();
  m_heatmap->refresh();
  if (m_bars->expertsPerLayer().empty()) m_bars->refresh();
  if (m_tabs->currentWidget() == m_allocation) m_allocation->refresh();  // reads every GSV step
}

void RunView::updateHeader() {
  if (!m_reader || m_runId.isEmpty()) {
    m_header->setText(tr("<i>Select a run in the table (two runs: Compare).</i>"));
    m_pipeline->setVisible(false);
    m_baseline->setVisible(false);
    updateTaskTable(nullptr);
    return;
  }
  std::optional<Run> run;
  try {
    run = m_reader->find_run(m_runId.toStdString());
  } catch (const Error&) {
    return;
  }
  if (!run) {
    m_header->setText(tr("<i>Run %1 not found.</i>").arg(m_runId));
    m_pipeline->setVisible(false);
    m_baseline->setVisible(false);
    updateTaskTable(nullptr);
    return;
  }
  updateTaskTable(&*run);
  const QString baseline = baselineText(*run);
  if (baseline != m_baseline->text()) m_baseline->setText(baseline);
  m_baseline->setVisible(!baseline.isEmpty());
  showBaselinePoint(*run);
  const QString links = pipelineLinksHtml(*run);
  if (links != m_pipeline->text()) m_pipeline->setText(links);
  m_pipeline->setVisible(!links.isEmpty());
  const QColor color = runColor(m_runId);
  QString html = QStringLiteral(
                     "<span style='color:%1;font-size:large'>&#9632;</span> "
                     "<b style='font-size:large'>%2</b> &nbsp; "
                     "<span style='color:%3'><b>%4</b></span> &nbsp; %5 &nbsp; %6 "
                     "&nbsp; step %7")
                     .arg(color.name(), QString::fromStdString(run->name).toHtmlEscaped(),
                          runStatusColor(*run).name(), runStatusText(*run),
                          QString::fromStdString(run->experiment_name).toHtmlEscaped(),
                          keyParamsText(*run).toHtmlEscaped())
                     .arg(latestStep(*run));
  const LivenessVerdict live = runLiveness(*run);
  if (live.state == Liveness::Dead)  // RUNNING in the store, but nobody trains it any more
    html += QStringLiteral(
                "<br><span style='color:#8e243c'>%1 — resume it (apportion train "
                "--resume) or close it (Run → Close dead run)</span>")
                .arg(QString::fromStdString(live.reason).toHtmlEscaped());
  const auto err = run->tags.find("error");
  if (err != run->tags.end() && run->status != RunStatus::Finished)
    html += QStringLiteral("<br><span style='color:#c62828'>%1</span>")
                .arg(QString::fromStdString(err->second).toHtmlEscaped());
  html += QStringLiteral("<br><small style='color:gray'>%1</small>").arg(m_runId);
  m_header->setText(html);
}

}  // namespace apportion::ui
