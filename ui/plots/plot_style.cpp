// SPDX-License-Identifier: GPL-3.0-or-later
// Palette, colour scales and fonts shared by every plot.
#include "ui/plots/plot_style.h"

#include <array>

#include <qcustomplot.h>

namespace apportion::ui {

QColor paletteColor(int index) {
  // Okabe–Ito: blue, vermillion, bluish green, orange, reddish purple, sky blue, yellow (darkened
  // to stay visible on white), dark grey.
  static const std::array<QRgb, 8> kOkabeIto = {0x0072b2, 0xd55e00, 0x009e73, 0xe69f00,
                                                0xcc79a7, 0x56b4e9, 0xc9b200, 0x444444};
  return QColor(kOkabeIto[static_cast<size_t>(index < 0 ? 0 : index) % kOkabeIto.size()]);
}

Qt::PenStyle paletteStyle(int index) {
  static const std::array<Qt::PenStyle, 4> kStyles = {Qt::SolidLine, Qt::DashLine, Qt::DotLine,
                                                      Qt::DashDotLine};
  return kStyles[static_cast<size_t>(index < 0 ? 0 : index / 8) % kStyles.size()];
}

QCPColorGradient viridisGradient() {
  QCPColorGradient g;
  g.clearColorStops();
  g.setColorStopAt(0.0, QColor(68, 1, 84));
  g.setColorStopAt(0.125, QColor(71, 44, 122));
  g.setColorStopAt(0.25, QColor(59, 81, 139));
  g.setColorStopAt(0.375, QColor(44, 113, 142));
  g.setColorStopAt(0.5, QColor(33, 144, 141));
  g.setColorStopAt(0.625, QColor(39, 173, 129));
  g.setColorStopAt(0.75, QColor(92, 200, 99));
  g.setColorStopAt(0.875, QColor(170, 220, 50));
  g.setColorStopAt(1.0, QColor(253, 231, 37));
  g.setNanHandling(QCPColorGradient::nhNanColor);
  g.setNanColor(QColor(215, 215, 215));
  return g;
}

QCPColorGradient divergingGradient() {
  QCPColorGradient g;
  g.clearColorStops();
  g.setColorStopAt(0.0, QColor(33, 102, 172));
  g.setColorStopAt(0.25, QColor(146, 197, 222));
  g.setColorStopAt(0.5, QColor(247, 247, 247));
  g.setColorStopAt(0.75, QColor(244, 165, 130));
  g.setColorStopAt(1.0, QColor(178, 24, 43));
  g.setNanHandling(QCPColorGradient::nhNanColor);
  g.setNanColor(QColor(215, 215, 215));
  return g;
}

void applyFigureStyle(QCustomPlot* plot) {
  const QFont ticks(QStringLiteral("DejaVu Sans"), 8);
  const QFont labels(QStringLiteral("DejaVu Sans"), 9);
  plot->setBackground(Qt::white);
  for (QCPAxis* axis : plot->axisRect()->axes()) {
    axis->setTickLabelFont(ticks);
    axis->setLabelFont(labels);
    axis->setBasePen(QPen(QColor(60, 60, 60), 1.0));
    axis->setTickPen(QPen(QColor(60, 60, 60), 1.0));
    axis->setSubTickPen(QPen(QColor(60, 60, 60), 0.8));
    axis->grid()->setPen(QPen(QColor(225, 225, 225), 0.8, Qt::SolidLine));
    axis->grid()->setSubGridVisible(false);
  }
  plot->legend->setFont(ticks);
}

}  // namespace apportion::ui
