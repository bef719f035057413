// SPDX-License-Identifier: GPL-3.0-or-later
// The remote executors: submitting `apportion train` runs to an executor profile (a queue of
// child processes N at a time on this computer or on an SSH host, or a Slurm job / job array
// with %N), stopping them (SIGTERM to the trainer, scancel on Slurm), resubmitting one to
// resume, asking whether a launch still runs or waits, pulling its rows home (run_sync.h) and
// copying a run's artifacts home. Everything goes through the system's `ssh`, `sh`, `sbatch`,
// `scancel`, `squeue` and `tar`; the remote side runs the same `apportion` binary.
//
// Remote layout (under the profile's workspace W): W/remote/<key>/config.json, out.log,
// err.log, pid, exit, cancelled, and for remote profiles the launch's own run store
// W/remote/<key>/store.sqlite (one writer host per SQLite file); checkpoints and adapters in
// W/runs/<run id>/ as for local runs. A local profile writes straight into the home store.
//
// Intended usage:
//   std::vector<LaunchRecord> launched = submit_launches(profile, members, home_db);
//   pull_launch(record, home_db);               // rows since the last pull, idempotent
//   stop_launch(record);                        // SIGTERM / scancel
#pragma once

#include <string>
#include <vector>

#include "core/remote/executor_profile.h"
#include "core/remote/launch_record.h"
#include "core/store/run_sync.h"

namespace apportion {

/// One run to submit: its launch key, config text and extra `apportion train` arguments.
struct LaunchSpec {
  std::string key;
  std::string config_text;
  std::string config_name;
  std::vector<std::string> train_args;
  std::string sweep;
  int member = -1;
};

/// Submits `specs` to `profile` as one batch (one queue of max_parallel, or one Slurm job array
/// with %max_parallel), saves their launch records beside `home_db` and returns them. Throws
/// Error with the failing command's message.
std::vector<LaunchRecord> submit_launches(const ExecutorProfile& profile,
                                          const std::vector<LaunchSpec>& specs,
                                          const std::string& home_db);

/// Submits `apportion train --resume RUN` for a launch (the same store and workspace) and
/// records the attempt.
void resubmit_launch(LaunchRecord& record, const std::string& run_id, const std::string& home_db);

/// SIGTERM to the launch's trainer (ssh/local; a queued member is cancelled before it starts)
/// or scancel (Slurm). Throws Error when the executor refuses.
void stop_launch(const LaunchRecord& record);

/// Whether the launch's latest submission still runs or waits in its queue.
bool launch_active(const LaunchRecord& record);

/// The last lines of the launch's remote stderr log (for a launch that ended without a run).
std::string launch_error_tail(const LaunchRecord& record);

/// Pulls the launch's runs into home_db (nothing to do when it writes there directly).
PullReport pull_launch(const LaunchRecord& record, const std::string& home_db);

/// Copies runs/<run_id>/ of the launch's workspace into the home workspace's runs/<run_id>/;
/// returns the folder.
std::string fetch_run_artifacts(const LaunchRecord& record,
                                const std::string& run_id,
                                const std::string& home_db);

/// Whether the launch writes into the home store itself (a local profile).
bool writes_home_store(const LaunchRecord& record, const std::string& home_db);

}  // namespace apportion
