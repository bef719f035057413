// SPDX-License-Identifier: GPL-3.0-or-later
// MetricPlot's private per-curve state (its graphs and rows), shared by metric_plot.cpp and
// metric_plot_export.cpp. Not part of the public interface.
#pragma once

#include <QColor>
#include <QString>

#include "ui/plots/curve_data.h"
#include "ui/plots/metric_plot.h"

class QCPGraph;

namespace apportion::ui {

struct MetricPlot::Curve {
  QString id;
  QString label;
  QColor color;
  bool markers = false;
  bool visible = true;
  bool bandPart = false;  ///< low or high edge of a band (not in the legend, never smoothed)
  QString bandOf;         ///< the series id a band edge belongs to
  QString leader;         ///< shown and hidden with this series (followSeries)
  QCPGraph* graph = nullptr;
  QCPGraph* raw = nullptr;  ///< faint raw curve under a smoothed line
  CurveData data;
  bool smoothable() const { return !markers && !bandPart; }
};

}  // namespace apportion::ui
