// SPDX-License-Identifier: GPL-3.0-or-later
// Workspace: the folder holding a run database. Opens (creating and migrating if needed) the
// database and hands out one shared RunReader for every panel of the GUI.
#pragma once

#include <memory>

#include <QDir>
#include <QString>

#include "core/store/run_reader.h"

namespace apportion::ui {

class Workspace {
 public:
  /// Opens `dbPath`; a missing database is created (RunStore runs the migrations) so an empty
  /// workspace opens. Throws apportion::StoreError when the file is not an Apportion database.
  static std::shared_ptr<Workspace> open(const QString& dbPath);

  const QString& dbPath() const { return m_dbPath; }
  /// The workspace folder (relative config paths and runs/<id>/ resolve against it).
  QDir dir() const;
  /// The shared read connection.
  const std::shared_ptr<RunReader>& reader() const { return m_reader; }
  /// runs/<run_id>/ beside the database.
  QString runDirectory(const QString& runId) const;

 private:
  Workspace(QString dbPath, std::shared_ptr<RunReader> reader);
  QString m_dbPath;
  std::shared_ptr<RunReader> m_reader;
};

}  // namespace apportion::ui
