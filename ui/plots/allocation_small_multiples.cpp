// SPDX-License-Identifier: GPL-3.0-or-later
// Small-multiple allocation heatmaps of N runs on one shared colour scale.
#include "ui/plots/allocation_small_multiples.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include <qcustomplot.h>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include "core/common/csv_text.h"
#include "core/common/error.h"
#include "core/store/matrix_keys.h"
#include "ui/plots/figure_export.h"
#include "ui/plots/plot_style.h"

namespace apportion::ui {

AllocationSmallMultiples::AllocationSmallMultiples(QWidget* parent)
    : QWidget(parent), m_quantity(new QComboBox), m_plot(new QCustomPlot(this)) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* row = new QHBoxLayout;
  row->addWidget(new QLabel(tr("Allocation of each run (one colour scale):")));
  addAllocationQuantities(m_quantity);
  row->addWidget(m_quantity, 1);
  layout->addLayout(row);
  layout->addWidget(m_plot, 1);
  setMinimumSize(300, 200);
  installFigureMenu(m_plot, [this](const QString& path) { return writeCsv(path); });
  connect(m_quantity, qOverload<int>(&QComboBox::currentIndexChanged), this,
          &AllocationSmallMultiples::refresh);
}

void AllocationSmallMultiples::setRuns(std::shared_ptr<RunReader> reader,
                                       const std::vector<Panel>& panels,
                                       const QStringList& moduleNames) {
  m_reader = std::move(reader);
  m_panels = panels;
  m_modules = moduleNames;
  // Start on the first quantity that some run recorded.
  if (m_reader)
    for (int i = 0; i < m_quantity->count(); ++i) {
      const std::string key = m_quantity->itemData(i).toString().toStdString();
      bool any = false;
      for (const Panel& p : m_panels) try {
          any = any || m_reader->matrix_at_or_before(p.runId.toStdString(), key, -1).has_value();
        } catch (const Error&) {
        }
      if (any) {
        const QSignalBlocker block(m_quantity);
        m_quantity->setCurrentIndex(i);
        break;
      }
    }
  refresh();
}

void AllocationSmallMultiples::refresh() {
  m_plot->clearItems();
  m_plot->clearPlottables();
  m_plot->plotLayout()->clear();  // deletes the axis rects and the scale
  m_scale = nullptr;
  m_grids.clear();
  const std::string key = m_quantity->currentData().toString().toStdString();
  bool found = false;
  double lo = 0.0;
  double hi = 0.0;
  for (const Panel& p : m_panels) {
    std::optional<ModuleGrid> grid;
    try {
      if (m_reader)
        if (const auto record = m_reader->matrix_at_or_before(p.runId.toStdString(), key, -1))
          grid = moduleGrid(*record);
    } catch (const Error&) {
    }
    if (grid)
      for (double v : grid->values) {
        if (!std::isfinite(v)) continue;
        lo = found ? std::min(lo, v) : v;
        hi = found ? std::max(hi, v) : v;
        found = true;
      }
    m_grids.push_back(std::move(grid));
  }
  m_range = {lo, hi > lo ? hi : lo + 1.0};
  const int n = static_cast<int>(m_panels.size());
  if (n == 0) {
    m_plot->replot(QCustomPlot::rpQueuedReplot);
    return;
  }
  const int cols = n <= 3 ? n : (n <= 4 ? 2 : (n <= 9 ? 3 : 4));
  auto* grid = new QCPLayoutGrid;
  m_plot->plotLayout()->addElement(0, 0, grid);
  m_scale = new QCPColorScale(m_plot);
  m_plot->plotLayout()->addElement(0, 1, m_scale);
  m_scale->setType(QCPAxis::atRight);
  m_scale->setGradient(viridisGradient());
  m_scale->setDataRange(QCPRange(m_range.first, m_range.second));
  m_scale->axis()->setLabel(m_quantity->currentText());
  auto* margins = new QCPMarginGroup(m_plot);
  const bool perExpert = key == matrix_keys::kDrRank;
  for (int i = 0; i < n; ++i) {
    auto* rect = new QCPAxisRect(m_plot);
    grid->addElement(i / cols, i % cols, rect);
    rect->setMarginGroup(QCP::msLeft | QCP::msRight, margins);
    QCPAxis* x = rect->axis(QCPAxis::atBottom);
    QCPAxis* y = rect->axis(QCPAxis::atLeft);
    QCPAxis* top = rect->axis(QCPAxis::atTop);
    top->setVisible(true);
    top->setTicks(false);
    top->setTickLabels(false);
    top->setLabel(m_panels[static_cast<size_t>(i)].title);
    top->setLabelFont(QFont(QStringLiteral("DejaVu Sans"), 8, QFont::Bold));
    for (QCPAxis* a : {x, y}) {
      a->setTickLabelFont(QFont(QStringLiteral("DejaVu Sans"), 7));
      a->setLabelFont(QFont(QStringLiteral("DejaVu Sans"), 8));
      a->grid()->setVisible(false);
    }
    y->setLabel(i % cols == 0 ? tr("layer") : QString());
    if (perExpert) {
      x->setLabel(tr("routed expert"));
    } else {
      QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
      for (int m = 0; m < m_modules.size(); ++m)
        ticker->addTick(m, QString(m_modules[m]).remove(QStringLiteral("_proj")));
      x->setTicker(ticker);
      x->setTickLabelRotation(m_modules.size() > 4 ? 60 : 0);
    }
    QSharedPointer<QCPAxisTickerFixed> layers(new QCPAxisTickerFixed);
    layers->setTickStep(1.0);
    y->setTicker(layers);
    const std::optional<ModuleGrid>& g = m_grids[static_cast<size_t>(i)];
    if (!g) {
      auto* text = new QCPItemText(m_plot);
      text->setClipAxisRect(rect);
      text->position->setAxisRect(rect);
      text->position->setType(QCPItemPosition::ptAxisRectRatio);
      text->position->setCoords(0.5, 0.5);
      text->setText(tr("not recorded"));
      text->setColor(Qt::gray);
      continue;
    }
    auto* map = new QCPColorMap(x, y);
    map->setColorScale(m_scale);  // one scale: one range and gradient for every panel
    map->setInterpolate(false);
    QCPColorMapData* cells = map->data();
    cells->setSize(std::max(2, g->modules), std::max(2, g->layers));
    cells->setRange(g->modules > 1 ? QCPRange(0, g->modules - 1) : QCPRange(-0.25, 0.25),
                    g->layers > 1 ? QCPRange(0, g->layers - 1) : QCPRange(-0.25, 0.25));
    for (int yy = 0; yy < cells->valueSize(); ++yy)
      for (int xx = 0; xx < cells->keySize(); ++xx)
        cells->setCell(xx, yy,
                       g->values[static_cast<size_t>(std::min(yy, g->layers - 1) * g->modules +
                                                     std::min(xx, g->modules - 1))]);
    x->setRange(-0.5, g->modules - 0.5);
    y->setRange(-0.5, g->layers - 0.5);
  }
  m_scale->setDataRange(QCPRange(m_range.first, m_range.second));
  m_plot->replot(QCustomPlot::rpQueuedReplot);
}

QString AllocationSmallMultiples::writeCsv(const QString& path) const {
  std::ofstream out(path.toStdString(), std::ios::binary);
  if (!out) return tr("cannot write '%1' (check that the folder exists and is writable)").arg(path);
  out << "panel,run_id,quantity,layer,column,value\n";
  const std::string quantity = m_quantity->currentData().toString().toStdString();
  for (size_t i = 0; i < m_panels.size() && i < m_grids.size(); ++i) {
    if (!m_grids[i]) continue;
    const ModuleGrid& g = *m_grids[i];
    for (int l = 0; l < g.layers; ++l)
      for (int m = 0; m < g.modules; ++m)
        out << csv_escape(m_panels[i].title.toStdString()) << ',' << m_panels[i].runId.toStdString()
            << ',' << quantity << ',' << l << ',' << m << ','
            << csv_exact_number(g.values[static_cast<size_t>(l * g.modules + m)]) << '\n';
  }
  out.close();
  return out ? QString() : tr("writing '%1' failed (disk full?)").arg(path);
}

}  // namespace apportion::ui
