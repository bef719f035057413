// SPDX-License-Identifier: GPL-3.0-or-later
// MetricPlot: incremental QCPGraph appends with a coalesced replot.
#include "ui/plots/metric_plot.h"

#include <cmath>

#include <qcustomplot.h>
#include <QVBoxLayout>

namespace apportion::ui {

namespace {

QVector<QCPGraphData> toPoints(const std::vector<int64_t>& steps,
                               const std::vector<double>& values) {
  QVector<QCPGraphData> points;
  points.reserve(static_cast<int>(steps.size()));
  for (size_t i = 0; i < steps.size() && i < values.size(); ++i) {
    const double v = std::isfinite(values[i]) ? values[i] : std::nan("");  // inf → gap
    points.append(QCPGraphData(static_cast<double>(steps[i]), v));
  }
  return points;
}

}  // namespace

MetricPlot::MetricPlot(const QString& title, const QString& yLabel, QWidget* parent)
    : QWidget(parent), m_plot(new QCustomPlot(this)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(m_plot);
  setMinimumSize(240, 180);

  m_plot->plotLayout()->insertRow(0);
  m_title = new QCPTextElement(m_plot, title, QFont(font().family(), 10, QFont::Bold));
  m_plot->plotLayout()->addElement(0, 0, m_title);
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
  graph->data()->add(toPoints(steps, values), /*alreadySorted=*/true);
  scheduleReplot();
}

void MetricPlot::setPoints(const QString& id,
                           const std::vector<int64_t>& steps,
                           const std::vector<double>& values) {
  QCPGraph* graph = series(id);
  if (!graph) return;
  graph->data()->set(toPoints(steps, values), /*alreadySorted=*/true);
  scheduleReplot();
}

void MetricPlot::addBand(const QString& id, const QColor& color) {
  if (m_bands.count(id)) return;
  QColor edge = color;
  edge.setAlpha(90);
  QColor fill = color;
  fill.setAlpha(60);
  QCPGraph* low = m_plot->addGraph();
  QCPGraph* high = m_plot->addGraph();
  for (QCPGraph* g : {low, high}) {
    g->setPen(QPen(edge, 0.8));
    g->removeFromLegend();
    g->setSelectable(QCP::stNone);
  }
  low->setName(id + QStringLiteral(" (min)"));
  high->setName(id + QStringLiteral(" (max)"));
  high->setBrush(fill);
  high->setChannelFillGraph(low);
  // Bands go behind every line: their own layer between the grid and the graphs.
  if (!m_plot->layer(QStringLiteral("bands")))
    m_plot->addLayer(QStringLiteral("bands"), m_plot->layer(QStringLiteral("grid")),
                     QCustomPlot::limAbove);
  low->setLayer(QStringLiteral("bands"));
  high->setLayer(QStringLiteral("bands"));
  m_bands[id] = {low, high};
  scheduleReplot();
}

std::pair<QCPGraph*, QCPGraph*> MetricPlot::band(const QString& id) const {
  const auto it = m_bands.find(id);
  return it == m_bands.end() ? std::pair<QCPGraph*, QCPGraph*>{nullptr, nullptr} : it->second;
}

void MetricPlot::setBand(const QString& id,
                         const std::vector<int64_t>& steps,
                         const std::vector<double>& low,
                         const std::vector<double>& high) {
  const auto [lowGraph, highGraph] = band(id);
  if (!lowGraph) return;
  lowGraph->data()->set(toPoints(steps, low), /*alreadySorted=*/true);
  highGraph->data()->set(toPoints(steps, high), /*alreadySorted=*/true);
  scheduleReplot();
}

void MetricPlot::clear() {
  m_plot->clearGraphs();
  m_series.clear();
  m_bands.clear();
  scheduleReplot();
}

void MetricPlot::setTitle(const QString& title) {
  m_title->setText(title);
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
  std::vector<QCPGraph*> graphs;
  for (const auto& [id, graph] : m_series) graphs.push_back(graph);
  for (const auto& [id, lowHigh] : m_bands) {
    graphs.push_back(lowHigh.first);
    graphs.push_back(lowHigh.second);
  }
  for (QCPGraph* graph : graphs) {
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
  // A point at step 0 (the step-0 baseline evaluation) stays whole: pad left of it too.
  const double xLower = x.lower <= 0.0 ? x.lower - xPad : std::max(0.0, x.lower - xPad);
  m_plot->xAxis->setRange(xLower, x.upper + xPad);
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
