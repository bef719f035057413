// SPDX-License-Identifier: GPL-3.0-or-later
// NewRunDialog: pick a preset from experiments/*.json, edit its JSON (a text editor plus form
// fields for common knobs, kept in sync), see the ap_core validation error inline (Launch is
// disabled while invalid) and an allocation preview. The method combo lists every registered
// method (core/methods/method_registry.h); a method with settings gets a group box built from
// its fields() (allocation.<section>.<key>), shown while it is the chosen one, so a new method
// needs no code here. A "Data suite" combo picks data.suite; with "datasets" the Datasets section
// (DatasetEditor: datasets, files, eval splits, templates, protocols) is enabled and writes
// data.datasets, data.root and train.checkpoint_rule. "Run on" (ExecutorPicker) chooses this
// computer or an executor profile (the button then reads Submit). Launch writes
// <workspace>/configs/<name>-<timestamp>.json and emits launchRequested(path); the receiver
// reads executorProfile() to launch here or submit to the profile.
#pragma once

#include <QDialog>
#include <QDir>
#include <QString>

#include <functional>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/methods/method.h"
#include "ui/widgets/backend_queries.h"

class QComboBox;
class QDoubleSpinBox;
class QGroupBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;

namespace apportion::ui {

class NewRunDialog : public QDialog {
  Q_OBJECT

 public:
  NewRunDialog(const QString& experimentsDir,
               const QDir& workspace,
               BackendQueries queries = {},
               QWidget* parent = nullptr);

  /// Selects a preset by file name ("tiny.json"); false if not listed.
  bool selectPreset(const QString& fileName);
  /// Replaces the editor text (validation follows as on a user edit).
  void setConfigText(const QString& json);
  QString configText() const;
  /// True when the current text parses and validates.
  bool isValid() const { return m_valid; }
  /// The error shown (empty when valid).
  QString errorText() const;
  QString previewText() const;
  /// Path written by the last launch.
  const QString& writtenConfigPath() const { return m_writtenPath; }

  QComboBox* presetCombo() const { return m_presets; }
  QPushButton* launchButton() const { return m_launch; }
  QPlainTextEdit* editor() const { return m_editor; }
  QSpinBox* expertsSpin() const { return m_experts; }
  QSpinBox* topKSpin() const { return m_topK; }
  QSpinBox* rankSpin() const { return m_rank; }
  QSpinBox* stepsSpin() const { return m_steps; }
  QComboBox* methodCombo() const { return m_method; }
  QComboBox* molaPresetCombo() const { return m_molaPreset; }
  /// data.suite: builtin, jsonl, datasets.
  QComboBox* suiteCombo() const { return m_suite; }
  /// The Datasets section (enabled while data.suite is "datasets").
  class DatasetEditor* datasetEditor() const {
    return m_datasets;
  }
  /// The settings box of method `name` (nullptr when it has no fields()).
  QGroupBox* methodBox(const QString& name) const;
  /// The widget of field `key` in method `name`'s box (QSpinBox, QDoubleSpinBox, QComboBox or
  /// QLineEdit by MethodField::Kind), or nullptr.
  QWidget* methodFieldWidget(const QString& name, const QString& key) const;
  class BackbonePicker* backbonePicker() const {
    return m_backbone;
  }
  class ExecutorPicker* executorPicker() const {
    return m_executor;
  }
  /// "" to train on this computer, else the executor profile file to submit to (--on).
  QString executorProfile() const;

 public Q_SLOTS:
  /// Writes the config file, emits launchRequested and accepts the dialog.
  void launch();

 Q_SIGNALS:
  void launchRequested(const QString& configPath);

 private Q_SLOTS:
  void onPresetChanged(int index);
  void onTextChanged();

 private:
  /// One method's settings box: a widget per MethodField, in fields() order.
  struct MethodBox {
    const Method* method = nullptr;
    QGroupBox* box = nullptr;
    std::vector<MethodField> fields;
    std::vector<QWidget*> widgets;
    nlohmann::json defaults;  ///< section_json(AllocationConfig{}) when an object
  };

  QWidget* buildForm();
  /// One box per method with fields(), all hidden; each widget patches allocation.<section>.
  QWidget* buildMethodBoxes();
  QWidget* buildFieldWidget(const Method& method, const MethodField& field);
  /// The method of the combo's current row (nullptr when none).
  const Method* currentMethod() const;
  const MethodBox* boxOf(const QString& name) const;
  /// Shows the method's own box and enables the shared controls it reads.
  void showMethodControls(const Method* method, bool hasAdapters);
  /// Fills every box's widgets from allocation.<section> (else the section's defaults).
  void syncMethodFields(const nlohmann::json& j);
  void loadPresets(const QString& experimentsDir);
  /// `parsed`: the config when the text parses and validates (else nullptr).
  void syncFormFromJson(const nlohmann::json& j, const ExperimentConfig* parsed);
  void patchJson(const std::string& dottedPath, const nlohmann::json& value);
  void applyMethod(int row);
  void useBackboneFolder(const QString& dir);
  /// Parses the editor text, lets `edit` change it (an object) and shows the result.
  void editJson(const std::function<void(nlohmann::json&)>& edit);
  void applySuite(const QString& suite);

  QDir m_workspace;
  bool m_valid = false;
  bool m_syncing = false;
  QString m_writtenPath;

  QComboBox* m_presets = nullptr;
  QPlainTextEdit* m_editor = nullptr;
  QLabel* m_description = nullptr;
  QLabel* m_error = nullptr;
  QLabel* m_preview = nullptr;
  QPushButton* m_launch = nullptr;
  QComboBox* m_method = nullptr;
  QComboBox* m_molaPreset = nullptr;
  QSpinBox* m_experts = nullptr;
  QSpinBox* m_topK = nullptr;
  QSpinBox* m_rank = nullptr;
  QDoubleSpinBox* m_lr = nullptr;
  QSpinBox* m_steps = nullptr;
  QComboBox* m_suite = nullptr;
  class DatasetEditor* m_datasets = nullptr;
  std::vector<MethodBox> m_methodBoxes;
  BackendQueries m_queries;
  class BackbonePicker* m_backbone = nullptr;
  class ExecutorPicker* m_executor = nullptr;
};

}  // namespace apportion::ui
