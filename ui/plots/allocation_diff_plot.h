// SPDX-License-Identifier: GPL-3.0-or-later
// AllocationDiffPlot: where two runs' allocations differ — an A − B heatmap over layer × module
// of the expert counts or of the total rank per module (Σ over experts), on one symmetric,
// diverging colour scale shared by both signs (blue: A has less, red: A has more). DR-LoRA runs
// also compare their routed-expert ranks (drlora/rank, layer × expert).
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include <QStringList>
#include <QWidget>

#include "core/store/run_reader.h"

class QComboBox;
class QCustomPlot;
class QCPColorMap;
class QCPItemText;

namespace apportion::ui {

/// Per layer × module values of an allocation (row-major), from alloc/experts [layer, module] or
/// alloc/rank [layer, module, expert] summed over experts (padding skipped).
struct ModuleGrid {
  int layers = 0;
  int modules = 0;
  std::vector<double> values;
};
std::optional<ModuleGrid> moduleGrid(const MatrixRecord& record);
/// The allocation quantities both allocation plots offer: experts per module (alloc/experts),
/// total rank per module (alloc/rank), DR-LoRA's rank per routed expert (drlora/rank); the
/// item data is the matrix key.
void addAllocationQuantities(QComboBox* combo);
/// A − B; std::nullopt when the grids' shapes differ.
std::optional<ModuleGrid> gridDifference(const ModuleGrid& a, const ModuleGrid& b);

class AllocationDiffPlot : public QWidget {
  Q_OBJECT

 public:
  explicit AllocationDiffPlot(QWidget* parent = nullptr);
  void setRuns(std::shared_ptr<RunReader> reader,
               const QString& runA,
               const QString& runB,
               const QStringList& moduleNames);
  void refresh();

  /// The difference shown (empty when there is none to show).
  const std::optional<ModuleGrid>& difference() const { return m_diff; }
  QComboBox* quantityCombo() const { return m_quantity; }
  QCustomPlot* plot() const { return m_plot; }

 private:
  void showMessage(const QString& text);

  std::shared_ptr<RunReader> m_reader;
  std::string m_runA, m_runB;
  std::optional<ModuleGrid> m_diff;
  QStringList m_modules;
  QComboBox* m_quantity = nullptr;
  QCustomPlot* m_plot = nullptr;
  QCPColorMap* m_map = nullptr;
  QCPItemText* m_message = nullptr;
};

}  // namespace apportion::ui
