// SPDX-License-Identifier: GPL-3.0-or-later
// MetricPlot: one QCustomPlot with named series (one QCPGraph per metric key or run/key pair).
// Points are appended incrementally; replots are coalesced by a 60 ms single-shot timer that is
// started only when idle (PlotJuggler's pattern), then drawn with rpQueuedReplot. Seed-group
// curves add a translucent min–max band behind their mean (channel fill between two graphs).
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include <QTimer>
#include <QWidget>

class QCustomPlot;
class QCPGraph;
class QCPItemText;
class QCPTextElement;

namespace apportion::ui {

class MetricPlot : public QWidget {
  Q_OBJECT

 public:
  MetricPlot(const QString& title, const QString& yLabel, QWidget* parent = nullptr);

  /// Adds a series (no-op returning the existing graph if `id` exists).
  QCPGraph* addSeries(const QString& id,
                      const QString& label,
                      const QColor& color,
                      Qt::PenStyle style = Qt::SolidLine,
                      bool markers = false);
  QCPGraph* series(const QString& id) const;
  bool hasSeries(const QString& id) const { return m_series.count(id) > 0; }
  /// Appends points (steps ascending, after those already present) and schedules a replot.
  void appendPoints(const QString& id,
                    const std::vector<int64_t>& steps,
                    const std::vector<double>& values);
  /// Replaces a series' points (group mean curves are recomputed, not appended).
  void setPoints(const QString& id,
                 const std::vector<int64_t>& steps,
                 const std::vector<double>& values);
  /// Adds a min–max band for `id` (no-op if it exists): two graphs (low, high) outside the
  /// legend, the high one filled down to the low one with a translucent `color`.
  void addBand(const QString& id, const QColor& color);
  /// The band's (low, high) graphs, {nullptr, nullptr} when absent.
  std::pair<QCPGraph*, QCPGraph*> band(const QString& id) const;
  /// Replaces a band's points.
  void setBand(const QString& id,
               const std::vector<int64_t>& steps,
               const std::vector<double>& low,
               const std::vector<double>& high);
  /// Removes every series and band.
  void clear();
  /// Replaces the title above the plot.
  void setTitle(const QString& title);
  /// Fixes the y range (e.g. 0..1 for accuracy) instead of rescaling to the data.
  void setFixedYRange(double lower, double upper);
  /// Where the legend sits inside the axis rect (default top right).
  void setLegendAlignment(Qt::Alignment alignment);
  /// Total number of points over all series.
  int pointCount() const;

  QCustomPlot* plot() const { return m_plot; }

 public Q_SLOTS:
  /// Coalesced replot: starts the 60 ms timer unless it is already running.
  void scheduleReplot();
  /// Rescales and replots now (tests, screenshots).
  void replotNow();

 private:
  void rescale();

  QCustomPlot* m_plot = nullptr;
  QCPItemText* m_emptyText = nullptr;
  QCPTextElement* m_title = nullptr;
  std::map<QString, QCPGraph*> m_series;
  std::map<QString, std::pair<QCPGraph*, QCPGraph*>> m_bands;  ///< id → (low, high)
  QTimer m_replotTimer;
  bool m_fixedY = false;
  double m_yLower = 0.0;
  double m_yUpper = 1.0;
};

}  // namespace apportion::ui
