// SPDX-License-Identifier: GPL-3.0-or-later
// DatasetEditor: the New-run dialog's "Datasets" section (data.suite "datasets"): a list of
// datasets and, for the selected one, its name, file format (and GLUE task), train file, first
// eval split (file, split name, role), prompt template and evaluation protocol (id from
// protocol_ids() with protocol_description() as tooltip and help line, answer pattern, label list,
// few-shot count); plus data.root and train.checkpoint_rule. Each row keeps the JSON object it was
// read from and patches only the fields the form shows, so keys it has no control for (further
// eval splits, csv_columns, weight, max_examples, stop, num_beams, …) survive an edit. The dialog
// owns the config text; the editor reports edits by signal and is refreshed with showConfig().
//
// Intended usage:
//   auto* editor = new DatasetEditor;
//   connect(editor, &DatasetEditor::edited, this, [=] { editor->writeInto(configJson); … });
//   editor->showConfig(configJson);   // after every change of the config text
#pragma once

#include <vector>

#include <QGroupBox>
#include <nlohmann/json.hpp>

class QComboBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QSpinBox;

namespace apportion::ui {

class DatasetEditor : public QGroupBox {
  Q_OBJECT

 public:
  explicit DatasetEditor(QWidget* parent = nullptr);

  /// Shows data.datasets (a config without it keeps the rows), data.root and
  /// train.checkpoint_rule of a config (no signal).
  void showConfig(const nlohmann::json& config);
  /// The data.datasets array the rows stand for.
  nlohmann::json datasetsJson() const { return nlohmann::json(m_rows); }
  /// Writes data.datasets, data.root (removed when empty) and train.checkpoint_rule (unless it
  /// is the default "last" and the config has none) into a config object.
  void writeInto(nlohmann::json& config) const;
  int rowCount() const { return static_cast<int>(m_rows.size()); }
  /// Appends a dataset with defaults (alpaca, protocol teacher_forced), selects it, emits.
  void addRow();
  /// Removes the selected dataset, emits.
  void removeSelected();
  void selectRow(int row);
  int selectedRow() const;

  QListWidget* list() const { return m_list; }
  QPushButton* addButton() const { return m_add; }
  QPushButton* removeButton() const { return m_remove; }
  QLineEdit* nameEdit() const { return m_name; }
  QComboBox* formatCombo() const { return m_format; }
  QComboBox* glueTaskCombo() const { return m_glueTask; }
  QLineEdit* trainEdit() const { return m_train; }
  QLineEdit* evalEdit() const { return m_eval; }
  QLineEdit* splitEdit() const { return m_split; }
  QComboBox* roleCombo() const { return m_role; }
  QComboBox* templateCombo() const { return m_template; }
  QComboBox* protocolCombo() const { return m_protocol; }
  QLabel* protocolHelp() const { return m_protocolHelp; }
  QLineEdit* patternEdit() const { return m_pattern; }
  QLineEdit* labelsEdit() const { return m_labels; }
  QSpinBox* fewshotSpin() const { return m_fewshot; }
  QLineEdit* rootEdit() const { return m_root; }
  QComboBox* checkpointRuleCombo() const { return m_rule; }

 Q_SIGNALS:
  /// The user changed a dataset (added or removed one), data.root or the checkpoint rule:
  /// writeInto() the config.
  void edited();

 private:
  QWidget* buildDetails();
  /// Writes the form into the selected row's object and emits datasetsEdited.
  void onFormEdited();
  /// Fills the form from the selected row (or clears and disables it).
  void showRow(int row);
  /// Enables the pattern, labels and GLUE-task fields the chosen format and protocol use.
  void updateFieldStates();
  void refreshListItem(int row);
  void browse(QLineEdit* edit);

  std::vector<nlohmann::json> m_rows;
  bool m_syncing = false;

  QListWidget* m_list = nullptr;
  QPushButton* m_add = nullptr;
  QPushButton* m_remove = nullptr;
  QWidget* m_details = nullptr;
  QLineEdit* m_name = nullptr;
  QComboBox* m_format = nullptr;
  QComboBox* m_glueTask = nullptr;
  QLineEdit* m_train = nullptr;
  QLineEdit* m_eval = nullptr;
  QLineEdit* m_split = nullptr;
  QComboBox* m_role = nullptr;
  QComboBox* m_template = nullptr;
  QComboBox* m_protocol = nullptr;
  QLabel* m_protocolHelp = nullptr;
  QLineEdit* m_pattern = nullptr;
  QLineEdit* m_labels = nullptr;
  QSpinBox* m_fewshot = nullptr;
  QLineEdit* m_root = nullptr;
  QComboBox* m_rule = nullptr;
};

}  // namespace apportion::ui
