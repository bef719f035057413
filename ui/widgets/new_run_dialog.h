// SPDX-License-Identifier: GPL-3.0-or-later
// NewRunDialog: pick a preset from experiments/*.json, edit its JSON (a text editor plus form
// fields for common knobs, kept in sync), see the ap_core validation error inline (Launch is
// disabled while invalid) and an allocation preview. The method combo covers lora, uniform,
// mola, guilomo (stage, architect mode, split, readout, search steps) and drlora /
// static_frequency (r_init, r_target, r_max); Launch writes
// <workspace>/configs/<name>-<timestamp>.json and emits launchRequested(path).
#pragma once

#include <QDialog>
#include <QDir>
#include <QString>

#include <nlohmann/json.hpp>

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
  QGroupBox* guilomoBox() const { return m_guilomoBox; }
  QComboBox* guilomoStageCombo() const { return m_glStage; }
  QComboBox* architectModeCombo() const { return m_glArchitect; }
  QComboBox* splitCombo() const { return m_glSplit; }
  QComboBox* readoutCombo() const { return m_glReadout; }
  QSpinBox* searchStepsSpin() const { return m_glSearchSteps; }
  QGroupBox* drloraBox() const { return m_drBox; }
  QSpinBox* rInitSpin() const { return m_drInit; }
  QSpinBox* rTargetSpin() const { return m_drTarget; }
  QSpinBox* rMaxSpin() const { return m_drMax; }
  class BackbonePicker* backbonePicker() const {
    return m_backbone;
  }

 public Q_SLOTS:
  /// Writes the config file, emits launchRequested and accepts the dialog.
  void launch();

 Q_SIGNALS:
  void launchRequested(const QString& configPath);

 private Q_SLOTS:
  void onPresetChanged(int index);
  void onTextChanged();

 private:
  QWidget* buildForm();
  QGroupBox* buildGuiLoMoBox();
  QGroupBox* buildDrLoraBox();
  /// Shows the method's own controls (GuiLoMo, DR-LoRA) and enables the shared ones.
  void showMethodControls(const QString& method, bool hasAdapters);
  void loadPresets(const QString& experimentsDir);
  void syncFormFromJson(const nlohmann::json& j);
  void patchJson(const std::string& dottedPath, const nlohmann::json& value);
  void applyMethod(const QString& method);
  void useBackboneFolder(const QString& dir);

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
  QGroupBox* m_guilomoBox = nullptr;
  QComboBox* m_glStage = nullptr;
  QComboBox* m_glArchitect = nullptr;
  QComboBox* m_glSplit = nullptr;
  QComboBox* m_glReadout = nullptr;
  QSpinBox* m_glSearchSteps = nullptr;
  QGroupBox* m_drBox = nullptr;
  QLabel* m_drInitLabel = nullptr;
  QSpinBox* m_drInit = nullptr;
  QSpinBox* m_drTarget = nullptr;
  QSpinBox* m_drMax = nullptr;
  BackendQueries m_queries;
  class BackbonePicker* m_backbone = nullptr;
};

}  // namespace apportion::ui
