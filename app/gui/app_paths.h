// SPDX-License-Identifier: GPL-3.0-or-later
// Where the GUI finds its companions: the experiments/ presets and the `apportion` executable
// (command-line options first, then the install layout next to apportion-gui, then the source
// tree this build came from).
#pragma once

#include <QString>

namespace apportion {

struct AppPaths {
  QString experimentsDir;
  QString apportionExe;

  /// Resolves both paths; empty options mean "find it".
  static AppPaths resolve(const QString& experimentsOption, const QString& apportionOption);
};

}  // namespace apportion
