// SPDX-License-Identifier: GPL-3.0-or-later
// BackbonePicker: the New-run dialog's backbone and device rows — a model-folder chooser whose
// choice is inspected (architecture, layers, experts, parameter counts) before launch, and a
// device combo offering exactly what `apportion devices` lists.
#pragma once

#include <QWidget>

#include "ui/widgets/backend_queries.h"

class QComboBox;
class QLabel;
class QPushButton;

namespace apportion::ui {

class BackbonePicker : public QWidget {
  Q_OBJECT

 public:
  explicit BackbonePicker(BackendQueries queries, QWidget* parent = nullptr);

  /// Shows a folder without emitting (the form following the JSON text).
  void showBackbone(const QString& path, const QString& resolvedDir);
  /// Selects a device without emitting; unknown ids are added and marked unavailable.
  void showDevice(const QString& device);
  /// Inspects `dir` and emits backboneChosen(dir) when it is a usable model folder.
  void chooseFolder(const QString& dir);

  QComboBox* deviceCombo() const { return m_device; }
  QLabel* summaryLabel() const { return m_summary; }
  QPushButton* browseButton() const { return m_browse; }

 Q_SIGNALS:
  void backboneChosen(const QString& dir);
  void deviceChosen(const QString& device);

 private:
  void browse();
  void showInspection(const QString& dir);

  BackendQueries m_queries;
  QLabel* m_path = nullptr;
  QLabel* m_summary = nullptr;
  QPushButton* m_browse = nullptr;
  QComboBox* m_device = nullptr;
  bool m_syncing = false;
  QString m_inspectedDir;
};

}  // namespace apportion::ui
