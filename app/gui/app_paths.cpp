// SPDX-License-Identifier: GPL-3.0-or-later
// AppPaths: option → install layout → source tree.
#include "app/gui/app_paths.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace apportion {

AppPaths AppPaths::resolve(const QString& experimentsOption, const QString& apportionOption) {
  AppPaths paths;
  const QDir binDir(QCoreApplication::applicationDirPath());
  if (!experimentsOption.isEmpty()) {
    paths.experimentsDir = QFileInfo(experimentsOption).absoluteFilePath();
  } else {
    const QString installed =
        binDir.absoluteFilePath(QStringLiteral("../share/apportion/experiments"));
    paths.experimentsDir = QFileInfo::exists(installed)
                               ? QDir::cleanPath(installed)
                               : QStringLiteral(AP_SOURCE_DIR "/experiments");
  }
  paths.apportionExe = !apportionOption.isEmpty()
                           ? QFileInfo(apportionOption).absoluteFilePath()
                           : binDir.absoluteFilePath(QStringLiteral("apportion"));
  return paths;
}

}  // namespace apportion
