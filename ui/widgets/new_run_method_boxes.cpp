// SPDX-License-Identifier: GPL-3.0-or-later
// The New-run dialog's method settings: one group box per method that declares fields
// (MethodField), shown while that method is chosen, kept in step with the JSON.
#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QSpinBox>
#include <QVBoxLayout>

#include "core/common/error.h"
#include "core/config/experiment_config.h"
#include "core/methods/method_registry.h"
#include "ui/widgets/method_field_widget.h"
#include "ui/widgets/new_run_dialog.h"

namespace apportion::ui {

QWidget* NewRunDialog::buildMethodBoxes() {
  auto* container = new QWidget;
  auto* layout = new QVBoxLayout(container);
  layout->setContentsMargins(0, 0, 0, 0);
  for (const Method* m : methods()) {
    MethodBox b;
    b.fields = m->fields();
    if (b.fields.empty()) continue;
    b.method = m;
    b.box = new QGroupBox(QString::fromStdString(m->label()));
    auto* fl = new QFormLayout(b.box);
    for (const MethodField& f : b.fields) {
      QWidget* w = buildFieldWidget(*m, f);
      auto* label = new QLabel(QString::fromStdString(f.label));
      label->setToolTip(w->toolTip());
      label->setBuddy(w);
      fl->addRow(label, w);
      b.widgets.push_back(w);
    }
    try {
      const nlohmann::json defaults = m->section_json(AllocationConfig{});
      if (defaults.is_object()) b.defaults = defaults;
    } catch (const Error&) {
    } catch (const nlohmann::json::exception&) {
    }
    b.box->setVisible(false);
    layout->addWidget(b.box);
    m_methodBoxes.push_back(std::move(b));
  }
  return container;
}

QWidget* NewRunDialog::buildFieldWidget(const Method& method, const MethodField& f) {
  const Method* m = &method;
  const std::string path = "allocation." + method.section() + "." + f.key;
  // The edit patches the JSON only while its method is the chosen one (boxes of other methods
  // are hidden, but a sync from the JSON moves them too).
  return makeMethodFieldWidget(f, this, [this, m, path](QWidget* widget, const nlohmann::json& v) {
    if (m_syncing) return;
    widget->setProperty(kMethodFieldKnownProperty, true);
    if (currentMethod() == m) patchJson(path, v);
  });
}

const Method* NewRunDialog::currentMethod() const {
  const auto& all = methods();
  const int row = m_method->currentIndex();
  return row >= 0 && row < static_cast<int>(all.size()) ? all[static_cast<size_t>(row)] : nullptr;
}

const NewRunDialog::MethodBox* NewRunDialog::boxOf(const QString& name) const {
  const Method* m = find_method(name.toStdString());
  for (const MethodBox& b : m_methodBoxes)
    if (m && b.method == m) return &b;
  return nullptr;
}

QGroupBox* NewRunDialog::methodBox(const QString& name) const {
  const MethodBox* b = boxOf(name);
  return b ? b->box : nullptr;
}

QWidget* NewRunDialog::methodFieldWidget(const QString& name, const QString& key) const {
  const MethodBox* b = boxOf(name);
  if (!b) return nullptr;
  for (size_t i = 0; i < b->fields.size(); ++i)
    if (b->fields[i].key == key.toStdString()) return b->widgets[i];
  return nullptr;
}

void NewRunDialog::syncMethodFields(const nlohmann::json& j) {
  for (MethodBox& b : m_methodBoxes) {
    const std::string section = b.method->section();
    const nlohmann::json* values = nullptr;
    if (j.is_object() && j.contains("allocation") && j["allocation"].is_object() &&
        j["allocation"].contains(section))
      values = &j["allocation"][section];
    for (size_t i = 0; i < b.fields.size(); ++i) {
      const MethodField& f = b.fields[i];
      QWidget* w = b.widgets[i];
      bool shown = false;
      try {
        if (values && values->is_object() && values->contains(f.key))
          shown = showMethodFieldValue(f, w, (*values)[f.key]);
        if (!shown && b.defaults.is_object() && b.defaults.contains(f.key))
          shown = showMethodFieldValue(f, w, b.defaults[f.key]);
      } catch (const nlohmann::json::exception&) {  // out of int range and the like
      }
      w->setProperty(kMethodFieldKnownProperty, shown);
    }
  }
}

void NewRunDialog::showMethodControls(const Method* method, bool hasAdapters) {
  const MethodTraits t = method ? method->traits() : MethodTraits{};
  const bool on = hasAdapters && method != nullptr;
  m_molaPreset->setEnabled(on && t.uses_preset);
  m_experts->setEnabled(on && t.uses_num_experts);
  m_topK->setEnabled(on && t.uses_top_k);
  for (const MethodBox& b : m_methodBoxes) b.box->setVisible(on && b.method == method);
}

}  // namespace apportion::ui
