// SPDX-License-Identifier: GPL-3.0-or-later
// MetricPlot: incremental QCPGraph appends with a coalesced replot.
#include "ui/plots/metric_plot.h"

#include <cmath>

#include <qcustomplot.h>
#include <QVBoxLayout>

namespace apportion::ui {

MetricPlot::MetricPlot(const QString& title, const QString& yLabel, QWidget* parent)
    : QWidget(parent), m_plot(new QCustomPlot(this)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(m_plot);
  setMinimumSize(240, 180);

  m_plot->plotLayout()->insertRow(0);
  auto* titleElement = new QCPTextElement(m_plot, title, QFont(font().family(), 10, QFont::Bold));
  m_plot->plotLayout()->addElement(0, 0, titleElement);
  m_plot->xAxis->setLabel(tr("step"));
  m_plot->yAxis->setLabel(yLabel);
  m_plot->legend->setVisible(true);
  m_plot->legend->setFont(QFont(font().family(), 8));
  m_plot->legend->setBrush(QColor(255, 255, 255, 200));
  m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
  m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  m_plot->setNoAntialiasingOnDrag(true);

  m_emptyText = new QCPItemText(m_plot);
  m_emptyText->position->setType(QCPItemPosition::ptAxisRectRatio);
  m_emptyText->position->setCoords(0.5, 0.5);
  m_emptyText->setText(tr("no data yet"));
  m_emptyText->setColor(Qt::gray);

  m_replotTimer.setSingleShot(true);
  m_replotTimer.setInterval(60);
  connect(&m_replotTimer, &QTimer::timeout, this, &MetricPlot::replotNow);
}

QCPGraph* MetricPlot::addSeries(const QString& id,
                                const QString& label,
                                const QColor& color,
                                Qt::PenStyle style,
                                bool markers) {
  if (auto* existing = series(id)) return existing;
  QCPGraph* graph = m_plot->addGraph();
  graph->setName(label);
  QPen pen(color, 1.6, style);
  graph->setPen(pen);
  if (markers) graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, color, 5));
  graph->setAdaptiveSampling(true);
  m_series[id] = graph;
  scheduleReplot();
  return graph;
}

QCPGraph* MetricPlot::series(const QString& id) const {
  const auto it = m_series.find(id);
  return it == m_series.end() ? nullptr : it->second;
}

void MetricPlot::appendPoints(const QString& id,
                              const std::vector<int64_t>& steps,
                              const std::vector<double>& values) {
  QCPGraph* graph = series(id);
  if (!graph || steps.empty()) return;
  QVector<QCPGraphData> points;
  points.reserve(static_cast<int>(steps.size()));
  for (size_t i = 0; i < steps.size() && i < values.size(); ++i) {
    const double v = std::isfinite(values[i]) ? values[i] : std::nan("");  // inf → gap
    points.append(QCPGraphData(static_cast<double>(steps[i]), v));
  }
  graph->data()->add(points, /*alreadySorted=*/true);
  scheduleReplot();
}

void MetricPlot::clear() {
  m_plot->clearGraphs();
  m_series.clear();
  scheduleReplot();
}

void MetricPlot::setFixedYRange(double lower, double upper) {
  m_fixedY = true;
  m_yLower = lower;
  m_yUpper = upper;
  scheduleReplot();
}

void MetricPlot::setLegendAlignment(Qt::Alignment alignment) {
  m_plot->axisRect()->insetLayout()->setInsetAlignment(0, alignment);
  scheduleReplot();
}

int MetricPlot::pointCount() const {
  int n = 0;
  for (const auto& [id, graph] : m_series) n += graph->dataCount();
  return n;
}

void MetricPlot::scheduleReplot() {
  if (!m_replotTimer.isActive()) m_replotTimer.start();
}

void MetricPlot::rescale() {
  bool found = false;
  QCPRange x;
  QCPRange y;
  for (const auto& [id, graph] : m_series) {
    bool okX = false;
    bool okY = false;
    const QCPRange gx = graph->getKeyRange(okX);
    const QCPRange gy = graph->getValueRange(okY);
    if (!okX || !okY) continue;
    x = found ? QCPRange(std::min(x.lower, gx.lower), std::max(x.upper, gx.upper)) : gx;
    y = found ? QCPRange(std::min(y.lower, gy.lower), std::max(y.upper, gy.upper)) : gy;
    found = true;
  }
  m_emptyText->setVisible(!found);
  if (!found) return;
  const double xPad = std::max(1.0, 0.02 * x.size());
  m_plot->xAxis->setRange(std::max(0.0, x.lower - xPad), x.upper + xPad);
  if (m_fixedY) {
    m_plot->yAxis->setRange(m_yLower, m_yUpper);
  } else {
    const double yPad = y.size() > 0 ? 0.06 * y.size() : std::max(0.05, std::abs(y.lower) * 0.1);
    m_plot->yAxis->setRange(y.lower - yPad, y.upper + yPad);
  }
}

void MetricPlot::replotNow() {
  m_replotTimer.stop();
  rescale();
  m_plot->legend->setVisible(!m_series.empty());
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace apportion::ui
