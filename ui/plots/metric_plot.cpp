// SPDX-License-Identifier: GPL-3.0-or-later
// MetricPlot: bucketed, smoothable, zoomable curves with a coalesced replot.
#include "ui/plots/metric_plot.h"

#include <algorithm>
#include <cmath>

#include <qcustomplot.h>
#include <QVBoxLayout>

#include "core/common/error.h"
#include "ui/plots/curve_data.h"
#include "ui/plots/figure_export.h"
#include "ui/plots/metric_plot_curve.h"
#include "ui/plots/plot_style.h"

namespace apportion::ui {

namespace {

QVector<QCPGraphData> toGraphData(const DrawnSeries& d) {
  QVector<QCPGraphData> points;
  points.reserve(static_cast<int>(d.steps.size()));
  for (size_t i = 0; i < d.steps.size(); ++i)
    points.append(
        QCPGraphData(d.steps[i], std::isfinite(d.values[i]) ? d.values[i] : std::nan("")));
  return points;
}

QString bandId(const QString& id, bool high) {
  return id + (high ? QStringLiteral("\n(max)") : QStringLiteral("\n(min)"));
}

}  // namespace

MetricPlot::MetricPlot(const QString& title, const QString& yLabel, QWidget* parent)
    : QWidget(parent), m_plot(new QCustomPlot(this)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(m_plot);
  setMinimumSize(240, 180);

  applyFigureStyle(m_plot);
  m_plot->plotLayout()->insertRow(0);
  m_title = new QCPTextElement(m_plot, title, QFont(QStringLiteral("DejaVu Sans"), 9, QFont::Bold));
  m_plot->plotLayout()->addElement(0, 0, m_title);
  m_plot->xAxis->setLabel(tr("step"));
  m_plot->yAxis->setLabel(yLabel);
  m_plot->legend->setVisible(true);
  m_plot->legend->setBrush(QColor(255, 255, 255, 200));
  m_plot->legend->setSelectableParts(QCPLegend::spNone);
  m_plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
  m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  m_plot->axisRect()->setRangeDrag(Qt::Horizontal);
  m_plot->axisRect()->setRangeZoom(Qt::Horizontal);
  m_plot->setNoAntialiasingOnDrag(true);
  m_plot->setPlottingHint(QCP::phFastPolylines, true);
  m_plot->setToolTip(
      tr("Wheel: zoom the steps · drag: pan · double-click: whole run · click a legend entry to "
         "hide it, double-click to show it alone · right-click: export, log axis"));

  m_emptyText = new QCPItemText(m_plot);
  m_emptyText->position->setType(QCPItemPosition::ptAxisRectRatio);
  m_emptyText->position->setCoords(0.5, 0.5);
  m_emptyText->setText(tr("no data yet"));
  m_emptyText->setColor(Qt::gray);
  m_cursor = new QCPItemStraightLine(m_plot);
  m_cursor->setPen(QPen(QColor(120, 120, 120), 1.0, Qt::DashLine));
  m_cursor->setVisible(false);
  m_cursor->setSelectable(false);

  connect(m_plot->xAxis, qOverload<const QCPRange&>(&QCPAxis::rangeChanged), this, [this] {
    if (m_settingRange) return;
    m_userZoom = true;  // wheel or drag
    scheduleReplot();
  });
  connect(m_plot, &QCustomPlot::legendClick, this,
          [this](QCPLegend*, QCPAbstractLegendItem* item, QMouseEvent*) {
            if (auto* p = qobject_cast<QCPPlottableLegendItem*>(item))
              for (const QString& id : m_order)
                if (curve(id)->graph == p->plottable()) setSeriesVisible(id, !curve(id)->visible);
          });
  connect(m_plot, &QCustomPlot::legendDoubleClick, this,
          [this](QCPLegend*, QCPAbstractLegendItem* item, QMouseEvent*) {
            if (auto* p = qobject_cast<QCPPlottableLegendItem*>(item))
              for (const QString& id : m_order)
                if (curve(id)->graph == p->plottable()) soloSeries(id);
          });
  connect(m_plot, &QCustomPlot::mouseDoubleClick, this, [this](QMouseEvent* event) {
    if (m_plot->legend->selectTest(event->pos(), false) < 0) resetZoom();
  });
  connect(m_plot, &QCustomPlot::mousePress, this,
          [this](QMouseEvent* event) { m_pressPos = event->pos(); });
  connect(m_plot, &QCustomPlot::mouseRelease, this, [this](QMouseEvent* event) {
    if (event->button() != Qt::LeftButton || (event->pos() - m_pressPos).manhattanLength() > 3 ||
        !m_plot->axisRect()->rect().contains(event->pos()) ||
        m_plot->legend->selectTest(event->pos(), false) >= 0)
      return;
    Q_EMIT stepClicked(
        static_cast<qint64>(std::llround(m_plot->xAxis->pixelToCoord(event->pos().x()))));
  });
  installFigureMenu(
      m_plot, [this](const QString& path) { return writeCsv(path); },
      [this](QMenu* menu) {
        QAction* log = menu->addAction(tr("Logarithmic y axis"));
        log->setCheckable(true);
        log->setChecked(m_logY);
        connect(log, &QAction::toggled, this, &MetricPlot::setLogY);
        menu->addAction(tr("Show the whole run (reset zoom)"), this, &MetricPlot::resetZoom);
        menu->addAction(tr("Show all series"), this, [this] {
          for (const QString& id : m_order) setSeriesVisible(id, true);
        });
      });

  m_replotTimer.setSingleShot(true);
  m_replotTimer.setInterval(60);
  connect(&m_replotTimer, &QTimer::timeout, this, &MetricPlot::replotNow);
}

MetricPlot::~MetricPlot() = default;

MetricPlot::Curve* MetricPlot::curve(const QString& id) const {
  const auto it = m_curves.find(id);
  return it == m_curves.end() ? nullptr : it->second.get();
}

MetricPlot::Curve& MetricPlot::makeCurve(const QString& id,
                                         const QString& label,
                                         const QColor& color,
                                         Qt::PenStyle style,
                                         bool markers) {
  auto c = std::make_unique<Curve>();
  c->id = id;
  c->label = label;
  c->color = color;
  c->markers = markers;
  c->graph = m_plot->addGraph();
  c->graph->setName(label);
  c->graph->setPen(QPen(color, kCurveWidth, style));
  if (markers) c->graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, color, 5));
  c->graph->setAdaptiveSampling(false);  // the buckets already are the per-pixel extremes
  Curve& ref = *c;
  m_curves[id] = std::move(c);
  m_order.push_back(id);
  scheduleReplot();
  return ref;
}

QCPGraph* MetricPlot::addSeries(const QString& id,
                                const QString& label,
                                const QColor& color,
                                Qt::PenStyle style,
                                bool markers) {
  if (Curve* existing = curve(id)) return existing->graph;
  return makeCurve(id, label, color, style, markers).graph;
}

QCPGraph* MetricPlot::addStoreSeries(const QString& id,
                                     const QString& label,
                                     const QColor& color,
                                     std::shared_ptr<RunReader> reader,
                                     const std::string& runId,
                                     const std::string& key,
                                     Qt::PenStyle style,
                                     bool markers) {
  if (Curve* existing = curve(id)) return existing->graph;
  Curve& c = makeCurve(id, label, color, style, markers);
  c.data.setStore(std::move(reader), runId, key);
  try {
    c.data.refresh();
  } catch (const Error&) {
    // a busy or damaged store: the next refresh retries
  }
  redraw(c);
  return c.graph;
}

bool MetricPlot::refreshStoreSeries() {
  bool changed = false;
  for (auto& [id, c] : m_curves) {
    if (!c->data.isStore()) continue;
    try {
      if (c->data.refresh()) {
        changed = true;
        redraw(*c);
      }
    } catch (const Error&) {
    }
  }
  if (changed) scheduleReplot();
  return changed;
}

QCPGraph* MetricPlot::series(const QString& id) const {
  const Curve* c = curve(id);
  return c && !c->bandPart ? c->graph : nullptr;
}

QCPGraph* MetricPlot::rawSeries(const QString& id) const {
  const Curve* c = curve(id);
  return c ? c->raw : nullptr;
}

bool MetricPlot::hasSeries(const QString& id) const { return series(id) != nullptr; }

void MetricPlot::appendPoints(const QString& id,
                              const std::vector<int64_t>& steps,
                              const std::vector<double>& values) {
  Curve* c = curve(id);
  if (!c || steps.empty() || c->data.isStore()) return;
  c->data.append(steps, values);
  redraw(*c);
  scheduleReplot();
}

void MetricPlot::setPoints(const QString& id,
                           const std::vector<int64_t>& steps,
                           const std::vector<double>& values) {
  Curve* c = curve(id);
  if (!c || c->data.isStore()) return;
  c->data.set(steps, values);
  redraw(*c);
  scheduleReplot();
}

void MetricPlot::addBand(const QString& id, const QColor& color) {
  if (m_bands.count(id)) return;
  QColor edge = color;
  edge.setAlpha(90);
  QColor fill = color;
  fill.setAlpha(60);
  if (!m_plot->layer(QStringLiteral("bands")))
    m_plot->addLayer(QStringLiteral("bands"), m_plot->layer(QStringLiteral("grid")),
                     QCustomPlot::limAbove);
  QCPGraph* edges[2] = {nullptr, nullptr};
  for (int high = 0; high < 2; ++high) {
    Curve& c = makeCurve(bandId(id, high), id + (high ? tr(" (max)") : tr(" (min)")), edge,
                         Qt::SolidLine, false);
    c.bandPart = true;
    c.bandOf = id;
    c.graph->setPen(QPen(edge, 0.8));
    c.graph->removeFromLegend();
    c.graph->setSelectable(QCP::stNone);
    c.graph->setLayer(QStringLiteral("bands"));  // behind every line
    edges[high] = c.graph;
  }
  edges[1]->setBrush(fill);
  edges[1]->setChannelFillGraph(edges[0]);
  m_bands[id] = {edges[0], edges[1]};
}

std::pair<QCPGraph*, QCPGraph*> MetricPlot::band(const QString& id) const {
  const auto it = m_bands.find(id);
  return it == m_bands.end() ? std::pair<QCPGraph*, QCPGraph*>{nullptr, nullptr} : it->second;
}

void MetricPlot::setBand(const QString& id,
                         const std::vector<int64_t>& steps,
                         const std::vector<double>& low,
                         const std::vector<double>& high) {
  if (!m_bands.count(id)) return;
  setPoints(bandId(id, false), steps, low);
  setPoints(bandId(id, true), steps, high);
}

void MetricPlot::clear() {
  m_plot->clearGraphs();
  m_curves.clear();
  m_order.clear();
  m_bands.clear();
  m_userZoom = false;
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
  for (const auto& [id, c] : m_curves)
    if (!c->bandPart) n += c->graph->dataCount();
  return n;
}

void MetricPlot::setSmoothing(const Smoothing& smoothing) {
  m_smoothing = smoothing;
  redrawAll();
  scheduleReplot();
}

void MetricPlot::setLogY(bool on) {
  if (m_logY == on) return;
  m_logY = on;
  m_plot->yAxis->setScaleType(on ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
  if (on)
    m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
  else
    m_plot->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
  scheduleReplot();
}

void MetricPlot::updateLegendItem(const Curve& c) {
  if (auto* item = m_plot->legend->itemWithPlottable(c.graph))
    item->setTextColor(c.visible ? Qt::black : QColor(170, 170, 170));
}

void MetricPlot::followSeries(const QString& id, const QString& leader) {
  Curve* c = curve(id);
  if (!c || c->bandPart || id == leader) return;
  c->leader = leader;
  c->graph->removeFromLegend();
  if (const Curve* l = curve(leader)) setSeriesVisible(id, l->visible);
}

void MetricPlot::setSeriesVisible(const QString& id, bool visible) {
  Curve* c = curve(id);
  if (!c || c->bandPart) return;
  for (const QString& other : m_order)
    if (curve(other)->leader == id) setSeriesVisible(other, visible);
  c->visible = visible;
  c->graph->setVisible(visible);
  if (c->raw) c->raw->setVisible(visible);
  for (const bool high : {false, true})
    if (Curve* edge = curve(bandId(id, high))) {
      edge->visible = visible;
      edge->graph->setVisible(visible);
    }
  updateLegendItem(*c);
  scheduleReplot();
}

bool MetricPlot::isSeriesVisible(const QString& id) const {
  const Curve* c = curve(id);
  return c && c->visible;
}

void MetricPlot::soloSeries(const QString& id) {
  bool othersHidden = true;
  const auto solo = [this](const QString& other) {
    return !curve(other)->bandPart && curve(other)->leader.isEmpty();
  };
  for (const QString& other : m_order)
    if (other != id && solo(other) && curve(other)->visible) othersHidden = false;
  for (const QString& other : m_order)
    if (solo(other)) setSeriesVisible(other, othersHidden || other == id);
}

void MetricPlot::setStepRange(double lo, double hi) {
  m_userZoom = true;
  m_settingRange = true;
  m_plot->xAxis->setRange(lo, hi);
  m_settingRange = false;
  scheduleReplot();  // re-buckets for the new range
}

void MetricPlot::resetZoom() {
  m_userZoom = false;
  redrawAll();
  replotNow();
}

void MetricPlot::setStepCursor(std::optional<int64_t> step) {
  m_cursor->setVisible(step.has_value());
  if (step) {
    const double x = static_cast<double>(*step);
    m_cursor->point1->setCoords(x, 1.0);
    m_cursor->point2->setCoords(x, 2.0);
    const QCPRange range = m_plot->xAxis->range();
    if (m_userZoom && (x < range.lower || x > range.upper))
      setStepRange(x - range.size() / 2, x + range.size() / 2);
  }
  scheduleReplot();
}

int64_t MetricPlot::columns() const {
  const int width = m_plot->axisRect()->width();
  if (width >= 50) return width;
  // Not laid out yet (a hidden widget): the widget's width less typical axis margins.
  return std::max(200, m_plot->width() - 80);
}

std::pair<int64_t, int64_t> MetricPlot::viewSteps() const {
  if (m_userZoom) {
    const QCPRange r = m_plot->xAxis->range();
    // One column beyond each border so lines run to the plot's edges.
    const double pad = r.size() / static_cast<double>(columns());
    return {static_cast<int64_t>(std::floor(r.lower - pad)),
            static_cast<int64_t>(std::ceil(r.upper + pad))};
  }
  bool found = false;
  int64_t lo = 0;
  int64_t hi = 0;
  for (const auto& [id, c] : m_curves) {
    const auto range = c->data.stepRange();
    if (!range) continue;
    lo = found ? std::min(lo, range->first) : range->first;
    hi = found ? std::max(hi, range->second) : range->second;
    found = true;
  }
  return {lo, hi};
}

void MetricPlot::redraw(Curve& c) {
  const auto [lo, hi] = viewSteps();
  const int64_t n = columns();
  QColor faint = c.color;
  faint.setAlpha(60);
  try {
    if (m_smoothing.active() && c.smoothable()) {
      c.data.ensureRaw();
      const std::vector<double>& smooth = c.data.smoothed(m_smoothing);
      const BucketedSeries smoothBuckets = bucket_minmax(c.data.rawSteps(), smooth, lo, hi, n);
      c.graph->setAntialiased(bucket_rows(smoothBuckets) <=
                              static_cast<int64_t>(smoothBuckets.size()));
      c.graph->data()->set(toGraphData(drawn_points(smoothBuckets)), true);
      if (!c.raw) {
        c.raw = m_plot->addGraph();
        c.raw->removeFromLegend();
        c.raw->setSelectable(QCP::stNone);
        c.raw->setAdaptiveSampling(false);
        if (!m_plot->layer(QStringLiteral("raw")))  // faint raw curves under every line
          m_plot->addLayer(QStringLiteral("raw"), m_plot->layer(QStringLiteral("main")),
                           QCustomPlot::limBelow);
        c.raw->setLayer(QStringLiteral("raw"));
      }
      c.raw->setPen(QPen(faint, 1.0));
      c.raw->setVisible(c.visible);
      const BucketedSeries rawBuckets = c.data.buckets(lo, hi, n);
      c.raw->setAntialiased(bucket_rows(rawBuckets) <= static_cast<int64_t>(rawBuckets.size()));
      c.raw->data()->set(toGraphData(drawn_points(rawBuckets)), true);
    } else {
      if (c.raw) {
        m_plot->removeGraph(c.raw);
        c.raw = nullptr;
      }
      const BucketedSeries buckets = c.data.buckets(lo, hi, n);
      // Bucketed (several rows per pixel column): vertical strokes per column, drawn without
      // antialiasing — pixel-exact, as M4 assumes, and ~100× faster than antialiased strokes.
      c.graph->setAntialiased(bucket_rows(buckets) <= static_cast<int64_t>(buckets.size()));
      c.graph->data()->set(toGraphData(drawn_points(buckets)), true);
    }
  } catch (const Error&) {
    // a busy store while zooming: the next replot retries
  }
}

void MetricPlot::redrawAll() {
  for (auto& [id, c] : m_curves) redraw(*c);
}

void MetricPlot::scheduleReplot() {
  if (!m_replotTimer.isActive()) m_replotTimer.start();
}

void MetricPlot::rescale() {
  bool foundX = false;
  bool foundY = false;
  QCPRange x;
  QCPRange y;
  for (const auto& [id, c] : m_curves) {
    if (const auto range = c->data.stepRange()) {
      const QCPRange gx(static_cast<double>(range->first), static_cast<double>(range->second));
      x = foundX ? QCPRange(std::min(x.lower, gx.lower), std::max(x.upper, gx.upper)) : gx;
      foundX = true;
    }
    if (!c->visible) continue;
    bool ok = false;
    const QCPRange view = m_plot->xAxis->range();
    for (QCPGraph* g : {c->graph, c->raw}) {
      if (!g) continue;
      const QCPRange gy = g->getValueRange(ok, m_logY ? QCP::sdPositive : QCP::sdBoth,
                                           m_userZoom ? view : QCPRange());
      if (!ok) continue;
      y = foundY ? QCPRange(std::min(y.lower, gy.lower), std::max(y.upper, gy.upper)) : gy;
      foundY = true;
    }
  }
  m_emptyText->setVisible(!foundX);
  if (!foundX) return;
  if (!m_userZoom) {
    const double xPad = std::max(1.0, 0.02 * x.size());
    // A point at step 0 (the step-0 baseline evaluation) stays whole: pad left of it too.
    const double xLower = x.lower <= 0.0 ? x.lower - xPad : std::max(0.0, x.lower - xPad);
    m_settingRange = true;
    m_plot->xAxis->setRange(xLower, x.upper + xPad);
    m_settingRange = false;
  }
  if (m_fixedY && !m_logY) {
    m_plot->yAxis->setRange(m_yLower, m_yUpper);
  } else if (foundY) {
    if (m_logY) {
      m_plot->yAxis->setRange(y.lower / 1.25, y.upper * 1.25);
    } else {
      const double yPad = y.size() > 0 ? 0.06 * y.size() : std::max(0.05, std::abs(y.lower) * 0.1);
      m_plot->yAxis->setRange(y.lower - yPad, y.upper + yPad);
    }
  }
}

void MetricPlot::replotNow() {
  m_replotTimer.stop();
  if (!m_userZoom) {
    // Follow the data: set the x range first, then bucket for it.
    rescale();
  }
  redrawAll();
  rescale();
  bool anyLegend = false;
  for (const auto& [id, c] : m_curves) anyLegend = anyLegend || !c->bandPart;
  m_plot->legend->setVisible(anyLegend);
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace apportion::ui
