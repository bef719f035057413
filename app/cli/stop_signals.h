// SPDX-License-Identifier: GPL-3.0-or-later
// SIGTERM/SIGINT handling for `apportion train`: the first signal only sets the stop flag
// (one atomic store, async-signal-safe); the second restores the default action so a stuck
// process can still be ended.
#pragma once

#include "core/events/stop_token.h"

namespace apportion::cli {
/// Installs the handlers; `source` must outlive the process's training.
void install_stop_signals(StopSource& source);
}  // namespace apportion::cli
