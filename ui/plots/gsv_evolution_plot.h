// SPDX-License-Identifier: GPL-3.0-or-later
// GsvEvolutionPlot: how GuiLoMo's GuidedSelection Vectors of one adapted module evolve — a
// steps (x) × GSV index (y) heatmap of σ(g) with the argmax line drawn over it (the count the
// readout would pick: experts = max(2, argmax+1), rank = argmax+1). Selectors choose the layer,
// the module, and the expert GSV or one expert's rank GSV. Reads the guilomo/gsv_expert and
// guilomo/gsv_rank matrix records of a run.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <QStringList>
#include <QWidget>

#include "core/store/run_reader.h"

class QComboBox;
class QCustomPlot;
class QCPColorMap;
class QCPGraph;
class QCPItemText;
class QSpinBox;

namespace apportion::ui {

/// One GSV slice over steps: values[step_index][gsv_index] and the argmax per step.
struct GsvSeries {
  std::vector<int64_t> steps;
  int length = 0;                           ///< GSV length (n_max or r_max)
  std::vector<std::vector<double>> values;  ///< [step][index]
  std::vector<int> argmax;                  ///< [step], 0-based
};

/// Extracts a slice: [layer, module, n] (expertRankOf < 0) or [layer, module, expert, r]
/// records. Records with another shape are skipped.
GsvSeries sliceGsv(const std::vector<MatrixRecord>& records, int layer, int module, int expert);

class GsvEvolutionPlot : public QWidget {
  Q_OBJECT

 public:
  explicit GsvEvolutionPlot(QWidget* parent = nullptr);

  /// Follows a run's GSV records; module names label the module selector.
  void setSource(std::shared_ptr<RunReader> reader,
                 const QString& runId,
                 const QStringList& moduleNames);
  void refresh();
  /// Chooses the slice: expert < 0 shows the expert GSV, else that expert's rank GSV.
  void select(int layer, int module, int expert);

  const GsvSeries& series() const { return m_series; }
  QCustomPlot* plot() const { return m_plot; }

 private:
  void draw();

  std::shared_ptr<RunReader> m_reader;
  std::string m_runId;
  QStringList m_modules;
  GsvSeries m_series;
  QSpinBox* m_layer = nullptr;
  QComboBox* m_module = nullptr;
  QComboBox* m_vector = nullptr;
  QCustomPlot* m_plot = nullptr;
  QCPColorMap* m_map = nullptr;
  QCPGraph* m_argmax = nullptr;
  QCPItemText* m_emptyText = nullptr;
};

}  // namespace apportion::ui
