// SPDX-License-Identifier: GPL-3.0-or-later
// ExpertLoadHeatmap: QCPColorMap + QCPColorScale + step slider over matrix records.
#include "ui/plots/expert_load_heatmap.h"

#include <cmath>

#include <algorithm>
#include <fstream>

#include <qcustomplot.h>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QVBoxLayout>

#include "core/common/csv_text.h"
#include "core/common/error.h"
#include "ui/plots/figure_export.h"
#include "ui/plots/plot_style.h"

namespace apportion::ui {

LayerExpertGrid reduceToLayerExpert(const MatrixRecord& record) {
  LayerExpertGrid grid;
  const auto& shape = record.shape;
  if (shape.size() < 2 || shape.size() > 3) return grid;
  const int64_t layers = shape[0];
  const int64_t modules = shape.size() == 3 ? shape[1] : 1;
  const int64_t experts = shape.back();
  if (layers * modules * experts != static_cast<int64_t>(record.values.size())) return grid;
  grid.layers = static_cast<int>(layers);
  grid.experts = static_cast<int>(experts);
  grid.values.assign(static_cast<size_t>(layers * experts), std::nan(""));
  for (int64_t l = 0; l < layers; ++l) {
    for (int64_t e = 0; e < experts; ++e) {
      double sum = 0.0;
      int n = 0;
      for (int64_t m = 0; m < modules; ++m) {
        const float v = record.values[static_cast<size_t>((l * modules + m) * experts + e)];
        if (std::isnan(v)) continue;
        sum += v;
        ++n;
      }
      if (n > 0) grid.values[static_cast<size_t>(l * experts + e)] = sum / n;
    }
  }
  return grid;
}

ExpertLoadHeatmap::ExpertLoadHeatmap(QWidget* parent)
    : QWidget(parent),
      m_plot(new QCustomPlot(this)),
      m_slider(new QSlider(Qt::Horizontal, this)),
      m_stepLabel(new QLabel(this)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(m_plot, 1);
  auto* scrub = new QHBoxLayout;
  scrub->addWidget(new QLabel(tr("Step:"), this));
  scrub->addWidget(m_slider, 1);
  m_stepLabel->setMinimumWidth(90);
  scrub->addWidget(m_stepLabel);
  layout->addLayout(scrub);
  setMinimumSize(260, 200);

  m_noDataText = tr("no routing data (plain LoRA and pretraining runs have no router)");
  m_plot->plotLayout()->insertRow(0);
  m_title = new QCPTextElement(m_plot, tr("Routing load per layer (mean over modules)"),
                               QFont(font().family(), 10, QFont::Bold));
  m_plot->plotLayout()->addElement(0, 0, m_title);
  m_plot->xAxis->setLabel(tr("expert"));
  m_plot->yAxis->setLabel(tr("layer"));
  QSharedPointer<QCPAxisTickerFixed> ticker(new QCPAxisTickerFixed);
  ticker->setTickStep(1.0);
  ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
  m_plot->xAxis->setTicker(ticker);
  m_plot->yAxis->setTicker(ticker);
  m_plot->xAxis->grid()->setVisible(false);
  m_plot->yAxis->grid()->setVisible(false);

  m_map = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
  m_scale = new QCPColorScale(m_plot);
  m_plot->plotLayout()->addElement(1, 1, m_scale);
  m_scale->setType(QCPAxis::atRight);
  m_scale->axis()->setLabel(tr("load fraction"));
  m_map->setColorScale(m_scale);
  // Viridis-like stops: the top of the scale stays a saturated yellow, so a fully loaded cell
  // (e.g. 2 experts with top-2: load 0.5 each) never looks like the blank background.
  m_map->setGradient(viridisGradient());
  m_map->setInterpolate(false);
  auto* margins = new QCPMarginGroup(m_plot);
  m_plot->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
  m_scale->setMarginGroup(QCP::msBottom | QCP::msTop, margins);

  m_emptyText = new QCPItemText(m_plot);
  m_emptyText->position->setType(QCPItemPosition::ptAxisRectRatio);
  m_emptyText->position->setCoords(0.5, 0.5);
  m_emptyText->setColor(Qt::gray);

  applyFigureStyle(m_plot);
  installFigureMenu(m_plot, [this](const QString& path) { return writeCsv(path); });
  m_slider->setPageStep(1);
  m_slider->setFocusPolicy(Qt::StrongFocus);
  connect(m_slider, &QSlider::valueChanged, this, &ExpertLoadHeatmap::onSliderMoved);
  showEmpty(tr("no run"));
}

void ExpertLoadHeatmap::setSource(std::shared_ptr<RunReader> reader,
                                  const QString& runId,
                                  const QString& key) {
  m_reader = std::move(reader);
  m_runId = runId.toStdString();
  m_key = key.toStdString();
  m_steps.clear();
  m_shownIndex = -1;
  refresh();
}

std::optional<int64_t> ExpertLoadHeatmap::currentStep() const {
  if (m_shownIndex < 0 || m_shownIndex >= static_cast<int>(m_steps.size())) return std::nullopt;
  return m_steps[static_cast<size_t>(m_shownIndex)];
}

void ExpertLoadHeatmap::refresh() {
  if (!m_reader || m_runId.empty()) {
    m_steps.clear();
    showEmpty(tr("no run"));
    return;
  }
  std::vector<int64_t> steps;
  try {
    steps = m_reader->matrix_steps(m_runId, m_key);
  } catch (const Error&) {
    return;
  }
  const bool followNewest =
      m_shownIndex < 0 || m_shownIndex + 1 >= static_cast<int>(m_steps.size());
  if (steps == m_steps && m_shownIndex >= 0) return;
  m_steps = std::move(steps);
  if (m_steps.empty()) {
    showEmpty(m_noDataText);
    return;
  }
  const int last = static_cast<int>(m_steps.size()) - 1;
  const int target = followNewest ? last : std::min(m_slider->value(), last);
  {
    const QSignalBlocker block(m_slider);
    m_slider->setEnabled(true);
    m_slider->setRange(0, last);
    m_slider->setValue(target);
  }
  showStep(target);
}

void ExpertLoadHeatmap::setLabels(const QString& title,
                                  const QString& xLabel,
                                  const QString& valueLabel) {
  m_title->setText(title);
  m_plot->xAxis->setLabel(xLabel);
  m_scale->axis()->setLabel(valueLabel);
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void ExpertLoadHeatmap::setColumnNames(const QStringList& names) {
  m_columnNames = names;
  if (names.isEmpty()) {
    QSharedPointer<QCPAxisTickerFixed> ticker(new QCPAxisTickerFixed);
    ticker->setTickStep(1.0);
    ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    m_plot->xAxis->setTicker(ticker);
  } else {
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (int i = 0; i < names.size(); ++i) ticker->addTick(i, names[i]);
    m_plot->xAxis->setTicker(ticker);
  }
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void ExpertLoadHeatmap::onSliderMoved(int index) { showStep(index); }

void ExpertLoadHeatmap::showNearestStep(int64_t step) {
  if (m_steps.empty()) return;
  const auto it = std::upper_bound(m_steps.begin(), m_steps.end(), step);
  const int index = it == m_steps.begin() ? 0 : static_cast<int>(it - m_steps.begin()) - 1;
  if (index != m_shownIndex) m_slider->setValue(index);  // valueChanged → showStep
}

QString ExpertLoadHeatmap::writeCsv(const QString& path) const {
  std::ofstream out(path.toStdString(), std::ios::binary);
  if (!out) return tr("cannot write '%1' (check that the folder exists and is writable)").arg(path);
  const auto step = currentStep();
  out << "run_id,key,step,layer,column,value\n";
  for (int l = 0; l < m_grid.layers; ++l)
    for (int c = 0; c < m_grid.experts; ++c)
      out << m_runId << ',' << m_key << ',' << (step ? *step : -1) << ',' << l << ',' << c << ','
          << csv_exact_number(m_grid.at(l, c)) << '\n';
  out.close();
  return out ? QString() : tr("writing '%1' failed (disk full?)").arg(path);
}

void ExpertLoadHeatmap::showStep(int index) {
  if (index < 0 || index >= static_cast<int>(m_steps.size())) return;
  std::optional<MatrixRecord> record;
  try {
    record = m_reader->matrix(m_runId, m_key, m_steps[static_cast<size_t>(index)]);
  } catch (const Error& e) {
    showEmpty(QString::fromUtf8(e.what()));
    return;
  }
  if (!record) return;
  m_grid = reduceToLayerExpert(*record);
  m_shownIndex = index;
  m_stepLabel->setText(tr("step %1").arg(m_steps[static_cast<size_t>(index)]));
  Q_EMIT stepShown(m_steps[static_cast<size_t>(index)]);
  m_emptyText->setVisible(false);
  if (m_grid.layers == 0 || m_grid.experts == 0) {
    m_map->data()->clear();
    m_plot->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  // QCPColorMapData needs ≥ 2 cells per axis to give cells a width: a single expert or layer
  // is stored twice over ±0.25 so it still spans -0.5..0.5.
  const auto cellsFor = [](int n) { return n == 1 ? 2 : n; };
  const auto rangeFor = [](int n) { return n == 1 ? QCPRange(-0.25, 0.25) : QCPRange(0, n - 1); };
  QCPColorMapData* cells = m_map->data();
  cells->setSize(cellsFor(m_grid.experts), cellsFor(m_grid.layers));
  cells->setRange(rangeFor(m_grid.experts), rangeFor(m_grid.layers));
  double maxValue = -1.0;
  double minValue = 2.0;
  for (int y = 0; y < cells->valueSize(); ++y) {
    for (int x = 0; x < cells->keySize(); ++x) {
      const double v = m_grid.at(std::min(y, m_grid.layers - 1), std::min(x, m_grid.experts - 1));
      cells->setCell(x, y, v);
      if (!std::isnan(v)) {
        maxValue = std::max(maxValue, v);
        minValue = std::min(minValue, v);
      }
    }
  }
  // Colour range = the shown data's range, so imbalance stays visible when loads are close.
  if (maxValue < minValue)
    m_map->setDataRange(QCPRange(0.0, 1.0));
  else if (maxValue - minValue < 1e-6)
    m_map->setDataRange(QCPRange(minValue - 0.01, maxValue + 0.01));
  else
    m_map->setDataRange(QCPRange(minValue, maxValue));
  m_plot->xAxis->setRange(-0.5, m_grid.experts - 0.5);
  m_plot->yAxis->setRange(-0.5, m_grid.layers - 0.5);
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void ExpertLoadHeatmap::showEmpty(const QString& why) {
  m_grid = {};
  m_shownIndex = -1;
  m_map->data()->clear();
  const QSignalBlocker block(m_slider);
  m_slider->setRange(0, 0);
  m_slider->setEnabled(false);
  m_stepLabel->setText(why == m_noDataText ? tr("no data") : why);
  m_emptyText->setText(why);
  m_emptyText->setVisible(true);
  m_map->setDataRange(QCPRange(0.0, 1.0));
  m_plot->xAxis->setRange(-0.5, 3.5);
  m_plot->yAxis->setRange(-0.5, 3.5);
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace apportion::ui
