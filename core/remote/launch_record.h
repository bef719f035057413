// SPDX-License-Identifier: GPL-3.0-or-later
// Launch records: what the home workspace remembers of each remote launch, one JSON file per
// launch in <workspace>/remote/<key>.json (written atomically): the profile it went to, the
// remote folder and run store it writes, its sweep membership, and every submission (the
// executor's handle: a process id for ssh/local queues, a Slurm job id such as 4711_2). Runs
// themselves live in the stores; a launch finds its runs by their remote/launch tag.
//
// Intended usage:
//   LaunchRecord r = …; save_launch_record(home_ws, r);
//   for (const LaunchRecord& r : list_launch_records(home_ws)) if (!r.ended) …
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace apportion {

struct LaunchAttempt {
  std::string kind;    ///< "run" or "resume"
  std::string handle;  ///< pid (ssh, local queue) or Slurm job id ("4711", "4711_2")
  int64_t submitted_ms = 0;
  std::string run_id;  ///< the run resumed (kind "resume")
};

struct LaunchRecord {
  std::string key;         ///< "l-<8 hex>" or "<sweep key>-<member>"
  nlohmann::json profile;  ///< the executor profile as it was
  std::string profile_name;
  std::string remote_dir;  ///< <remote workspace>/remote/<key>: config, logs, pid
  std::string store;       ///< the run store the launch writes (remote path)
  std::string config_name;
  std::string sweep;                    ///< sweep key ("" for a single launch)
  int member = -1;                      ///< index in the sweep
  std::vector<std::string> train_args;  ///< extra `apportion train` arguments (--set …)
  std::vector<LaunchAttempt> attempts;
  bool ended = false;  ///< nothing runs or waits any more and the last pull got everything
};

nlohmann::json to_json(const LaunchRecord& r);
/// Throws ConfigError naming `where` and the field.
LaunchRecord launch_record_from_json(const nlohmann::json& j, const std::string& where);

/// <workspace>/remote
std::string launch_records_dir(const std::string& workspace_dir);
/// Writes <workspace>/remote/<key>.json atomically.
void save_launch_record(const std::string& workspace_dir, const LaunchRecord& r);
/// Every record, sorted by key. Throws ConfigError naming a damaged file.
std::vector<LaunchRecord> list_launch_records(const std::string& workspace_dir);
std::optional<LaunchRecord> find_launch_record(const std::string& workspace_dir,
                                               const std::string& key);

/// A fresh key "<prefix>-<8 hex digits>".
std::string new_launch_key(const std::string& prefix);

}  // namespace apportion
