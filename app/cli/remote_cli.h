// SPDX-License-Identifier: GPL-3.0-or-later
// The CLI of runs beyond this process: `train --on PROFILE` (and `--resume` of a run launched
// that way), `sweep`, `pull`, `stop`, `import` and the remote side's `remote-rows`
// (cmd_remote.cpp, cmd_sweep.cpp; core/remote/ does the work).
//
// Intended usage (main.cpp):
//   RemoteCli remote(app, train, train_args);   // registers the subcommands and train's options
//   app.parse(argc, argv);
//   if (const int code = remote.run(); code >= 0) return code;
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace apportion::cli {

struct TrainArgs;

class RemoteCli {
 public:
  RemoteCli(CLI::App& app, CLI::App* train, TrainArgs& train_args);
  ~RemoteCli();
  /// Runs the parsed remote command; -1 when none of them was on the command line.
  int run();

 private:
  struct Options;
  std::unique_ptr<Options> o_;
};

/// `train CONFIG --on PROFILE`: submits one run; prints its launch key.
int run_remote_train(const TrainArgs& args);
/// `train --resume RUN` of a run launched through a profile: resubmits it there; -1 when RUN
/// is not a remote run of this workspace (then the local resume applies).
int maybe_remote_resume(const TrainArgs& args);
/// `sweep SWEEP.json --on PROFILE [--dry-run]`
int run_sweep(const std::string& sweep_path,
              const std::string& profile,
              const std::string& db_path,
              bool dry_run);
/// `sweep --resubmit SWEEP_KEY`: members whose run ended KILLED or FAILED resume from their
/// checkpoint; members that never made a run start again.
int run_sweep_resubmit(const std::string& sweep_key, const std::string& db_path);
/// `pull [--follow] [--all] [--artifacts RUN]`
int run_pull(
    const std::string& db_path, bool follow, bool all, double interval_s, const std::string& run);
/// `stop RUN_OR_LAUNCH`
int run_stop(const std::string& db_path, const std::string& target);
/// `import STORE.sqlite`
int run_import(const std::string& db_path, const std::string& source);
/// `remote-rows --db STORE --launch KEY --since-ms T --out FILE|-`
int run_remote_rows(const std::string& db_path,
                    const std::string& launch,
                    int64_t since_ms,
                    const std::string& out);

}  // namespace apportion::cli
