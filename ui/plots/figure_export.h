// SPDX-License-Identifier: GPL-3.0-or-later
// Figures out of any plot: PNG (at a chosen DPI), SVG and PDF (vector) at a chosen size in
// millimetres, the figure on the clipboard, and the plot's right-click menu (Export figure…,
// Export data as CSV…, Copy figure, plus the plot's own entries). Sizes are laid out in points
// (1/72 in), so fonts keep their point size on paper in every format. The folder last used is
// remembered (QSettings "figures/last_folder"), as are the size and DPI.
//
// Intended usage:
//   QString error = saveFigure(plot, "fig.pdf", FigureFormat::Pdf, {160, 100, 300});
//   installFigureMenu(plot, [this](const QString& path) { return writeCsv(path); });
#pragma once

#include <functional>
#include <optional>

#include <QString>

class QCustomPlot;
class QMenu;
class QWidget;

namespace apportion::ui {

enum class FigureFormat { Png, Svg, Pdf };

struct FigureSize {
  double widthMm = 160.0;
  double heightMm = 100.0;
  int dpi = 300;  ///< PNG only
};

/// From the file name's suffix (.png, .svg, .pdf; case-insensitive).
std::optional<FigureFormat> figureFormatFromPath(const QString& path);
/// Saves the plot; returns "" on success, else a message naming the file and the reason.
QString saveFigure(QCustomPlot* plot,
                   const QString& path,
                   FigureFormat format,
                   const FigureSize& size);
/// Puts the plot, as drawn on screen at twice its pixel size, on the clipboard.
void copyFigure(QCustomPlot* plot);

/// Writes a plot's data to a CSV path; returns "" or an error message.
using CsvWriter = std::function<QString(const QString& path)>;

/// Every plottable's data as drawn, one row per point:
/// plottable,kind,x,x_label,y,value — graphs (x step, value), bars (x position and its tick
/// label, value), colour maps (x, y cell coordinates, value). "" or an error naming the file.
QString writePlottablesCsv(QCustomPlot* plot, const QString& path);

/// Right-click menu on `plot`: Export figure…, Export data as CSV… (`csv`, or
/// writePlottablesCsv when none is given), Copy figure, then whatever `extra` adds.
void installFigureMenu(QCustomPlot* plot, CsvWriter csv, std::function<void(QMenu*)> extra = {});
/// The dialogs behind the menu (also the main window's Export shortcut).
void exportFigureInteractively(QCustomPlot* plot, QWidget* parent);
void exportCsvInteractively(const CsvWriter& csv, QWidget* parent);

}  // namespace apportion::ui
