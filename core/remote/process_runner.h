// SPDX-License-Identifier: GPL-3.0-or-later
// Running a program to completion: argv (no shell), text on its stdin, its stdout and stderr
// collected (or stdout streamed into a file, for binary transfers), a wall-clock limit. The
// remote executors run `ssh`, `sbatch`, `scancel`, `squeue` and `sh -c` through it.
//
// Intended usage:
//   ProcessResult r = run_process({"ssh", "-p", "2222", "host", "uname"}, "", {.timeout_s = 30});
//   if (r.exit_code != 0) throw …(r.describe());
#pragma once

#include <string>
#include <vector>

namespace apportion {

struct ProcessOptions {
  int timeout_s = 120;      ///< SIGKILL after this long (exit_code -1, timed_out)
  std::string stdout_file;  ///< when set, stdout goes to this file instead of `out`
};

struct ProcessResult {
  int exit_code = -1;  ///< the exit status; 128+N for death by signal N; -1: not started/timeout
  int signal = 0;      ///< the signal that ended it (0: it exited)
  bool timed_out = false;
  std::string out;
  std::string err;
  std::string command;  ///< argv joined, for messages
  /// "`command` exited 255: <last stderr lines>" for messages (a long command shortened).
  std::string describe() const;
};

/// Runs argv[0] (looked up in PATH) with `input` on stdin. Never throws for the child's
/// failures (they are in the result); throws std::system_error when pipes or fork fail.
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::string& input = "",
                          const ProcessOptions& options = {});

/// `s` quoted for a POSIX shell ('…' with embedded quotes escaped).
std::string shell_quote(const std::string& s);

}  // namespace apportion
