// SPDX-License-Identifier: GPL-3.0-or-later
// One printable style for every plot of the workbench: the Okabe–Ito colour-blind-safe palette
// for curves (by position, so N compared runs get N distinguishable colours; line styles cycle
// after eight), viridis for sequential heatmaps and a blue–white–red diverging scale for
// differences (both with a grey NaN colour), fonts and line widths that survive a PDF page.
//
// Intended usage:
//   applyFigureStyle(plot);                      // fonts, grid, axis pens
//   QColor c = paletteColor(i); Qt::PenStyle s = paletteStyle(i);
//   map->setGradient(viridisGradient());
#pragma once

#include <QColor>
#include <QString>

class QCustomPlot;
class QCPColorGradient;

namespace apportion::ui {

/// Okabe & Ito (2008), black replaced by a dark grey; i ≥ 8 wraps around.
QColor paletteColor(int index);
/// Solid for the first eight, then dashed, dotted, dash-dotted.
Qt::PenStyle paletteStyle(int index);
/// Curve line width (device-independent pixels / points in a PDF).
constexpr double kCurveWidth = 1.6;

/// Viridis (sequential), NaN drawn light grey.
QCPColorGradient viridisGradient();
/// RdBu-like diverging scale (negative blue, zero white, positive red), NaN light grey.
QCPColorGradient divergingGradient();

/// Sans-serif 9 pt tick labels, 10 pt axis labels, light grid, white background.
void applyFigureStyle(QCustomPlot* plot);

}  // namespace apportion::ui
