// SPDX-License-Identifier: GPL-3.0-or-later
// Executor profiles: where a run is launched. "local" (a child process of this computer), "ssh"
// (a host reached with the system's OpenSSH client: host, user, port, key, the remote
// `apportion` and a remote workspace folder) or "slurm" (Slurm's own sbatch/scancel/squeue,
// run on a login host over SSH or on this computer: partition, GPUs and tasks per job, time
// limit, extra #SBATCH lines). A profile is a small JSON file; `--on NAME` finds
// $XDG_CONFIG_HOME/apportion/profiles/NAME.json (~/.config/…), `--on PATH.json` reads that file.
//
// Intended usage:
//   const ExecutorProfile p = load_executor_profile("gpu-server");   // throws ConfigError
//   if (p.kind == ExecutorKind::Slurm) …  p.remote_workspace, p.apportion, p.ssh.host
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace apportion {

enum class ExecutorKind { Local, Ssh, Slurm };

const char* to_string(ExecutorKind kind);

/// How to reach a host with OpenSSH (empty host: this computer, no ssh).
struct SshTarget {
  std::string host;
  std::string user;
  int port = 0;                      ///< 0: ssh's default
  std::string identity_file;         ///< -i
  std::vector<std::string> options;  ///< extra ssh arguments (e.g. "-o", "ConnectTimeout=10")
  bool multiplex = true;  ///< share one connection per host (ssh ControlMaster, kept 60 s)
  bool empty() const { return host.empty(); }
};

struct SlurmSettings {
  std::string partition;
  int gpus_per_task = 0;
  int cpus_per_task = 0;
  int ntasks = 1;          ///< >1: one data-parallel rank per task (srun), docs/DISTRIBUTED.md
  std::string time_limit;  ///< --time, e.g. "02:00:00"
  std::vector<std::string> sbatch_lines;  ///< extra "#SBATCH …" lines, written as given
};

struct ExecutorProfile {
  std::string name;  ///< the file's stem
  std::string file;  ///< where it was read from
  ExecutorKind kind = ExecutorKind::Local;
  SshTarget ssh;  ///< ssh: the host; slurm: the login host (empty: local sbatch)
  std::string apportion = "apportion";  ///< the `apportion` executable there
  std::string remote_workspace;  ///< workspace folder there (absolute); holds backbones, data
  int max_parallel = 1;          ///< queue width (local/ssh) or the array's %N (slurm)
  std::string device;            ///< --device of the runs launched here ("" keeps train.device)
  SlurmSettings slurm;
  nlohmann::json json;  ///< the profile as read (recorded with each launch)
};

/// Parses a profile object; `where` names it in errors. Throws ConfigError naming the field.
ExecutorProfile executor_profile_from_json(const nlohmann::json& j, const std::string& where);

/// The profile file for `name_or_path`: a path when it contains '/' or ends in .json, else
/// $XDG_CONFIG_HOME/apportion/profiles/<name>.json (or ~/.config/apportion/profiles/…).
std::string executor_profile_path(const std::string& name_or_path);

/// Reads and parses a profile ("local" without a file is the built-in local profile). Throws
/// ConfigError naming the file and field, and where profiles are looked for.
ExecutorProfile load_executor_profile(const std::string& name_or_path);

}  // namespace apportion
