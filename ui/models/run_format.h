// SPDX-License-Identifier: GPL-3.0-or-later
// Display helpers shared by the run table, the run view and the compare view: params as plain
// text, the "key params" summary (experts / top-k / rank), status names and colours.
#pragma once

#include <optional>

#include <QColor>
#include <QString>

#include "core/store/liveness.h"
#include "core/store/run_types.h"

namespace apportion::ui {

/// A param's value without JSON string quotes ("\"mola\"" → "mola"); empty when absent.
QString paramText(const Run& run, const std::string& key);
/// A param parsed as a number; std::nullopt when absent or not numeric.
std::optional<double> paramNumber(const Run& run, const std::string& key);
/// The run's method's Method::key_params ("E=4 k=2 r=8", "mola 2468 k=2 r=8", "LoRA r=8"), or
/// "pretrain"; empty when the run's method is unknown.
QString keyParamsText(const Run& run);
/// "FINISHED", "RUNNING", …
QString statusText(RunStatus status);
/// Colour for a status (green finished, blue running, red failed, orange killed).
QColor statusColor(RunStatus status);
/// The run's liveness now (core/store/liveness.h: this host by its process, others by heartbeat).
LivenessVerdict runLiveness(const Run& run);
/// "DEAD" for a RUNNING run whose process is gone, else statusText(run.status).
QString runStatusText(const Run& run);
/// statusColor, dark red-grey for DEAD.
QColor runStatusColor(const Run& run);
/// The largest step of any latest metric (0 when none).
int64_t latestStep(const Run& run);
/// The run's total_steps tag (train.epochs resolved), else train.steps from the params (0 when
/// absent).
int64_t plannedSteps(const Run& run);

}  // namespace apportion::ui
