// SPDX-License-Identifier: GPL-3.0-or-later
// BackendQueries: what the New-run dialog asks the training backend (`apportion devices`,
// `apportion inspect --json DIR`) without linking it: the GUI app fills these in with QProcess
// calls; tests can fill them with the real CLI too. Empty functions mean "not available".
#pragma once

#include <functional>

#include <QString>
#include <QStringList>

namespace apportion::ui {

/// The outcome of inspecting a model folder: a readable summary, or an error message.
struct InspectResult {
  bool ok = false;
  QString summary;  ///< one-paragraph description (architecture, layers, experts, params)
  QString error;    ///< what is wrong with the folder, when !ok
};

struct BackendQueries {
  /// Device ids this build can train on ("cpu", "cuda:0", …).
  std::function<QStringList()> devices;
  /// Summary of a model folder (reads headers only).
  std::function<InspectResult(const QString& dir)> inspect;
};

}  // namespace apportion::ui
