// SPDX-License-Identifier: GPL-3.0-or-later
// Smoothing and log-axis controls shared by a view's curve plots.
#include "ui/widgets/curve_toolbar.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>

#include "ui/plots/metric_plot.h"
#include "ui/settings/preference.h"

namespace apportion::ui {

namespace {
const Preference<QString> kKind(QStringLiteral("curves/smoothing"), QStringLiteral("none"));
const Preference<double> kWeight(QStringLiteral("curves/ema_weight"), 0.9);
const Preference<int> kWindow(QStringLiteral("curves/window"), 25);
const Preference<bool> kLog(QStringLiteral("curves/log_loss"), false);
}  // namespace

CurveToolbar::CurveToolbar(QWidget* parent)
    : QWidget(parent),
      m_kind(new QComboBox),
      m_weight(new QDoubleSpinBox),
      m_window(new QSpinBox),
      m_log(new QCheckBox(tr("Log loss axis"))) {
  auto* row = new QHBoxLayout(this);
  row->setContentsMargins(0, 0, 0, 0);
  row->addWidget(new QLabel(tr("Smoothing:")));
  m_kind->addItem(tr("none"), QStringLiteral("none"));
  m_kind->addItem(tr("EMA (debiased)"), QStringLiteral("ema"));
  m_kind->addItem(tr("moving average"), QStringLiteral("window"));
  m_kind->setToolTip(
      tr("Smoothed line over the faint raw curve (training curves; evaluations stay raw)"));
  row->addWidget(m_kind);
  m_weight->setRange(0.0, 0.999);
  m_weight->setDecimals(3);
  m_weight->setSingleStep(0.05);
  m_weight->setPrefix(tr("weight "));
  m_weight->setToolTip(tr("EMA weight, as TensorBoard's slider: 0 = raw, 0.99 = very smooth"));
  row->addWidget(m_weight);
  m_window->setRange(1, 100000);
  m_window->setPrefix(tr("window "));
  m_window->setSuffix(tr(" rows"));
  m_window->setToolTip(tr("Trailing mean over this many logged rows"));
  row->addWidget(m_window);
  row->addSpacing(12);
  m_log->setToolTip(tr("Logarithmic y axis on the loss plot (right-click any plot for more)"));
  row->addWidget(m_log);
  auto* whole = new QPushButton(tr("Whole run"));
  whole->setToolTip(tr("Reset zoom (or double-click a plot); wheel zooms, drag pans"));
  row->addWidget(whole);
  row->addStretch(1);

  const Smoothing saved{smoothing_kind_from_name(kKind.value().toStdString()), kWeight.value(),
                        kWindow.value()};
  setSmoothing(saved);
  m_log->setChecked(kLog.value());
  connect(m_kind, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
    kKind.setValue(m_kind->currentData().toString());
    apply();
  });
  connect(m_weight, qOverload<double>(&QDoubleSpinBox::valueChanged), this, [this](double v) {
    kWeight.setValue(v);
    apply();
  });
  connect(m_window, qOverload<int>(&QSpinBox::valueChanged), this, [this](int v) {
    kWindow.setValue(v);
    apply();
  });
  connect(m_log, &QCheckBox::toggled, this, [this](bool on) {
    kLog.setValue(on);
    apply();
  });
  connect(whole, &QPushButton::clicked, this, [this] {
    for (const auto& [plot, log] : m_plots) plot->resetZoom();
  });
}

void CurveToolbar::addPlot(MetricPlot* plot, bool logAxis) {
  m_plots.emplace_back(plot, logAxis);
  plot->setSmoothing(smoothing());
  if (logAxis) plot->setLogY(m_log->isChecked());
}

Smoothing CurveToolbar::smoothing() const {
  return {smoothing_kind_from_name(m_kind->currentData().toString().toStdString()),
          m_weight->value(), m_window->value()};
}

void CurveToolbar::setSmoothing(const Smoothing& smoothing) {
  const QSignalBlocker b1(m_kind);
  const QSignalBlocker b2(m_weight);
  const QSignalBlocker b3(m_window);
  m_kind->setCurrentIndex(
      std::max(0, m_kind->findData(QString::fromStdString(smoothing_name(smoothing.kind)))));
  m_weight->setValue(smoothing.ema_weight);
  m_window->setValue(static_cast<int>(smoothing.window));
  apply();
}

bool CurveToolbar::logY() const { return m_log->isChecked(); }

void CurveToolbar::setLogY(bool on) {
  const QSignalBlocker block(m_log);  // programmatic (command line, tests): not remembered
  m_log->setChecked(on);
  apply();
}

void CurveToolbar::apply() {
  const Smoothing s = smoothing();
  m_weight->setVisible(s.kind == SmoothingKind::Ema);
  m_window->setVisible(s.kind == SmoothingKind::Window);
  for (const auto& [plot, log] : m_plots) {
    plot->setSmoothing(s);
    if (log) plot->setLogY(m_log->isChecked());
  }
}

}  // namespace apportion::ui
