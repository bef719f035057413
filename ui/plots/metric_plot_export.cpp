// SPDX-License-Identifier: GPL-3.0-or-later
// MetricPlot's data export: the drawn points and raw rows of every visible curve as CSV.
#include <fstream>

#include <qcustomplot.h>

#include "core/common/error.h"
#include "ui/plots/metric_plot.h"
#include "ui/plots/metric_plot_curve.h"

namespace apportion::ui {

std::vector<ExportedCurve> MetricPlot::exportedCurves() {
  std::vector<ExportedCurve> out;
  auto graphPoints = [](QCPGraph* g, ExportedCurve& e) {
    for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it) {
      e.steps.push_back(it->key);
      e.values.push_back(it->value);
    }
  };
  for (const QString& id : m_order) {
    Curve& c = *curve(id);
    if (!c.visible) continue;
    const std::string series = (c.bandPart ? c.bandOf : c.id).toStdString();
    const std::string label = (c.bandPart ? c.bandOf : c.label).toStdString();
    if (!c.bandPart) {
      ExportedCurve drawn{series,
                          label,
                          m_smoothing.active() && c.smoothable()
                              ? "drawn_" + smoothing_name(m_smoothing.kind)
                              : std::string("drawn"),
                          {},
                          {}};
      graphPoints(c.graph, drawn);
      out.push_back(std::move(drawn));
      if (c.raw) {
        ExportedCurve faint{series, label, "drawn_raw", {}, {}};
        graphPoints(c.raw, faint);
        out.push_back(std::move(faint));
      }
    }
    c.data.ensureRaw();
    ExportedCurve raw{
        series,
        label,
        c.bandPart ? (c.id.endsWith(QStringLiteral("(max)")) ? "band_max" : "band_min") : "raw",
        {},
        {}};
    for (size_t i = 0; i < c.data.rawSteps().size(); ++i) {
      raw.steps.push_back(static_cast<double>(c.data.rawSteps()[i]));
      raw.values.push_back(c.data.rawValues()[i]);
    }
    out.push_back(std::move(raw));
  }
  return out;
}

QString MetricPlot::writeCsv(const QString& path) {
  std::vector<ExportedCurve> curves;
  try {
    curves = exportedCurves();
  } catch (const Error& e) {
    return tr("cannot read the plotted data: %1").arg(QString::fromUtf8(e.what()));
  }
  std::ofstream out(path.toStdString(), std::ios::binary);
  if (!out) return tr("cannot write '%1' (check that the folder exists and is writable)").arg(path);
  write_series_csv(out, curves);
  out.close();
  if (!out) return tr("writing '%1' failed (disk full?)").arg(path);
  return {};
}

}  // namespace apportion::ui
