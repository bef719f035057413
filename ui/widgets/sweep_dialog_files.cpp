// SPDX-License-Identifier: GPL-3.0-or-later
// SweepDialog's files and CLI calls: Open…/Save… of sweep JSON, the dry-run preview, and
// Submit (writes <workspace>/sweeps/<name>.json, runs `apportion sweep` through the backend).
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPointer>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QTableWidget>

#include "core/remote/sweep_spec.h"
#include "ui/widgets/executor_picker.h"
#include "ui/widgets/sweep_dialog.h"
#include "ui/widgets/sweep_values.h"

namespace apportion::ui {

namespace {

constexpr qint64 kMaxSweepFileBytes = 4 * 1024 * 1024;

bool writeText(const QString& path, const QByteArray& text, QString* error) {
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate) || f.write(text) != text.size()) {
    if (error) *error = QObject::tr("Cannot write %1: %2").arg(path, f.errorString());
    return false;
  }
  return true;
}

}  // namespace

bool SweepDialog::setSweepJson(const nlohmann::ordered_json& j,
                               const QString& sweepDir,
                               QString* error) {
  try {  // the CLI's own reading decides what a valid sweep file is
    sweep_spec_from_json(nlohmann::json::parse(j.dump()), tr("sweep").toStdString());
  } catch (const std::exception& e) {
    if (error) *error = QString::fromUtf8(e.what());
    return false;
  }
  const auto str = [&j](const char* key) {
    return j.contains(key) && j[key].is_string() ? QString::fromStdString(j[key].get<std::string>())
                                                 : QString();
  };
  m_name->setText(str("name"));
  const QString experiment = str("experiment");
  setExperimentPath(QFileInfo(experiment).isRelative() && !sweepDir.isEmpty()
                        ? QDir(sweepDir).absoluteFilePath(experiment)
                        : experiment);
  m_grid->setRowCount(0);
  if (j.contains("grid")) {
    for (const auto& [key, values] : j["grid"].items()) {
      const QString k = QString::fromStdString(key);
      const nlohmann::json v = nlohmann::json::parse(values.dump());
      const QString text = formatGridValues(v, keyHoldsString(k));
      addGridRow(k, text);
    }
  }
  if (m_grid->rowCount() == 0) addGridRow();
  std::vector<uint64_t> seeds;
  if (j.contains("seeds"))
    for (const auto& s : j["seeds"]) seeds.push_back(s.get<uint64_t>());
  m_seeds->setText(formatSeeds(seeds));
  QStringList fixed;
  if (j.contains("set"))
    for (const auto& s : j["set"]) fixed << QString::fromStdString(s.get<std::string>());
  m_fixed->setText(fixed.join(QStringLiteral("; ")));
  m_maxSteps->setValue(j.contains("max_steps") ? j["max_steps"].get<int>() : 0);
  m_maxParallel->setValue(j.contains("max_parallel") ? j["max_parallel"].get<int>() : 0);
  revalidate();
  return true;
}

bool SweepDialog::loadFile(const QString& path, QString* error) {
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) {
    if (error) *error = tr("Cannot read %1: %2").arg(path, f.errorString());
    return false;
  }
  if (f.size() > kMaxSweepFileBytes) {
    if (error) *error = tr("%1 is too large for a sweep file").arg(path);
    return false;
  }
  const auto j = nlohmann::ordered_json::parse(f.readAll().toStdString(), nullptr, false);
  if (j.is_discarded()) {
    if (error) *error = tr("%1 is not valid JSON").arg(path);
    return false;
  }
  QString why;
  if (!setSweepJson(j, QFileInfo(path).absolutePath(), &why)) {
    if (error) *error = tr("%1: %2").arg(path, why);
    return false;
  }
  return true;
}

bool SweepDialog::saveFile(const QString& path, QString* error) {
  QString why;
  const nlohmann::ordered_json j = buildSweep(QFileInfo(path).absolutePath(), &why);
  if (j.is_null()) {
    if (error) *error = why;
    return false;
  }
  return writeText(path, QByteArray::fromStdString(j.dump(2) + "\n"), error);
}

void SweepDialog::openFileDialog() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Open sweep"),
                                                    m_workspace.filePath(QStringLiteral("sweeps")),
                                                    tr("Sweep JSON (*.json)"));
  QString error;
  if (!path.isEmpty() && !loadFile(path, &error))
    QMessageBox::warning(this, tr("Open sweep"), error);
}

void SweepDialog::saveFileDialog() {
  const QDir dir(m_workspace.filePath(QStringLiteral("sweeps")));
  QDir().mkpath(dir.absolutePath());
  const QString path = QFileDialog::getSaveFileName(
      this, tr("Save sweep"), dir.filePath(sweepName() + QStringLiteral(".json")),
      tr("Sweep JSON (*.json)"));
  QString error;
  if (!path.isEmpty() && !saveFile(path, &error))
    QMessageBox::warning(this, tr("Save sweep"), error);
}

void SweepDialog::preview() {
  if (m_busy || m_memberCount <= 0 || !m_backend.run) return;
  QString error;
  const QString path = m_previewDir.filePath(QStringLiteral("preview.json"));
  if (!m_previewDir.isValid() || !saveFile(path, &error)) {
    m_output->setPlainText(error.isEmpty() ? tr("No temporary folder for the preview") : error);
    return;
  }
  runCli(true, path);
}

void SweepDialog::submit() {
  if (m_busy || m_memberCount <= 0 || !m_backend.run) return;
  const QDir dir(m_workspace.filePath(QStringLiteral("sweeps")));
  QDir().mkpath(dir.absolutePath());
  QString base = sweepName();
  base.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9_.-]")), QStringLiteral("_"));
  QString why;
  const QByteArray text =
      QByteArray::fromStdString(buildSweep(dir.absolutePath(), &why).dump(2) + "\n");
  // A file of that name holding another sweep is kept: the new one gets the next free name.
  QString path = dir.filePath(base + QStringLiteral(".json"));
  for (int n = 2; QFileInfo::exists(path); ++n) {
    QFile existing(path);
    if (existing.open(QIODevice::ReadOnly) && existing.readAll() == text) break;
    path = dir.filePath(QStringLiteral("%1-%2.json").arg(base).arg(n));
  }
  QString error;
  if (!writeText(path, text, &error)) {
    m_output->setPlainText(error);
    return;
  }
  runCli(false, path);
}

void SweepDialog::runCli(bool dryRun, const QString& file) {
  setBusy(true);
  const QString profile = profileArgument();
  m_output->setPlainText(
      tr("apportion sweep %1 --on %2%3 …")
          .arg(file, profile, dryRun ? QStringLiteral(" --dry-run") : QString()));
  QPointer<SweepDialog> self(this);
  m_backend.run(file, profile, dryRun,
                [self, file, profile, dryRun](bool ok, const QString& output) {
                  if (!self) return;
                  self->setBusy(false);
                  self->m_output->setPlainText(output);
                  if (dryRun) return;
                  if (ok) {
                    self->m_submittedFile = file;
                    self->m_submit->setEnabled(false);  // an edit makes a new sweep to submit
                    self->m_close->setText(tr("Close"));
                  }
                  Q_EMIT self->submitted(file, profile, ok, output);
                });
}

void SweepDialog::setBusy(bool busy) {
  m_busy = busy;
  const bool ready = !busy && m_memberCount > 0 && static_cast<bool>(m_backend.run);
  m_submit->setEnabled(ready);
  m_previewButton->setEnabled(ready);
}

}  // namespace apportion::ui
