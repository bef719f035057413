// SPDX-License-Identifier: GPL-3.0-or-later
// Signal handlers that request a graceful stop, then fall back to the default action.
#include "app/cli/stop_signals.h"

#include <csignal>

namespace apportion::cli {
namespace {
StopSource* g_source = nullptr;

extern "C" void on_stop_signal(int signal_number) {
  if (g_source != nullptr) g_source->request_stop();
  std::signal(signal_number, SIG_DFL);  // a second signal ends the process
}
}  // namespace

void install_stop_signals(StopSource& source) {
  g_source = &source;
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
}

}  // namespace apportion::cli
