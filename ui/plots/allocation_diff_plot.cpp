// SPDX-License-Identifier: GPL-3.0-or-later
// AllocationDiffPlot: A − B allocation heatmap with a symmetric diverging colour scale.
#include "ui/plots/allocation_diff_plot.h"

#include <cmath>

#include <qcustomplot.h>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include "core/common/error.h"
#include "core/store/matrix_keys.h"
#include "ui/plots/figure_export.h"
#include "ui/plots/plot_style.h"

namespace apportion::ui {

std::optional<ModuleGrid> moduleGrid(const MatrixRecord& record) {
  const auto& s = record.shape;
  if (s.size() != 2 && s.size() != 3) return std::nullopt;
  const int64_t experts = s.size() == 3 ? s[2] : 1;
  if (s[0] * s[1] * experts != static_cast<int64_t>(record.values.size())) return std::nullopt;
  ModuleGrid g;
  g.layers = static_cast<int>(s[0]);
  g.modules = static_cast<int>(s[1]);
  g.values.assign(static_cast<size_t>(s[0] * s[1]), 0.0);
  for (int64_t cell = 0; cell < s[0] * s[1]; ++cell) {
    for (int64_t e = 0; e < experts; ++e) {
      const float v = record.values[static_cast<size_t>(cell * experts + e)];
      if (!std::isnan(v)) g.values[static_cast<size_t>(cell)] += v;
    }
  }
  return g;
}

std::optional<ModuleGrid> gridDifference(const ModuleGrid& a, const ModuleGrid& b) {
  if (a.layers != b.layers || a.modules != b.modules) return std::nullopt;
  ModuleGrid d = a;
  for (size_t i = 0; i < d.values.size(); ++i) d.values[i] = a.values[i] - b.values[i];
  return d;
}

void addAllocationQuantities(QComboBox* combo) {
  combo->addItem(QObject::tr("experts per module"), QString::fromUtf8(matrix_keys::kAllocExperts));
  combo->addItem(QObject::tr("total rank per module"), QString::fromUtf8(matrix_keys::kAllocRank));
  combo->addItem(QObject::tr("DR-LoRA rank per routed expert"),
                 QString::fromUtf8(matrix_keys::kDrRank));
}

AllocationDiffPlot::AllocationDiffPlot(QWidget* parent)
    : QWidget(parent), m_quantity(new QComboBox), m_plot(new QCustomPlot(this)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* row = new QHBoxLayout;
  row->addWidget(new QLabel(tr("Allocation A − B:")));
  addAllocationQuantities(m_quantity);
  row->addWidget(m_quantity, 1);
  layout->addLayout(row);
  layout->addWidget(m_plot, 1);
  applyFigureStyle(m_plot);
  installFigureMenu(m_plot, nullptr);  // PDF/SVG/PNG, CSV of what is drawn, copy
  setMinimumSize(260, 180);

  m_plot->xAxis->setLabel(tr("module"));
  m_plot->yAxis->setLabel(tr("layer"));
  m_map = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
  auto* scale = new QCPColorScale(m_plot);
  m_plot->plotLayout()->addElement(0, 1, scale);
  scale->setType(QCPAxis::atRight);
  scale->axis()->setLabel(tr("A − B"));
  m_map->setColorScale(scale);
  m_map->setGradient(divergingGradient());
  m_map->setInterpolate(false);
  QSharedPointer<QCPAxisTickerFixed> ticker(new QCPAxisTickerFixed);
  ticker->setTickStep(1.0);
  m_plot->yAxis->setTicker(ticker);
  m_message = new QCPItemText(m_plot);
  m_message->position->setType(QCPItemPosition::ptAxisRectRatio);
  m_message->position->setCoords(0.5, 0.5);
  m_message->setColor(Qt::gray);
  connect(m_quantity, qOverload<int>(&QComboBox::currentIndexChanged), this,
          &AllocationDiffPlot::refresh);
  showMessage(tr("select two runs"));
}

void AllocationDiffPlot::setRuns(std::shared_ptr<RunReader> reader,
                                 const QString& runA,
                                 const QString& runB,
                                 const QStringList& moduleNames) {
  m_reader = std::move(reader);
  m_runA = runA.toStdString();
  m_runB = runB.toStdString();
  m_modules = moduleNames;
  // Start on the first quantity both runs recorded (DR-LoRA runs: their routed-expert ranks).
  if (m_reader && !m_runA.empty() && !m_runB.empty()) {
    for (int i = 0; i < m_quantity->count(); ++i) {
      const std::string key = m_quantity->itemData(i).toString().toStdString();
      try {
        if (m_reader->matrix_at_or_before(m_runA, key, -1) &&
            m_reader->matrix_at_or_before(m_runB, key, -1)) {
          const QSignalBlocker block(m_quantity);
          m_quantity->setCurrentIndex(i);
          break;
        }
      } catch (const Error&) {
      }
    }
  }
  refresh();
}

void AllocationDiffPlot::refresh() {
  m_diff.reset();
  if (!m_reader || m_runA.empty() || m_runB.empty()) {
    showMessage(tr("select two runs"));
    return;
  }
  const std::string key = m_quantity->currentData().toString().toStdString();
  if (key == matrix_keys::kDrRank) {  // [layer, expert]: numbered expert columns
    QSharedPointer<QCPAxisTickerFixed> ticker(new QCPAxisTickerFixed);
    ticker->setTickStep(1.0);
    ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    m_plot->xAxis->setTicker(ticker);
    m_plot->xAxis->setLabel(tr("routed expert"));
  } else {
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (int i = 0; i < m_modules.size(); ++i)
      ticker->addTick(i, QString(m_modules[i]).remove(QStringLiteral("_proj")));
    m_plot->xAxis->setTicker(ticker);
    m_plot->xAxis->setLabel(tr("module"));
  }
  std::optional<MatrixRecord> a, b;
  try {
    a = m_reader->matrix_at_or_before(m_runA, key, -1);
    b = m_reader->matrix_at_or_before(m_runB, key, -1);
  } catch (const Error& e) {
    showMessage(QString::fromUtf8(e.what()));
    return;
  }
  const auto ga = a ? moduleGrid(*a) : std::nullopt;
  const auto gb = b ? moduleGrid(*b) : std::nullopt;
  if (!ga || !gb) {
    showMessage(tr("no allocation\nrecorded in A or B"));
    return;
  }
  m_diff = gridDifference(*ga, *gb);
  if (!m_diff) {
    showMessage(tr("different shapes: A is %1×%2, B is %3×%4 (layers × modules)")
                    .arg(ga->layers)
                    .arg(ga->modules)
                    .arg(gb->layers)
                    .arg(gb->modules));
    return;
  }
  m_message->setVisible(false);
  const ModuleGrid& d = *m_diff;
  QCPColorMapData* cells = m_map->data();
  cells->setSize(std::max(2, d.modules), std::max(2, d.layers));
  cells->setRange(d.modules > 1 ? QCPRange(0, d.modules - 1) : QCPRange(-0.25, 0.25),
                  d.layers > 1 ? QCPRange(0, d.layers - 1) : QCPRange(-0.25, 0.25));
  double maxAbs = 0.0;
  for (int y = 0; y < cells->valueSize(); ++y) {
    for (int x = 0; x < cells->keySize(); ++x) {
      const double v = d.values[static_cast<size_t>(std::min(y, d.layers - 1) * d.modules +
                                                    std::min(x, d.modules - 1))];
      cells->setCell(x, y, v);
      maxAbs = std::max(maxAbs, std::abs(v));
    }
  }
  // One symmetric range for both signs, so equal colours mean equal magnitudes.
  const double r = maxAbs > 0 ? maxAbs : 1.0;
  m_map->setDataRange(QCPRange(-r, r));
  m_plot->xAxis->setRange(-0.5, d.modules - 0.5);
  m_plot->yAxis->setRange(-0.5, d.layers - 0.5);
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void AllocationDiffPlot::showMessage(const QString& text) {
  m_map->data()->clear();
  m_message->setText(text);
  m_message->setVisible(true);
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace apportion::ui
