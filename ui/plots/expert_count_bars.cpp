// SPDX-License-Identifier: GPL-3.0-or-later
// ExpertCountBars: per-layer expert counts from alloc/experts.
#include "ui/plots/expert_count_bars.h"

#include <algorithm>
#include <cmath>

#include <qcustomplot.h>
#include <QVBoxLayout>

#include "core/common/error.h"
#include "ui/plots/figure_export.h"
#include "ui/plots/plot_style.h"

namespace apportion::ui {

ExpertCountBars::ExpertCountBars(QWidget* parent) : QWidget(parent), m_plot(new QCustomPlot(this)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(m_plot);
  applyFigureStyle(m_plot);
  installFigureMenu(m_plot, nullptr);  // PDF/SVG/PNG, CSV of what is drawn, copy
  setMinimumSize(220, 160);

  m_plot->plotLayout()->insertRow(0);
  m_plot->plotLayout()->addElement(
      0, 0,
      new QCPTextElement(m_plot, tr("Experts per layer"), QFont(font().family(), 10, QFont::Bold)));
  m_plot->xAxis->setLabel(tr("layer"));
  m_plot->yAxis->setLabel(tr("experts / module"));
  QSharedPointer<QCPAxisTickerFixed> ticker(new QCPAxisTickerFixed);
  ticker->setTickStep(1.0);
  ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
  m_plot->xAxis->setTicker(ticker);
  m_plot->yAxis->setTicker(ticker);
  m_plot->xAxis->grid()->setVisible(false);

  m_bars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
  m_bars->setWidth(0.7);
  setColor(QColor(0x4e79a7));

  m_note = new QCPItemText(m_plot);
  m_note->position->setType(QCPItemPosition::ptAxisRectRatio);
  m_note->position->setCoords(0.5, 0.08);
  m_note->setColor(Qt::darkGray);
  m_note->setText(tr("no allocation recorded"));
}

void ExpertCountBars::setColor(const QColor& color) {
  m_bars->setPen(QPen(color.darker(130)));
  QColor fill = color;
  fill.setAlpha(190);
  m_bars->setBrush(fill);
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void ExpertCountBars::setSource(std::shared_ptr<RunReader> reader, const QString& runId) {
  m_reader = std::move(reader);
  m_runId = runId.toStdString();
  refresh();
}

void ExpertCountBars::refresh() {
  m_perLayer.clear();
  m_total = 0;
  std::optional<MatrixRecord> record;
  if (m_reader && !m_runId.empty()) {
    try {
      record = m_reader->matrix_at_or_before(m_runId, "alloc/experts", -1);
    } catch (const Error&) {
      record.reset();
    }
  }
  if (record && !record->shape.empty()) {
    const int64_t layers = record->shape[0];
    int64_t perRow = 1;
    for (size_t i = 1; i < record->shape.size(); ++i) perRow *= record->shape[i];
    const auto& raw = record->i32;
    for (int64_t l = 0; l < layers; ++l) {
      int best = 0;
      for (int64_t m = 0; m < perRow; ++m) {
        const size_t at = static_cast<size_t>(l * perRow + m);
        const int v = at < raw.size() ? raw[at]
                      : at < record->values.size() && !std::isnan(record->values[at])
                          ? static_cast<int>(record->values[at])
                          : -1;
        if (v > 0) {
          best = std::max(best, v);
          m_total += v;
        }
      }
      m_perLayer.push_back(best);
    }
  }
  QVector<double> keys;
  QVector<double> values;
  int maxCount = 1;
  for (size_t l = 0; l < m_perLayer.size(); ++l) {
    keys.append(static_cast<double>(l));
    values.append(m_perLayer[l]);
    maxCount = std::max(maxCount, m_perLayer[l]);
  }
  m_bars->setData(keys, values, /*alreadySorted=*/true);
  if (m_perLayer.empty()) {
    m_note->setText(tr("no allocation recorded"));
    m_plot->xAxis->setRange(-0.5, 3.5);
    m_plot->yAxis->setRange(0, 4);
  } else {
    m_note->setText(tr("%1 experts in total").arg(m_total));
    m_plot->xAxis->setRange(-0.6, static_cast<double>(m_perLayer.size()) - 0.4);
    m_plot->yAxis->setRange(0, maxCount + 1);
  }
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace apportion::ui
