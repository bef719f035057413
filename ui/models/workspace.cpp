// SPDX-License-Identifier: GPL-3.0-or-later
// Workspace: create-if-missing and the shared RunReader.
#include "ui/models/workspace.h"

#include <QFileInfo>

#include "core/common/error.h"
#include "core/store/run_store.h"

namespace apportion::ui {

Workspace::Workspace(QString dbPath, std::shared_ptr<RunReader> reader)
    : m_dbPath(std::move(dbPath)), m_reader(std::move(reader)) {}

std::shared_ptr<Workspace> Workspace::open(const QString& dbPath) {
  const QFileInfo info(dbPath);
  const QString absolute = info.absoluteFilePath();
  if (info.isDir()) {
    throw StoreError(absolute.toStdString() +
                     " is a folder, not a workspace database; choose the .sqlite file inside it");
  }
  if (!info.exists()) {
    QDir().mkpath(info.absolutePath());
    RunStore create(absolute.toStdString());  // creates the schema (WAL) and closes again
  }
  auto reader = std::make_shared<RunReader>(absolute.toStdString());
  return std::shared_ptr<Workspace>(new Workspace(absolute, std::move(reader)));
}

QDir Workspace::dir() const { return QFileInfo(m_dbPath).absoluteDir(); }

QString Workspace::runDirectory(const QString& runId) const {
  return dir().filePath(QStringLiteral("runs/") + runId);
}

}  // namespace apportion::ui
