// SPDX-License-Identifier: GPL-3.0-or-later
// Editors for the settings a method declares (MethodField, core/methods/method.h): the New-run
// dialog builds one per field of the chosen method, so a new method needs no GUI code.
#include "ui/widgets/method_field_widget.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <QAbstractSpinBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLineEdit>
#include <QSpinBox>

namespace apportion::ui {

QWidget* makeMethodFieldWidget(const MethodField& f, QObject* context, const FieldEdited& onEdit) {
  using K = MethodField::Kind;
  QWidget* w = nullptr;
  switch (f.kind) {
    case K::Int: {
      auto* spin = new QSpinBox;
      const double hi = f.max > f.min ? f.max : std::numeric_limits<int>::max();
      spin->setRange(static_cast<int>(std::max<double>(f.min, std::numeric_limits<int>::min())),
                     static_cast<int>(std::min<double>(hi, std::numeric_limits<int>::max())));
      QObject::connect(spin, qOverload<int>(&QSpinBox::valueChanged), context,
                       [onEdit, spin](int v) { onEdit(spin, v); });
      w = spin;
      break;
    }
    case K::Double: {
      auto* spin = new QDoubleSpinBox;
      spin->setDecimals(f.decimals);
      spin->setRange(f.min, f.max > f.min ? f.max : 1e12);
      const double unit = std::pow(10.0, -f.decimals);
      spin->setSingleStep(f.max > f.min ? std::max(unit, (f.max - f.min) / 100.0) : 1.0);
      QObject::connect(spin, qOverload<double>(&QDoubleSpinBox::valueChanged), context,
                       [onEdit, spin](double v) { onEdit(spin, v); });
      w = spin;
      break;
    }
    case K::Choice: {
      auto* combo = new QComboBox;
      for (const std::string& c : f.choices) combo->addItem(QString::fromStdString(c));
      QObject::connect(combo, &QComboBox::currentTextChanged, context,
                       [onEdit, combo](const QString& v) { onEdit(combo, v.toStdString()); });
      w = combo;
      break;
    }
    case K::Text: {
      auto* edit = new QLineEdit;
      QObject::connect(edit, &QLineEdit::textChanged, context,
                       [onEdit, edit](const QString& v) { onEdit(edit, v.toStdString()); });
      w = edit;
      break;
    }
  }
  if (!f.min_means.empty()) {
    if (auto* spin = qobject_cast<QAbstractSpinBox*>(w))
      spin->setSpecialValueText(QString::fromStdString(f.min_means));
  }
  w->setToolTip(QString::fromStdString(f.tooltip));
  return w;
}

bool showMethodFieldValue(const MethodField& f, QWidget* w, const nlohmann::json& v) {
  using K = MethodField::Kind;
  switch (f.kind) {
    case K::Int:
      if (!v.is_number()) return false;
      static_cast<QSpinBox*>(w)->setValue(v.get<int>());
      return true;
    case K::Double:
      if (!v.is_number()) return false;
      static_cast<QDoubleSpinBox*>(w)->setValue(v.get<double>());
      return true;
    case K::Choice:
      if (!v.is_string()) return false;
      static_cast<QComboBox*>(w)->setCurrentText(QString::fromStdString(v.get<std::string>()));
      return true;
    case K::Text: {
      if (!v.is_string()) return false;
      auto* edit = static_cast<QLineEdit*>(w);
      const QString text = QString::fromStdString(v.get<std::string>());
      if (edit->text() != text) edit->setText(text);  // keeps the cursor while typing
      return true;
    }
  }
  return false;
}

nlohmann::json methodFieldValue(const MethodField& f, const QWidget* w) {
  using K = MethodField::Kind;
  switch (f.kind) {
    case K::Int:
      return static_cast<const QSpinBox*>(w)->value();
    case K::Double:
      return static_cast<const QDoubleSpinBox*>(w)->value();
    case K::Choice:
      return static_cast<const QComboBox*>(w)->currentText().toStdString();
    case K::Text:
      return static_cast<const QLineEdit*>(w)->text().toStdString();
  }
  return nullptr;
}

}  // namespace apportion::ui
