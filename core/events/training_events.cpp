// SPDX-License-Identifier: GPL-3.0-or-later
// String forms of RunStatus for the store, JSON and protocol boundaries.
#include "core/events/training_events.h"

#include "core/common/error.h"

namespace apportion {

const char* to_string(RunStatus status) {
  switch (status) {
    case RunStatus::Scheduled:
      return "SCHEDULED";
    case RunStatus::Running:
      return "RUNNING";
    case RunStatus::Finished:
      return "FINISHED";
    case RunStatus::Failed:
      return "FAILED";
    case RunStatus::Killed:
      return "KILLED";
  }
  return "FAILED";
}

RunStatus run_status_from_string(const std::string& text) {
  for (RunStatus status : {RunStatus::Scheduled, RunStatus::Running, RunStatus::Finished,
                           RunStatus::Failed, RunStatus::Killed}) {
    if (text == to_string(status)) return status;
  }
  throw Error("unknown run status '" + text +
              "'; expected SCHEDULED, RUNNING, FINISHED, FAILED or KILLED");
}

}  // namespace apportion
