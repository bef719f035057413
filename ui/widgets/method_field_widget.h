// SPDX-License-Identifier: GPL-3.0-or-later
// Editors for the settings a method declares (MethodField, core/methods/method.h): Int → spin
// box, Double → double spin box, Choice → combo box, Text → line edit, each with the field's
// range and tooltip.
//
// Intended usage:
//   QWidget* w = makeMethodFieldWidget(field, this, [](QWidget* w, const nlohmann::json& v) {
//     patch("allocation.<section>.<key>", v); });
//   showMethodFieldValue(field, w, json_value);      // false when the value does not fit
//   nlohmann::json v = methodFieldValue(field, w);
#pragma once

#include <functional>

#include <QWidget>
#include <nlohmann/json.hpp>

#include "core/methods/method.h"

namespace apportion::ui {

/// Property marking a field widget that holds a value from the JSON or the defaults (only
/// those are written when the method is chosen; an unknown one keeps the section's default).
constexpr const char* kMethodFieldKnownProperty = "apportionKnown";

/// Called with the widget and its new value when the user edits it.
using FieldEdited = std::function<void(QWidget*, const nlohmann::json&)>;

/// A new editor for `f` (its signals connected with `context` as the receiver's lifetime).
QWidget* makeMethodFieldWidget(const MethodField& f, QObject* context, const FieldEdited& onEdit);
/// Shows JSON value `v` in an editor of `f`; false when `v` does not fit the field's kind.
bool showMethodFieldValue(const MethodField& f, QWidget* w, const nlohmann::json& v);
/// The editor's value as JSON.
nlohmann::json methodFieldValue(const MethodField& f, const QWidget* w);

}  // namespace apportion::ui
