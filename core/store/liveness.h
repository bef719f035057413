// SPDX-License-Identifier: GPL-3.0-or-later
// Whether a RUNNING run is still being trained. Every training process records who it is
// (host, pid, start token: core/store/process_identity.h) when it starts or resumes a run and
// refreshes the run's heartbeat every kHeartbeatIntervalMs while it runs (RunStore's writer
// thread, so a long step does not stop it). A reader classifies a RUNNING run as
//   - on this host: Alive while that very process exists (a SIGSTOPped one too), else Dead
//     at once (killed, OOM-killed, crashed; a reboot changes the boot id);
//   - on another host: Dead once no heartbeat came for kRemoteTimeoutMs, else Alive;
//   - Unknown when the run has no owner (written before schema version 3).
// Dead runs are shown as DEAD ("process lost"), can be resumed, and can be closed (marked
// FAILED). Nothing is written by classifying.
//
// Intended usage:
//   const LivenessVerdict v = run_liveness(run, now_ms(), this_host_name());
//   if (v.state == Liveness::Dead) std::cout << "DEAD: " << v.reason;
#pragma once

#include <cstdint>
#include <string>

#include "core/store/run_types.h"

namespace apportion {

constexpr int64_t kHeartbeatIntervalMs = 5000;
constexpr int64_t kRemoteTimeoutMs = 60000;

enum class Liveness { NotRunning, Alive, Dead, Unknown };

struct LivenessVerdict {
  Liveness state = Liveness::NotRunning;
  std::string reason;  ///< for Dead/Unknown: why, in words ("process 123 on host x is gone")
};

LivenessVerdict run_liveness(const Run& run, int64_t now_ms, const std::string& this_host);

/// "RUNNING", "DEAD" (RUNNING but its process is gone) or the stored status.
std::string display_status(const Run& run, const LivenessVerdict& verdict);

}  // namespace apportion
