// SPDX-License-Identifier: GPL-3.0-or-later
// Who runs a training process, precisely enough to tell later whether that very process is
// still alive: host name, pid and a start token (the kernel's boot id and the process's start
// time in clock ticks from /proc/<pid>/stat), so a recycled pid or a reboot never passes for
// the original process. Linux /proc; torch- and Qt-free.
//
// Intended usage:
//   ProcessIdentity me = current_process();           // recorded with a run (RunWriter)
//   if (me.host == this_host_name() && !process_alive(owner)) ... // the owner is gone
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace apportion {

struct ProcessIdentity {
  std::string host;
  int64_t pid = 0;
  std::string start;  ///< "<boot id>:<start ticks>"; empty when unknown
};

/// gethostname(), "" when unavailable.
std::string this_host_name();
/// This process.
ProcessIdentity current_process();
/// The start token of a live process on this host; std::nullopt when there is no such pid.
std::optional<std::string> process_start_token(int64_t pid);
/// Whether the process `id` (on this host) still runs: its pid exists with the same start
/// token. A stopped (SIGSTOP) or zombie-free sleeping process is alive; an exited one is not.
bool process_alive(const ProcessIdentity& id);

}  // namespace apportion
