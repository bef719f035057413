// SPDX-License-Identifier: GPL-3.0-or-later
// Stable per-run colours: the same run has the same colour in the table, the run view and the
// compare view, in every session (a hash of the run id picks from a fixed palette).
#pragma once

#include <QColor>
#include <QString>

namespace apportion::ui {

/// The colour of a run, derived only from its id.
QColor runColor(const QString& runId);

}  // namespace apportion::ui
