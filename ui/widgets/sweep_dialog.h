// SPDX-License-Identifier: GPL-3.0-or-later
// SweepDialog (Run → New sweep…): one experiment over a grid of config values and seeds, run by
// `apportion sweep` on an executor profile (core/remote/sweep_spec.h has the file format). The
// grid editor has a row per config key (values comma-separated, JSON when they parse, else
// strings; a key whose experiment value is a string keeps strings). It shows the member count
// and each member live, with the first member config that ap_core rejects; "Open…"/"Save…"
// read and write sweep JSON; "Preview" runs `--dry-run`; "Submit" saves
// <workspace>/sweeps/<name>.json and submits it, showing the CLI's output.
//
// Intended usage:
//   SweepBackend backend;  // app/gui fills it with `apportion sweep` child processes
//   auto* d = new SweepDialog(experimentsDir, workspaceDir, backend, parent);
//   d->setExperimentPath(path); d->addGridRow("train.lr", "0.001, 0.003"); d->submit();
//   connect(d, &SweepDialog::submitted, …);  // file, profile, ok, output
#pragma once

#include <functional>

#include <QDialog>
#include <QDir>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <nlohmann/json.hpp>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace apportion::ui {

class ExecutorPicker;

/// How the dialog reaches `apportion sweep` (the GUI never links the trainer).
struct SweepBackend {
  using Done = std::function<void(bool ok, const QString& output)>;
  /// Runs `apportion sweep FILE --on PROFILE [--dry-run]`; calls `done` on the GUI thread.
  std::function<void(const QString& file, const QString& profile, bool dryRun, Done done)> run;
};

class SweepDialog : public QDialog {
  Q_OBJECT

 public:
  enum GridColumn { KeyColumn, ValuesColumn, CurrentColumn };

  SweepDialog(const QString& experimentsDir,
              const QDir& workspace,
              SweepBackend backend = {},
              QWidget* parent = nullptr);
  /// Disconnects its fields first (a field losing focus while the dialog dies must not
  /// revalidate a half-destroyed dialog).
  ~SweepDialog() override;

  void setExperimentPath(const QString& path);
  QString experimentPath() const;
  /// The name field ("" = the experiment's name).
  void setSweepName(const QString& name);
  /// The name the sweep file gets: the field, else the experiment's name, else "sweep".
  QString sweepName() const;
  /// Appends a grid row (key, comma-separated values).
  void addGridRow(const QString& key = {}, const QString& values = {});
  void clearGrid();
  QTableWidget* grid() const { return m_grid; }
  QLineEdit* seedsEdit() const { return m_seeds; }
  /// Fixed overrides for every member, "key=value; key=value".
  QLineEdit* fixedEdit() const { return m_fixed; }
  /// 0: the experiment's own train.steps.
  QSpinBox* maxStepsSpin() const { return m_maxSteps; }
  /// 0: the profile's max_parallel.
  QSpinBox* maxParallelSpin() const { return m_maxParallel; }
  ExecutorPicker* executorPicker() const { return m_executor; }
  QPushButton* submitButton() const { return m_submit; }
  QPushButton* previewButton() const { return m_previewButton; }
  /// Members, or the output of the last CLI call.
  QPlainTextEdit* outputView() const { return m_output; }

  /// The sweep as JSON ("experiment" relative to `sweepDir` when it is near, else absolute);
  /// a null value when the dialog does not hold a valid sweep (errorText() says why).
  nlohmann::ordered_json sweepJson(const QString& sweepDir = {}) const;
  /// Fills the dialog from a sweep object; relative paths are resolved against `sweepDir`.
  bool setSweepJson(const nlohmann::ordered_json& j,
                    const QString& sweepDir,
                    QString* error = nullptr);
  bool loadFile(const QString& path, QString* error = nullptr);
  bool saveFile(const QString& path, QString* error = nullptr);

  /// Members of the sweep as it stands, -1 while it is not valid.
  int memberCount() const { return m_memberCount; }
  QString errorText() const;
  /// "6 runs: 2 grid points × 3 seeds …"
  QString countText() const;
  /// What --on gets: the profile file, or "local" for this computer.
  QString profileArgument() const;
  /// The sweep file the last successful submit wrote.
  const QString& submittedFile() const { return m_submittedFile; }
  /// True while a CLI call of this dialog runs.
  bool isBusy() const { return m_busy; }

 public Q_SLOTS:
  /// `apportion sweep --dry-run` of the current sweep; its output replaces the member list.
  void preview();
  /// Saves <workspace>/sweeps/<name>.json (a new name when that file holds another sweep) and
  /// submits it; the dialog stays open with the output.
  void submit();

 Q_SIGNALS:
  void submitted(const QString& file, const QString& profile, bool ok, const QString& output);

 private:
  QWidget* buildGrid();
  /// sweepJson() with the reason when it is not valid.
  nlohmann::ordered_json buildSweep(const QString& sweepDir, QString* error) const;
  /// Re-reads the experiment (when `experimentChanged`) and recomputes members and errors.
  void revalidate(bool experimentChanged = false);
  /// The grid rows as (key, values) with values typed by the experiment; sets *error.
  bool readGrid(nlohmann::ordered_json& grid, QString* error) const;
  QString experimentRef(const QString& sweepDir) const;
  /// True when the experiment's value at `key` is a string (grid values stay strings).
  bool keyHoldsString(const QString& key) const;
  void openFileDialog();
  void saveFileDialog();
  void runCli(bool dryRun, const QString& file);
  void setBusy(bool busy);

  QDir m_workspace;
  QString m_experimentsDir;
  SweepBackend m_backend;
  nlohmann::json m_experiment;  ///< the experiment file's JSON (null when unreadable)
  QString m_experimentError;    ///< why it is unreadable
  QStringList m_keys;           ///< its flattened keys (key completer)
  int m_memberCount = -1;
  bool m_busy = false;
  QString m_submittedFile;
  QTemporaryDir m_previewDir;

  QLineEdit* m_name = nullptr;
  QLineEdit* m_experimentEdit = nullptr;
  QLabel* m_experimentInfo = nullptr;
  QTableWidget* m_grid = nullptr;
  QLineEdit* m_seeds = nullptr;
  QLineEdit* m_fixed = nullptr;
  QSpinBox* m_maxSteps = nullptr;
  QSpinBox* m_maxParallel = nullptr;
  ExecutorPicker* m_executor = nullptr;
  QLabel* m_count = nullptr;
  QLabel* m_error = nullptr;
  QPlainTextEdit* m_output = nullptr;
  QPushButton* m_previewButton = nullptr;
  QPushButton* m_submit = nullptr;
  QPushButton* m_close = nullptr;
};

}  // namespace apportion::ui
