// SPDX-License-Identifier: GPL-3.0-or-later
// RunView: the detail panel of one run: a header (name, status, method, error), live loss and
// accuracy curves, the per-layer expert counts, the routing-load heatmap with its step scrubber,
// the run's stderr log (runs launched from this GUI) and its config. Only the panels a run
// records are shown (choosePanels): a DR-LoRA run shows its MoE backbone's router load and its
// ranks per routed expert, a GuiLoMo search its expert GSVs, MoLA its experts per layer; a run
// without routing or allocation records shows its curves alone. The heatmaps' step slider and
// the curves' step cursor follow each other (click a curve to jump to that step). A run with a
// step-0 baseline evaluation (baseline/* metrics) shows "Baseline (step 0, no adapter): X % → final
// Y % (+Z points)" under the header and a marker at step 0 in the accuracy plot. A GuiLoMo
// pipeline's runs link to each other in the header (tags guilomo/search_run, guilomo/retrain_run);
// clicking the other run emits runLinkActivated. The "Tasks" tab (the last) lists each task's
// split, protocol, latest accuracy, acc_norm, parse failures, validation accuracy and reported
// value with the run's checkpoint rule (core/store/results_table.h), and bars of the reported
// accuracies. Data is pulled from the
// store by step increments; nudges are coalesced by a 60 ms single-shot timer.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <QTimer>
#include <QWidget>

#include "core/store/run_reader.h"

class QCustomPlot;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTabWidget;
class QTableWidget;

namespace apportion::ui {

/// "GuiLoMo pipeline: search run <a>…</a> → retrain run <a>…</a>" for a run with a
/// guilomo/search_run or guilomo/retrain_run tag (links "run:<id>"; the run itself is bold,
/// not a link); empty for other runs.
QString pipelineLinksHtml(const Run& run);

/// The step-0 baseline line of a run that has one (latest metric baseline/accuracy, written by
/// the trainer's evaluation before any update: the backbone with no adapter):
/// "Baseline (step 0, no adapter): 12.0 % → final 62.4 % (+50.4 points)" ("latest" instead of
/// "final" while the run is not FINISHED), then a second line with each task from
/// baseline/acc/<task> → eval/acc/<task>. Empty without a baseline.
QString baselineText(const Run& run);

class ExpertCountBars;
class ExpertLoadHeatmap;
class MetricPlot;

class RunView : public QWidget {
  Q_OBJECT

 public:
  explicit RunView(QWidget* parent = nullptr);

  void setReader(std::shared_ptr<RunReader> reader);
  /// Shows a run (empty id clears) and loads everything recorded so far.
  void setRun(const QString& runId);
  const QString& runId() const { return m_runId; }

  /// Replaces the log panel's text (stderr of a launched run).
  void setLogText(const QString& text);
  /// Enables Stop (the run is RUNNING and was launched from this GUI).
  void setStopEnabled(bool enabled);

  MetricPlot* lossPlot() const { return m_lossPlot; }
  class CurveToolbar* curveToolbar() const {
    return m_toolbar;
  }
  /// The second heatmap of the curves tab: what the run's method records per layer (DR-LoRA's
  /// ranks per routed expert, a GuiLoMo search's expert GSVs, ranks per expert) when it has no
  /// expert counts to show as bars.
  ExpertLoadHeatmap* methodMap() const { return m_methodMap; }
  MetricPlot* accuracyPlot() const { return m_accPlot; }
  ExpertLoadHeatmap* heatmap() const { return m_heatmap; }
  ExpertCountBars* expertBars() const { return m_bars; }
  class AllocationPanel* allocationPanel() const {
    return m_allocation;
  }
  QPushButton* stopButton() const { return m_stopButton; }
  QTabWidget* tabs() const { return m_tabs; }
  QLabel* headerLabel() const { return m_header; }
  /// The pipeline line (hidden unless the run belongs to a GuiLoMo pipeline).
  QLabel* pipelineLabel() const { return m_pipeline; }
  /// The step-0 baseline line (hidden unless the run has baseline metrics).
  QLabel* baselineLabel() const { return m_baseline; }
  /// The "Tasks" tab: one row per task (columns: task, split, protocol, accuracy, acc_norm,
  /// parse failures, validation, reported, rule), and the line above it (rule, report step).
  QTableWidget* taskTable() const { return m_tasks; }
  QLabel* taskNote() const { return m_tasksNote; }
  /// Bars under the task table: each task's reported (else latest) accuracy in %.
  QCustomPlot* taskBars() const { return m_taskBars; }
  /// Index of the "Tasks" tab in tabs().
  int tasksTabIndex() const;
  /// Series id of the step-0 baseline marker in accuracyPlot().
  static QString baselineSeriesId() { return QStringLiteral("baseline/accuracy"); }

 public Q_SLOTS:
  /// A run committed rows up to `step`: coalesced incremental refresh if it is shown.
  void onRunUpdated(const QString& runId, qint64 step = -1);
  /// Something changed in the store (data_version): coalesced refresh of the shown run.
  void onStoreChanged();
  /// Appends stderr text of a launched run if it is the one shown.
  void onLogAppended(const QString& runId, const QString& text);
  /// Pulls increments now (tests; the coalescing timer calls it).
  void refreshNow();

 Q_SIGNALS:
  void stopRequested(const QString& runId);
  /// The user clicked a linked run (the other run of a GuiLoMo pipeline).
  void runLinkActivated(const QString& runId);

 private:
  void scheduleRefresh();
  void updateHeader();
  void ensureSeries(const std::string& key);
  void showBaselinePoint(const Run& run);
  void updateTaskTable(const Run* run);
  /// Shows the panels this run records (routing heatmap: the adapter router's load, else the
  /// MoE backbone's; method panel: expert counts, else ranks or GSVs) and hides the others.
  void choosePanels();

  std::shared_ptr<RunReader> m_reader;
  QString m_runId;
  QTimer m_refreshTimer;

  QLabel* m_header = nullptr;
  QLabel* m_pipeline = nullptr;
  QLabel* m_baseline = nullptr;
  QPushButton* m_stopButton = nullptr;
  QTabWidget* m_tabs = nullptr;
  MetricPlot* m_lossPlot = nullptr;
  MetricPlot* m_accPlot = nullptr;
  ExpertLoadHeatmap* m_heatmap = nullptr;
  ExpertCountBars* m_bars = nullptr;
  ExpertLoadHeatmap* m_methodMap = nullptr;
  QWidget* m_panelRow = nullptr;  ///< routing heatmap, expert bars, method panel
  class CurveToolbar* m_toolbar = nullptr;
  bool m_panelsChosen = false;
  class AllocationPanel* m_allocation = nullptr;
  QPlainTextEdit* m_log = nullptr;
  QPlainTextEdit* m_config = nullptr;
  QWidget* m_tasksPage = nullptr;
  QLabel* m_tasksNote = nullptr;
  QTableWidget* m_tasks = nullptr;
  QCustomPlot* m_taskBars = nullptr;
  QString m_tasksSignature;  ///< what the task table shows (rebuilt only when it changes)
};

}  // namespace apportion::ui
