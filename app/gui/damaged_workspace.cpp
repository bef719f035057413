// SPDX-License-Identifier: GPL-3.0-or-later
// The damaged-workspace dialog: quick_check findings, then copy readable runs / read / cancel.
#include "app/gui/damaged_workspace.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QMessageBox>
#include <QPushButton>

#include "core/store/store_copy.h"
#include "core/store/store_integrity.h"

namespace apportion {
namespace {

/// Copies the readable runs into `target` and tells what was left out; "" on failure.
QString salvageInto(QWidget* parent, const QString& source, const QString& target, bool quiet) {
  try {
    const StoreCopyReport r = copy_store_runs(source.toStdString(), target.toStdString());
    const int copied = r.count(RunCopyResult::Outcome::Copied);
    const int lost = r.count(RunCopyResult::Outcome::Unreadable);
    if (!quiet) {
      QMessageBox::information(
          parent, QObject::tr("Copy readable runs"),
          QObject::tr("%1 runs copied into %2; %3 could not be read%4. The damaged file was not "
                      "changed. Move the runs/ folder beside the new file to resume its runs.")
              .arg(copied)
              .arg(target)
              .arg(lost)
              .arg(r.list_error.empty() ? QString()
                                        : QObject::tr(" (the run list itself broke off)")));
    }
    return target;
  } catch (const std::exception& e) {
    QMessageBox::warning(
        parent, QObject::tr("Copy readable runs"),
        QObject::tr("Cannot copy into %1:\n%2").arg(target, QString::fromUtf8(e.what())));
    return {};
  }
}

}  // namespace

QString checkWorkspaceIntegrity(QWidget* parent, const QString& dbPath) {
  std::vector<std::string> problems;
  try {
    problems = quick_check_store(dbPath.toStdString());
  } catch (const std::exception&) {
    return dbPath;  // cannot even open it: Workspace::open reports why
  }
  if (problems.empty()) return dbPath;
  QString findings;
  for (const auto& p : problems) findings += QStringLiteral("\n• ") + QString::fromStdString(p);

  const QString scripted = qEnvironmentVariable("APPORTION_DAMAGED_CHOICE");
  if (scripted == QStringLiteral("read")) return dbPath;
  if (scripted == QStringLiteral("cancel")) return {};
  if (scripted.startsWith(QStringLiteral("copy:"))) {
    return salvageInto(parent, dbPath, scripted.mid(5), /*quiet=*/true);
  }

  QMessageBox box(QMessageBox::Warning, QObject::tr("Damaged workspace"),
                  QObject::tr("The workspace %1 is damaged. SQLite's quick_check found:%2\n\n"
                              "Nothing will be written to it. Copy every run that can still be "
                              "read into a new workspace, or open it to read what is there.")
                      .arg(dbPath, findings),
                  QMessageBox::Cancel, parent);
  QPushButton* copy = box.addButton(QObject::tr("Copy readable runs…"), QMessageBox::AcceptRole);
  QPushButton* read = box.addButton(QObject::tr("Open to read"), QMessageBox::ActionRole);
  box.setDefaultButton(copy);
  box.exec();
  if (box.clickedButton() == read) return dbPath;
  if (box.clickedButton() != copy) return {};
  const QFileInfo info(dbPath);
  const QString suggested =
      info.absoluteDir().filePath(info.completeBaseName() + QStringLiteral("-salvaged.sqlite"));
  const QString target = QFileDialog::getSaveFileName(
      parent, QObject::tr("New workspace for the readable runs"), suggested,
      QObject::tr("Workspace database (*.sqlite)"), nullptr, QFileDialog::DontConfirmOverwrite);
  if (target.isEmpty()) return {};
  if (QFileInfo::exists(target)) {
    QMessageBox::warning(parent, QObject::tr("Copy readable runs"),
                         QObject::tr("%1 already exists; choose a new file.").arg(target));
    return {};
  }
  return salvageInto(parent, dbPath, target, /*quiet=*/false);
}

}  // namespace apportion
