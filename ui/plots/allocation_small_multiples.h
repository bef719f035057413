// SPDX-License-Identifier: GPL-3.0-or-later
// AllocationSmallMultiples: the allocations of N compared runs as small multiples — one layer ×
// module heatmap per run (experts per module, total rank per module, or DR-LoRA's rank per
// routed expert; the newest record), side by side in a grid, all on ONE viridis colour scale
// (shared range from the smallest to the largest cell over all runs), so equal colours mean
// equal values across panels. A run without the record gets an empty panel saying so.
//
// Intended usage:
//   AllocationSmallMultiples m;
//   m.setRuns(reader, {{"A mola-2468", runId1}, {"B uniform", runId2}, ...}, moduleNames);
//   m.sharedRange();   // (lower, upper) of the one colour scale
#pragma once

#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <QString>
#include <QStringList>
#include <QWidget>

#include "core/store/run_reader.h"
#include "ui/plots/allocation_diff_plot.h"

class QComboBox;
class QCustomPlot;
class QCPColorScale;

namespace apportion::ui {

class AllocationSmallMultiples : public QWidget {
  Q_OBJECT

 public:
  struct Panel {
    QString title;  ///< e.g. "A mola-2468-s0"
    QString runId;
  };

  explicit AllocationSmallMultiples(QWidget* parent = nullptr);
  void setRuns(std::shared_ptr<RunReader> reader,
               const std::vector<Panel>& panels,
               const QStringList& moduleNames);
  void refresh();

  /// The grid each panel shows (std::nullopt: the run recorded no such allocation).
  const std::vector<std::optional<ModuleGrid>>& grids() const { return m_grids; }
  /// The one colour range of every panel (lower, upper).
  std::pair<double, double> sharedRange() const { return m_range; }
  QComboBox* quantityCombo() const { return m_quantity; }
  QCustomPlot* plot() const { return m_plot; }
  /// side,run_id,layer,column,value rows of every panel.
  QString writeCsv(const QString& path) const;

 private:
  std::shared_ptr<RunReader> m_reader;
  std::vector<Panel> m_panels;
  QStringList m_modules;
  std::vector<std::optional<ModuleGrid>> m_grids;
  std::pair<double, double> m_range{0.0, 1.0};
  QComboBox* m_quantity = nullptr;
  QCustomPlot* m_plot = nullptr;
  QCPColorScale* m_scale = nullptr;
};

}  // namespace apportion::ui
