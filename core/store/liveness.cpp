// SPDX-License-Identifier: GPL-3.0-or-later
// Classifying RUNNING runs as alive or dead from their owner and heartbeat.
#include "core/store/liveness.h"

#include "core/store/process_identity.h"

namespace apportion {

LivenessVerdict run_liveness(const Run& run, int64_t now_ms, const std::string& this_host) {
  LivenessVerdict v;
  if (run.status != RunStatus::Running) return v;
  if (run.owner_pid <= 0 || run.owner_host.empty()) {
    v.state = Liveness::Unknown;
    v.reason =
        "no owner recorded (a run from before schema version 3): cannot tell whether it "
        "still trains";
    return v;
  }
  const std::string who = "process " + std::to_string(run.owner_pid) + " on host " + run.owner_host;
  if (run.owner_host == this_host) {
    if (process_alive({run.owner_host, run.owner_pid, run.owner_start})) {
      v.state = Liveness::Alive;
      return v;
    }
    v.state = Liveness::Dead;
    v.reason = "process lost: " + who + " is gone (killed, out of memory or crashed)";
    return v;
  }
  const int64_t silent = now_ms - run.heartbeat_ms;
  if (silent <= kRemoteTimeoutMs) {
    v.state = Liveness::Alive;
    return v;
  }
  v.state = Liveness::Dead;
  v.reason = "process lost: no heartbeat from " + who + " for " + std::to_string(silent / 1000) +
             " s (timeout " + std::to_string(kRemoteTimeoutMs / 1000) + " s)";
  return v;
}

std::string display_status(const Run& run, const LivenessVerdict& verdict) {
  return verdict.state == Liveness::Dead ? "DEAD" : to_string(run.status);
}

}  // namespace apportion
