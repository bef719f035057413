// SPDX-License-Identifier: GPL-3.0-or-later
// ExpertCountBars: experts per layer as QCPBars, from the run's "alloc/experts" matrix
// ([layer, module] expert count per adapted module). The bar is the largest count over the
// layer's modules; the footer gives the total number of experts.
#pragma once

#include <memory>
#include <vector>

#include <QWidget>

#include "core/store/run_reader.h"

class QCustomPlot;
class QCPBars;
class QCPItemText;

namespace apportion::ui {

class ExpertCountBars : public QWidget {
  Q_OBJECT

 public:
  explicit ExpertCountBars(QWidget* parent = nullptr);

  void setSource(std::shared_ptr<RunReader> reader, const QString& runId);
  /// Re-reads the newest alloc/experts record.
  void refresh();
  /// Sets the bar colour (the run colour).
  void setColor(const QColor& color);

  /// Experts per layer as shown (empty when nothing is recorded).
  const std::vector<int>& expertsPerLayer() const { return m_perLayer; }
  int totalExperts() const { return m_total; }
  QCPBars* bars() const { return m_bars; }
  QCustomPlot* plot() const { return m_plot; }

 private:
  std::shared_ptr<RunReader> m_reader;
  std::string m_runId;
  std::vector<int> m_perLayer;
  int m_total = 0;
  QCustomPlot* m_plot = nullptr;
  QCPBars* m_bars = nullptr;
  QCPItemText* m_note = nullptr;
};

}  // namespace apportion::ui
