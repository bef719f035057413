// SPDX-License-Identifier: GPL-3.0-or-later
// MetricPlot: one QCustomPlot of named curves (one per metric key or run/key pair), exact on
// long runs: every curve is drawn from min/max buckets per pixel column of the visible range
// (core/series/series_buckets.h), so a single spike in a million rows stays visible. Curves hold
// their rows in memory (appendPoints/setPoints) or follow the run store (addStoreSeries: an
// SQL-bucketed overview first, full resolution when zoomed in; CurveData). Smoothing (EMA or a
// trailing window) draws the smoothed line over the faint raw curve (curves with markers, i.e.
// sparse evaluations, stay raw); the y axis is linear or logarithmic; wheel zooms and drag pans
// the steps (double-click resets), a vertical step cursor follows the view's step slider and a
// click emits stepClicked. Legend: click an entry to hide or show it, double-click to show it
// alone (again: all). Seed-group curves add a translucent min–max band behind their mean.
// Replots are coalesced by a 60 ms single-shot timer started only when idle. Right-click:
// figure export (PNG/SVG/PDF), data CSV (the drawn points and the raw rows), copy, log axis.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <QTimer>
#include <QWidget>

#include "core/series/series_csv.h"
#include "core/series/smoothing.h"
#include "core/store/run_reader.h"

class QCustomPlot;
class QCPGraph;
class QCPItemStraightLine;
class QCPItemText;
class QCPTextElement;

namespace apportion::ui {

class CurveData;

class MetricPlot : public QWidget {
  Q_OBJECT

 public:
  MetricPlot(const QString& title, const QString& yLabel, QWidget* parent = nullptr);
  ~MetricPlot() override;

  /// Adds an in-memory series (no-op returning the existing graph if `id` exists).
  QCPGraph* addSeries(const QString& id,
                      const QString& label,
                      const QColor& color,
                      Qt::PenStyle style = Qt::SolidLine,
                      bool markers = false);
  /// Adds a series that follows `key` of a run in the store and reads it now.
  QCPGraph* addStoreSeries(const QString& id,
                           const QString& label,
                           const QColor& color,
                           std::shared_ptr<RunReader> reader,
                           const std::string& runId,
                           const std::string& key,
                           Qt::PenStyle style = Qt::SolidLine,
                           bool markers = false);
  /// Reads new rows of every store series (live runs); returns whether anything changed.
  bool refreshStoreSeries();
  QCPGraph* series(const QString& id) const;
  /// The faint raw curve drawn under a smoothed series (nullptr without smoothing).
  QCPGraph* rawSeries(const QString& id) const;
  bool hasSeries(const QString& id) const;
  /// Appends points (steps ascending, after those already present) to an in-memory series.
  void appendPoints(const QString& id,
                    const std::vector<int64_t>& steps,
                    const std::vector<double>& values);
  /// Replaces an in-memory series' points (group mean curves are recomputed, not appended).
  void setPoints(const QString& id,
                 const std::vector<int64_t>& steps,
                 const std::vector<double>& values);
  /// Adds a min–max band for `id` (no-op if it exists): two graphs (low, high) outside the
  /// legend, the high one filled down to the low one with a translucent `color`.
  void addBand(const QString& id, const QColor& color);
  /// The band's (low, high) graphs, {nullptr, nullptr} when absent.
  std::pair<QCPGraph*, QCPGraph*> band(const QString& id) const;
  void setBand(const QString& id,
               const std::vector<int64_t>& steps,
               const std::vector<double>& low,
               const std::vector<double>& high);
  /// Removes every series and band.
  void clear();
  void setTitle(const QString& title);
  /// Fixes the y range (e.g. 0..1 for accuracy) instead of rescaling to the data.
  void setFixedYRange(double lower, double upper);
  void setLegendAlignment(Qt::Alignment alignment);
  /// Total number of drawn points over all series.
  int pointCount() const;

  void setSmoothing(const Smoothing& smoothing);
  const Smoothing& smoothing() const { return m_smoothing; }
  void setLogY(bool on);
  bool logY() const { return m_logY; }
  /// Shows or hides a series (with its raw curve and band); the legend entry greys out.
  void setSeriesVisible(const QString& id, bool visible);
  bool isSeriesVisible(const QString& id) const;
  /// `id` leaves the legend and is shown or hidden with `leader` (e.g. a run's eval/loss with
  /// its train/loss, so N compared runs need N legend entries, not 2N).
  void followSeries(const QString& id, const QString& leader);
  /// Shows only `id`; when it is already the only one shown, shows all.
  void soloSeries(const QString& id);
  /// Zooms the steps to [lo, hi] (as the wheel does); resetZoom() follows the data again.
  void setStepRange(double lo, double hi);
  void resetZoom();
  bool isZoomed() const { return m_userZoom; }
  /// A vertical line at `step` (std::nullopt hides it); a zoomed view pans to keep it in view.
  void setStepCursor(std::optional<int64_t> step);

  /// The drawn points and raw rows of every visible series (and bands), for CSV export.
  std::vector<ExportedCurve> exportedCurves();
  /// Writes exportedCurves() as CSV; "" or an error naming the file.
  QString writeCsv(const QString& path);

  QCustomPlot* plot() const { return m_plot; }

 public Q_SLOTS:
  void scheduleReplot();
  /// Re-buckets for the current view, rescales and replots now (tests, screenshots).
  void replotNow();

 Q_SIGNALS:
  /// A click (not a drag) in the plot area at this step.
  void stepClicked(qint64 step);

 private:
  struct Curve;
  Curve* curve(const QString& id) const;
  Curve& makeCurve(const QString& id,
                   const QString& label,
                   const QColor& color,
                   Qt::PenStyle style,
                   bool markers);
  void redraw(Curve& c);
  void redrawAll();
  std::pair<int64_t, int64_t> viewSteps() const;
  int64_t columns() const;
  void rescale();
  void updateLegendItem(const Curve& c);

  QCustomPlot* m_plot = nullptr;
  QCPItemText* m_emptyText = nullptr;
  QCPTextElement* m_title = nullptr;
  QCPItemStraightLine* m_cursor = nullptr;
  std::map<QString, std::unique_ptr<Curve>> m_curves;
  std::vector<QString> m_order;                                ///< insertion order (legend, CSV)
  std::map<QString, std::pair<QCPGraph*, QCPGraph*>> m_bands;  ///< id → (low, high)
  QTimer m_replotTimer;
  Smoothing m_smoothing;
  bool m_logY = false;
  bool m_userZoom = false;
  bool m_settingRange = false;
  bool m_fixedY = false;
  double m_yLower = 0.0;
  double m_yUpper = 1.0;
  QPoint m_pressPos;
};

}  // namespace apportion::ui
