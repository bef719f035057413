// SPDX-License-Identifier: GPL-3.0-or-later
// ExpertLoadHeatmap: a per-layer matrix record as a layer (y) × column (x) QCPColorMap — routing
// load per expert averaged over the adapted modules by default; also ranks, saliency or expert
// counts per module (setKey/setLabels) — with a step scrubber (QSlider over the recorded steps,
// arrow keys step through them) and a "step N" label. NaN cells (a layer with fewer experts) are
// "no expert" and drawn grey.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <QString>
#include <QStringList>
#include <QWidget>

#include "core/store/run_reader.h"

class QCustomPlot;
class QCPColorMap;
class QCPColorScale;
class QCPItemText;
class QCPTextElement;
class QLabel;
class QSlider;

namespace apportion::ui {

/// A matrix reduced to layer × expert (row-major [layer][expert]); NaN = no expert.
struct LayerExpertGrid {
  int layers = 0;
  int experts = 0;
  std::vector<double> values;
  double at(int layer, int expert) const {
    return values[static_cast<size_t>(layer) * static_cast<size_t>(experts) +
                  static_cast<size_t>(expert)];
  }
};

/// [layer, module, expert] → mean over modules ignoring NaN; [layer, expert] is taken as is.
LayerExpertGrid reduceToLayerExpert(const MatrixRecord& record);

class ExpertLoadHeatmap : public QWidget {
  Q_OBJECT

 public:
  explicit ExpertLoadHeatmap(QWidget* parent = nullptr);

  /// Follows `key` of a run (default moe/load_fraction); clears with a null reader.
  void setSource(std::shared_ptr<RunReader> reader,
                 const QString& runId,
                 const QString& key = QStringLiteral("moe/load_fraction"));
  /// Re-reads the recorded steps; the slider stays on the newest step if it was there.
  void refresh();
  /// Title, x-axis and colour-scale labels (defaults: routing load per expert).
  void setLabels(const QString& title, const QString& xLabel, const QString& valueLabel);
  /// Names for the x columns (e.g. module names); empty: numbered columns.
  void setColumnNames(const QStringList& names);
  /// Text shown when the run has no record of the key.
  void setEmptyText(const QString& text) { m_noDataText = text; }

  /// Shows the newest recorded step at or before `step` (the first one if none is), as the
  /// slider would; the curves' step cursor and clicks drive it.
  void showNearestStep(int64_t step);
  /// layer,column,value rows of the shown step (figure menu "Export data as CSV…").
  QString writeCsv(const QString& path) const;

  const std::vector<int64_t>& steps() const { return m_steps; }
  std::optional<int64_t> currentStep() const;
  const LayerExpertGrid& grid() const { return m_grid; }
  QSlider* slider() const { return m_slider; }
  QCPColorMap* colorMap() const { return m_map; }
  QCustomPlot* plot() const { return m_plot; }

 Q_SIGNALS:
  /// A step's record is shown (slider, refresh or showNearestStep).
  void stepShown(qint64 step);

 private Q_SLOTS:
  void onSliderMoved(int index);

 private:
  void showStep(int index);
  void showEmpty(const QString& why);

  std::shared_ptr<RunReader> m_reader;
  std::string m_runId;
  std::string m_key;
  std::vector<int64_t> m_steps;
  LayerExpertGrid m_grid;
  int m_shownIndex = -1;
  QCustomPlot* m_plot = nullptr;
  QCPColorMap* m_map = nullptr;
  QCPColorScale* m_scale = nullptr;
  QCPItemText* m_emptyText = nullptr;
  QCPTextElement* m_title = nullptr;
  QStringList m_columnNames;
  QString m_noDataText;
  QSlider* m_slider = nullptr;
  QLabel* m_stepLabel = nullptr;
};

}  // namespace apportion::ui
