// SPDX-License-Identifier: GPL-3.0-or-later
// GsvEvolutionPlot: GSV slice over steps as a QCPColorMap plus an argmax QCPGraph.
#include "ui/plots/gsv_evolution_plot.h"

#include <qcustomplot.h>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSpinBox>
#include <QVBoxLayout>

#include "core/common/error.h"
#include "core/store/matrix_keys.h"
#include "ui/plots/figure_export.h"
#include "ui/plots/plot_style.h"

namespace apportion::ui {

GsvSeries sliceGsv(const std::vector<MatrixRecord>& records, int layer, int module, int expert) {
  GsvSeries s;
  for (const MatrixRecord& r : records) {
    const bool rankRecord = expert >= 0;
    if (r.shape.size() != (rankRecord ? 4u : 3u)) continue;
    if (layer < 0 || layer >= r.shape[0] || module < 0 || module >= r.shape[1]) continue;
    if (rankRecord && expert >= r.shape[2]) continue;
    const int64_t n = r.shape.back();
    int64_t offset = (static_cast<int64_t>(layer) * r.shape[1] + module);
    if (rankRecord) offset = offset * r.shape[2] + expert;
    offset *= n;
    if (offset + n > static_cast<int64_t>(r.values.size())) continue;
    if (s.length != 0 && s.length != n) continue;
    s.length = static_cast<int>(n);
    std::vector<double> v(static_cast<size_t>(n));
    int best = 0;
    for (int64_t i = 0; i < n; ++i) {
      v[static_cast<size_t>(i)] = r.values[static_cast<size_t>(offset + i)];
      if (v[static_cast<size_t>(i)] > v[static_cast<size_t>(best)]) best = static_cast<int>(i);
    }
    s.steps.push_back(r.step);
    s.values.push_back(std::move(v));
    s.argmax.push_back(best);
  }
  return s;
}

GsvEvolutionPlot::GsvEvolutionPlot(QWidget* parent)
    : QWidget(parent),
      m_layer(new QSpinBox),
      m_module(new QComboBox),
      m_vector(new QComboBox),
      m_plot(new QCustomPlot(this)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* row = new QHBoxLayout;
  row->addWidget(new QLabel(tr("Layer")));
  row->addWidget(m_layer);
  row->addWidget(new QLabel(tr("Module")));
  row->addWidget(m_module);
  row->addWidget(new QLabel(tr("GSV")));
  row->addWidget(m_vector, 1);
  layout->addLayout(row);
  layout->addWidget(m_plot, 1);
  applyFigureStyle(m_plot);
  installFigureMenu(m_plot, nullptr);  // PDF/SVG/PNG, CSV of what is drawn, copy
  setMinimumSize(260, 200);

  m_plot->plotLayout()->insertRow(0);
  m_plot->plotLayout()->addElement(
      0, 0,
      new QCPTextElement(m_plot, tr("GSV evolution: σ(g) and its argmax"),
                         QFont(font().family(), 10, QFont::Bold)));
  m_plot->xAxis->setLabel(tr("step"));
  m_plot->yAxis->setLabel(tr("count (argmax + 1)"));
  m_map = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
  auto* scale = new QCPColorScale(m_plot);
  m_plot->plotLayout()->addElement(1, 1, scale);
  scale->setType(QCPAxis::atRight);
  scale->axis()->setLabel(tr("σ(g)"));
  m_map->setColorScale(scale);
  m_map->setGradient(QCPColorGradient::gpGrayscale);
  m_map->setInterpolate(false);
  m_argmax = m_plot->addGraph();
  m_argmax->setPen(QPen(QColor(214, 39, 40), 2));
  m_argmax->setLineStyle(QCPGraph::lsStepCenter);  // changes at cell boundaries
  m_argmax->setName(tr("argmax"));
  m_emptyText = new QCPItemText(m_plot);
  m_emptyText->position->setType(QCPItemPosition::ptAxisRectRatio);
  m_emptyText->position->setCoords(0.5, 0.5);
  m_emptyText->setColor(Qt::gray);
  m_emptyText->setText(tr("no GSV records (GuiLoMo search runs record them)"));

  const auto changed = [this] { draw(); };
  connect(m_layer, qOverload<int>(&QSpinBox::valueChanged), this, changed);
  connect(m_module, qOverload<int>(&QComboBox::currentIndexChanged), this, changed);
  connect(m_vector, qOverload<int>(&QComboBox::currentIndexChanged), this, changed);
}

void GsvEvolutionPlot::setSource(std::shared_ptr<RunReader> reader,
                                 const QString& runId,
                                 const QStringList& moduleNames) {
  m_reader = std::move(reader);
  m_runId = runId.toStdString();
  m_modules = moduleNames;
  refresh();
}

void GsvEvolutionPlot::select(int layer, int module, int expert) {
  const QSignalBlocker b1(m_layer), b2(m_module), b3(m_vector);
  m_layer->setValue(layer);
  m_module->setCurrentIndex(module);
  m_vector->setCurrentIndex(expert + 1);
  draw();
}

void GsvEvolutionPlot::refresh() {
  // Selector ranges follow the newest records' shapes.
  int layers = 0, modules = 0, experts = 0;
  if (m_reader && !m_runId.empty()) {
    try {
      if (auto r = m_reader->matrix_at_or_before(m_runId, matrix_keys::kGsvExpert, -1)) {
        if (r->shape.size() == 3) {
          layers = static_cast<int>(r->shape[0]);
          modules = static_cast<int>(r->shape[1]);
          experts = static_cast<int>(r->shape[2]);
        }
      }
    } catch (const Error&) {
    }
  }
  {
    const QSignalBlocker b1(m_layer), b2(m_module), b3(m_vector);
    m_layer->setRange(0, std::max(0, layers - 1));
    if (m_module->count() != modules) {
      m_module->clear();
      for (int m = 0; m < modules; ++m)
        m_module->addItem(m < m_modules.size() ? m_modules[m] : QString::number(m));
    }
    if (m_vector->count() != experts + 1) {
      m_vector->clear();
      m_vector->addItem(tr("experts (expert GSV)"));
      for (int e = 0; e < experts; ++e) m_vector->addItem(tr("ranks of expert %1").arg(e));
    }
  }
  draw();
}

void GsvEvolutionPlot::draw() {
  std::vector<MatrixRecord> records;
  const int expert = m_vector->currentIndex() - 1;
  if (m_reader && !m_runId.empty()) {
    const std::string key = expert < 0 ? matrix_keys::kGsvExpert : matrix_keys::kGsvRank;
    try {
      for (int64_t step : m_reader->matrix_steps(m_runId, key)) {
        if (auto r = m_reader->matrix(m_runId, key, step)) records.push_back(std::move(*r));
      }
    } catch (const Error&) {
    }
  }
  m_series = sliceGsv(records, m_layer->value(), std::max(0, m_module->currentIndex()), expert);
  m_emptyText->setVisible(m_series.steps.empty());
  m_argmax->data()->clear();
  if (m_series.steps.empty()) {
    m_map->data()->clear();
    m_plot->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  // Steps are evenly spaced (one record every N steps): cells span first..last step.
  const int nSteps = static_cast<int>(m_series.steps.size());
  const auto first = static_cast<double>(m_series.steps.front());
  const auto last = static_cast<double>(m_series.steps.back());
  QCPColorMapData* cells = m_map->data();
  cells->setSize(std::max(2, nSteps), std::max(2, m_series.length));
  cells->setRange(nSteps > 1 ? QCPRange(first, last) : QCPRange(first - 0.5, first + 0.5),
                  m_series.length > 1 ? QCPRange(1, m_series.length) : QCPRange(0.75, 1.25));
  for (int x = 0; x < cells->keySize(); ++x) {
    for (int y = 0; y < cells->valueSize(); ++y) {
      cells->setCell(x, y,
                     m_series.values[static_cast<size_t>(std::min(x, nSteps - 1))]
                                    [static_cast<size_t>(std::min(y, m_series.length - 1))]);
    }
  }
  m_map->rescaleDataRange(true);
  for (int i = 0; i < nSteps; ++i) {
    m_argmax->addData(static_cast<double>(m_series.steps[static_cast<size_t>(i)]),
                      m_series.argmax[static_cast<size_t>(i)] + 1);
  }
  const double halfStep = nSteps > 1 ? (last - first) / (2.0 * (nSteps - 1)) : 0.5;
  m_plot->xAxis->setRange(first - halfStep, last + halfStep);
  m_plot->yAxis->setRange(0.5, m_series.length + 0.5);
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace apportion::ui
