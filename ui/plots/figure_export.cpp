// SPDX-License-Identifier: GPL-3.0-or-later
// PNG/SVG/PDF export, clipboard copy and the figure context menu of every plot.
#include "ui/plots/figure_export.h"

#include <cmath>
#include <fstream>

#include <qcustomplot.h>
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSpinBox>
#include <QSvgGenerator>

#include "core/common/csv_text.h"
#include "ui/settings/preference.h"

namespace apportion::ui {

namespace {

const Preference<QString> kLastFolder(QStringLiteral("figures/last_folder"), QString());
const Preference<double> kWidthMm(QStringLiteral("figures/width_mm"), 160.0);
const Preference<double> kHeightMm(QStringLiteral("figures/height_mm"), 100.0);
const Preference<int> kDpi(QStringLiteral("figures/dpi"), 300);

int points(double mm) { return std::max(20, static_cast<int>(std::lround(mm / 25.4 * 72.0))); }

QString folder() {
  const QString last = kLastFolder.value();
  return !last.isEmpty() && QFileInfo(last).isDir() ? last : QDir::homePath();
}

QString saveSvg(QCustomPlot* plot, const QString& path, int width, int height) {
  QSvgGenerator svg;
  svg.setFileName(path);
  svg.setSize(QSize(width, height));
  svg.setViewBox(QRect(0, 0, width, height));
  svg.setResolution(72);
  svg.setTitle(QStringLiteral("Apportion figure"));
  QCPPainter painter;
  if (!painter.begin(&svg)) return QObject::tr("cannot write '%1'").arg(path);
  painter.setMode(QCPPainter::pmVectorized);
  painter.setMode(QCPPainter::pmNoCaching);
  painter.setMode(QCPPainter::pmNonCosmetic);
  plot->toPainter(&painter, width, height);
  painter.end();
  return {};
}

}  // namespace

std::optional<FigureFormat> figureFormatFromPath(const QString& path) {
  const QString suffix = QFileInfo(path).suffix().toLower();
  if (suffix == QLatin1String("png")) return FigureFormat::Png;
  if (suffix == QLatin1String("svg")) return FigureFormat::Svg;
  if (suffix == QLatin1String("pdf")) return FigureFormat::Pdf;
  return std::nullopt;
}

QString saveFigure(QCustomPlot* plot,
                   const QString& path,
                   FigureFormat format,
                   const FigureSize& size) {
  if (!(size.widthMm > 0 && size.heightMm > 0 && size.widthMm <= 2000 && size.heightMm <= 2000))
    return QObject::tr("figure size %1 × %2 mm: each side must be in (0, 2000] mm")
        .arg(size.widthMm)
        .arg(size.heightMm);
  if (format == FigureFormat::Png && (size.dpi < 36 || size.dpi > 1200))
    return QObject::tr("%1 DPI: choose 36 to 1200").arg(size.dpi);
  const QFileInfo info(path);
  if (!info.absoluteDir().exists())
    return QObject::tr("cannot write '%1': the folder '%2' does not exist")
        .arg(path, info.absolutePath());
  const int width = points(size.widthMm);
  const int height = points(size.heightMm);
  bool ok = false;
  switch (format) {
    case FigureFormat::Png:
      ok = plot->savePng(path, width, height, size.dpi / 72.0, -1, size.dpi, QCP::ruDotsPerInch);
      break;
    case FigureFormat::Pdf:
      ok = plot->savePdf(path, width, height, QCP::epNoCosmetic, QStringLiteral("Apportion"),
                         QStringLiteral("Apportion figure"));
      break;
    case FigureFormat::Svg: {
      const QString error = saveSvg(plot, path, width, height);
      if (!error.isEmpty()) return error;
      ok = QFileInfo(path).size() > 0;
      break;
    }
  }
  plot->replot();  // toPainter/save* re-laid the plot out at the export size
  return ok ? QString()
            : QObject::tr("cannot write '%1' (check the folder's permissions)").arg(path);
}

void copyFigure(QCustomPlot* plot) {
  QApplication::clipboard()->setImage(plot->toPixmap(0, 0, 2.0).toImage());
}

void exportFigureInteractively(QCustomPlot* plot, QWidget* parent) {
  QDialog dialog(parent);
  dialog.setWindowTitle(QObject::tr("Export figure"));
  auto* form = new QFormLayout(&dialog);
  auto* path = new QLineEdit(QDir(folder()).filePath(QStringLiteral("figure.pdf")));
  auto* browse = new QPushButton(QObject::tr("Browse…"));
  auto* pathRow = new QHBoxLayout;
  pathRow->addWidget(path, 1);
  pathRow->addWidget(browse);
  form->addRow(QObject::tr("File (.pdf, .svg, .png)"), pathRow);
  auto* width = new QDoubleSpinBox;
  auto* height = new QDoubleSpinBox;
  for (QDoubleSpinBox* box : {width, height}) {
    box->setRange(20, 2000);
    box->setDecimals(0);
    box->setSuffix(QObject::tr(" mm"));
  }
  width->setValue(kWidthMm.value());
  height->setValue(kHeightMm.value());
  form->addRow(QObject::tr("Width"), width);
  form->addRow(QObject::tr("Height"), height);
  auto* dpi = new QSpinBox;
  dpi->setRange(36, 1200);
  dpi->setValue(kDpi.value());
  dpi->setToolTip(QObject::tr("Resolution of PNG files (PDF and SVG are vector graphics)"));
  form->addRow(QObject::tr("DPI (PNG)"), dpi);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Save | QDialogButtonBox::Cancel);
  form->addRow(buttons);
  QObject::connect(browse, &QPushButton::clicked, &dialog, [&] {
    const QString chosen =
        QFileDialog::getSaveFileName(&dialog, QObject::tr("Export figure"), path->text(),
                                     QObject::tr("PDF (*.pdf);;SVG (*.svg);;PNG (*.png)"));
    if (!chosen.isEmpty()) path->setText(chosen);
  });
  QObject::connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
  QObject::connect(buttons, &QDialogButtonBox::accepted, &dialog, [&] {
    const auto format = figureFormatFromPath(path->text());
    if (!format) {
      QMessageBox::warning(
          &dialog, QObject::tr("Export figure"),
          QObject::tr("'%1': end the file name with .pdf, .svg or .png.").arg(path->text()));
      return;
    }
    const FigureSize size{width->value(), height->value(), dpi->value()};
    const QString error = saveFigure(plot, path->text(), *format, size);
    if (!error.isEmpty()) {
      QMessageBox::warning(&dialog, QObject::tr("Export figure"), error);
      return;
    }
    kLastFolder.setValue(QFileInfo(path->text()).absolutePath());
    kWidthMm.setValue(size.widthMm);
    kHeightMm.setValue(size.heightMm);
    kDpi.setValue(size.dpi);
    dialog.accept();
  });
  dialog.exec();
}

void exportCsvInteractively(const CsvWriter& csv, QWidget* parent) {
  const QString path = QFileDialog::getSaveFileName(
      parent, QObject::tr("Export data as CSV"),
      QDir(folder()).filePath(QStringLiteral("data.csv")), QObject::tr("CSV (*.csv)"));
  if (path.isEmpty()) return;
  const QString error = csv(path);
  if (!error.isEmpty()) {
    QMessageBox::warning(parent, QObject::tr("Export data"), error);
    return;
  }
  kLastFolder.setValue(QFileInfo(path).absolutePath());
}

QString writePlottablesCsv(QCustomPlot* plot, const QString& path) {
  std::ofstream out(path.toStdString(), std::ios::binary);
  if (!out)
    return QObject::tr("cannot write '%1' (check that the folder exists and is writable)")
        .arg(path);
  out << "plottable,kind,x,x_label,y,value\n";
  const auto num = [](double v) { return csv_exact_number(v); };
  for (int i = 0; i < plot->plottableCount(); ++i) {
    QCPAbstractPlottable* p = plot->plottable(i);
    const std::string name = csv_escape(p->name().toStdString());
    if (auto* graph = qobject_cast<QCPGraph*>(p)) {
      for (auto it = graph->data()->constBegin(); it != graph->data()->constEnd(); ++it)
        out << name << ",graph," << num(it->key) << ",,," << num(it->value) << '\n';
    } else if (auto* bars = qobject_cast<QCPBars*>(p)) {
      auto ticker = qSharedPointerDynamicCast<QCPAxisTickerText>(bars->keyAxis()->ticker());
      for (auto it = bars->data()->constBegin(); it != bars->data()->constEnd(); ++it) {
        const QString label = ticker ? ticker->ticks().value(it->key) : QString();
        out << name << ",bars," << num(it->key) << ',' << csv_escape(label.toStdString()) << ",,"
            << num(it->value) << '\n';
      }
    } else if (auto* map = qobject_cast<QCPColorMap*>(p)) {
      QCPColorMapData* d = map->data();
      for (int x = 0; x < d->keySize(); ++x)
        for (int y = 0; y < d->valueSize(); ++y) {
          double kx = 0;
          double ky = 0;
          d->cellToCoord(x, y, &kx, &ky);
          out << name << ",colormap," << num(kx) << ",," << num(ky) << ',' << num(d->cell(x, y))
              << '\n';
        }
    }
  }
  out.close();
  return out ? QString() : QObject::tr("writing '%1' failed (disk full?)").arg(path);
}

void installFigureMenu(QCustomPlot* plot, CsvWriter csv, std::function<void(QMenu*)> extra) {
  if (!csv) csv = [plot](const QString& path) { return writePlottablesCsv(plot, path); };
  plot->setContextMenuPolicy(Qt::CustomContextMenu);
  QObject::connect(plot, &QWidget::customContextMenuRequested, plot,
                   [plot, csv = std::move(csv), extra = std::move(extra)](const QPoint& at) {
                     QMenu menu(plot);
                     menu.addAction(QObject::tr("Export figure (PDF, SVG, PNG)…"), plot,
                                    [plot] { exportFigureInteractively(plot, plot->window()); });
                     menu.addAction(QObject::tr("Export data as CSV…"), plot,
                                    [plot, csv] { exportCsvInteractively(csv, plot->window()); });
                     menu.addAction(QObject::tr("Copy figure"), plot, [plot] { copyFigure(plot); });
                     if (extra) {
                       menu.addSeparator();
                       extra(&menu);
                     }
                     menu.exec(plot->mapToGlobal(at));
                   });
}

}  // namespace apportion::ui
