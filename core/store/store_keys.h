// SPDX-License-Identifier: GPL-3.0-or-later
// Well-known tag keys the run store itself writes, shared by writers and readers (GUI, CLI).
#pragma once

namespace apportion {

/// Tag holding the message given to RunStore::finish_run (error text, kill reason).
constexpr const char* kStatusMessageTag = "status_message";

/// Experiment name used when a run starts without one.
constexpr const char* kDefaultExperimentName = "default";

}  // namespace apportion
