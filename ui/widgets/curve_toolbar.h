// SPDX-License-Identifier: GPL-3.0-or-later
// CurveToolbar: the controls above a view's curves — smoothing (none, EMA with TensorBoard's
// weight, or a trailing window of rows), a logarithmic loss axis and "whole run" (reset zoom) —
// applied to every MetricPlot it is given. The choice is remembered across sessions
// (QSettings "curves/…").
//
// Intended usage:
//   auto* bar = new CurveToolbar;  bar->addPlot(lossPlot, /*logAxis=*/true); bar->addPlot(accPlot);
#pragma once

#include <vector>

#include <QWidget>

#include "core/series/smoothing.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QSpinBox;

namespace apportion::ui {

class MetricPlot;

class CurveToolbar : public QWidget {
  Q_OBJECT

 public:
  explicit CurveToolbar(QWidget* parent = nullptr);
  /// Applies the current settings to `plot` now and on every change; the log switch acts only
  /// on plots added with logAxis (loss, not accuracy).
  void addPlot(MetricPlot* plot, bool logAxis = false);

  Smoothing smoothing() const;
  void setSmoothing(const Smoothing& smoothing);
  bool logY() const;
  void setLogY(bool on);
  QComboBox* kindCombo() const { return m_kind; }

 private:
  void apply();

  std::vector<std::pair<MetricPlot*, bool>> m_plots;
  QComboBox* m_kind = nullptr;
  QDoubleSpinBox* m_weight = nullptr;
  QSpinBox* m_window = nullptr;
  QCheckBox* m_log = nullptr;
};

}  // namespace apportion::ui
