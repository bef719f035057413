// SPDX-License-Identifier: GPL-3.0-or-later
// `train --on PROFILE`, remote `train --resume`, `pull`, `stop`, `import` and `remote-rows`:
// the command-line side of core/remote/ (executors, launch records) and core/store/run_sync.h.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "app/cli/commands.h"
#include "app/cli/exit_codes.h"
#include "app/cli/remote_cli.h"
#include "app/cli/workspace_targets.h"
#include "core/common/error.h"
#include "core/config/experiment_config.h"
#include "core/remote/executor_profile.h"
#include "core/remote/launch_record.h"
#include "core/remote/remote_executor.h"
#include "core/store/liveness.h"
#include "core/store/process_identity.h"
#include "core/store/run_reader.h"
#include "core/store/run_sync.h"
#include "core/store/store_copy.h"
#include "core/store/store_integrity.h"

namespace apportion::cli {
namespace fs = std::filesystem;

namespace {

std::string home_db_of(const std::string& db_path) {
  return db_path.empty() ? default_db_path() : db_path;
}

std::string home_workspace(const std::string& db) {
  return fs::absolute(db).parent_path().string();
}

std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw ConfigError(path + ": cannot read the file");
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

/// The launch record of a run at home (by its remote/launch tag), if it was launched remotely.
std::optional<LaunchRecord> record_of_run(const std::string& db, const Run& run) {
  const auto tag = run.tags.find(kTagRemoteLaunch);
  if (tag == run.tags.end()) return std::nullopt;
  return find_launch_record(home_workspace(db), tag->second);
}

}  // namespace

int run_remote_train(const TrainArgs& args) {
  const std::string db = home_db_of(args.db_path);
  if (args.seeds_given) {
    throw ConfigError(
        "--on with --seeds: write a sweep with \"seeds\" and run `apportion sweep "
        "SWEEP.json --on " +
        args.on + "`");
  }
  if (args.dry_run) throw ConfigError("--dry-run runs here; drop --on to see the plan");
  if (!args.resume.empty()) return maybe_remote_resume(args);
  if (args.config_path.empty()) throw ConfigError("CONFIG is required (an experiment JSON)");
  const ExecutorProfile profile = load_executor_profile(args.on);
  const std::string text = read_text(args.config_path);
  // The config is checked here before anything is submitted (the remote side checks again).
  nlohmann::json j = load_json_file(args.config_path);
  apply_overrides(j, args.overrides);
  if (args.max_steps > 0) j["train"]["steps"] = args.max_steps;
  ExperimentConfig cfg;
  try {
    cfg = ExperimentConfig::from_json(j);
  } catch (const ConfigError& e) {
    throw ConfigError(args.config_path + ": " + e.what());
  }
  LaunchSpec spec;
  spec.key = new_launch_key("l");
  spec.config_text = text;
  spec.config_name = cfg.name;
  spec.train_args = forwarded_train_args(args);
  if (!args.name.empty()) spec.train_args.insert(spec.train_args.end(), {"--name", args.name});
  const auto records = submit_launches(profile, {spec}, db);
  std::cout << "launch " << records.front().key << ": " << cfg.name << " submitted to "
            << profile.name << " (" << to_string(profile.kind) << ", "
            << records.front().attempts.back().handle << ")\n"
            << "follow it with: apportion pull --follow --db " << db << std::endl;
  return kExitFinished;
}

int maybe_remote_resume(const TrainArgs& args) {
  const std::string db = home_db_of(args.db_path);
  if (!fs::exists(db) || !fs::is_directory(launch_records_dir(home_workspace(db)))) return -1;
  const auto run = open_reader(db).find_run(args.resume);
  if (!run) return -1;
  auto record = record_of_run(db, *run);
  if (!record) return -1;
  if (writes_home_store(*record, db)) {
    if (args.on.empty()) return -1;  // a local-profile run resumes like any local run
  }
  if (run->status == RunStatus::Finished) {
    throw ConfigError("run " + run->run_id + " is FINISHED; there is nothing to resume");
  }
  if (launch_active(*record)) {
    throw ConfigError("run " + run->run_id + " (launch " + record->key +
                      ") still runs or waits on " + record->profile_name +
                      "; stop it first (`apportion stop " + run->run_id.substr(0, 8) + "`)");
  }
  resubmit_launch(*record, run->run_id, db);
  std::cout << "run " << run->run_id << " resubmitted to " << record->profile_name << " (launch "
            << record->key << ", " << record->attempts.back().handle << ")" << std::endl;
  return kExitFinished;
}

int run_pull(
    const std::string& db_path, bool follow, bool all, double interval_s, const std::string& run) {
  const std::string db = home_db_of(db_path);
  const std::string ws = home_workspace(db);
  if (!run.empty()) {
    const auto found = open_reader(db).find_run(run);
    if (!found) throw ConfigError("--artifacts " + run + ": no such run in " + db);
    const auto record = record_of_run(db, *found);
    if (!record) {
      throw ConfigError("--artifacts " + run + ": run " + found->run_id +
                        " was not launched through a profile; its folder is already here");
    }
    std::cout << "artifacts of run " << found->run_id << " in "
              << fetch_run_artifacts(*record, found->run_id, db) << std::endl;
    return kExitFinished;
  }
  int conflicts = 0, failures = 0;
  while (true) {
    int open = 0;
    for (LaunchRecord& r : list_launch_records(ws)) {
      if (r.ended && !all) continue;
      bool active = false;
      PullReport report;
      try {
        active = !r.ended && launch_active(r);  // asked before the pull: a final pull follows
        report = pull_launch(r, db);
      } catch (const Error& e) {
        // An unreachable host or scheduler ends nothing: the launch stays open, tried again.
        ++failures;
        ++open;
        print_error("launch " + r.key + ": " + e.what(),
                    follow ? "trying again at the next pull" : "run `apportion pull` again later");
        continue;
      }
      for (const auto& p : report.runs) {
        if (p.conflict) {
          ++conflicts;
          std::cerr << "CONFLICT launch " << r.key << " run " << p.run_id << ": " << p.detail
                    << std::endl;
          continue;
        }
        std::cout << r.key << " run " << p.run_id.substr(0, 8) << " " << p.status << " step "
                  << p.step << " (+" << p.new_rows << " rows)" << std::endl;
      }
      if (!active && !r.ended) {
        if (report.runs.empty()) {
          const std::string tail = launch_error_tail(r);
          std::cerr << "launch " << r.key << " ended without a run"
                    << (tail.empty() ? std::string(".") : ":\n" + tail) << std::endl;
        }
        r.ended = true;
        save_launch_record(ws, r);
        std::cout << r.key << " ended" << std::endl;
      } else if (active) {
        ++open;
      }
    }
    if (!follow || open == 0) break;
    failures = 0;  // with --follow only the last round's failures count
    std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(interval_s * 1000)));
  }
  return conflicts > 0 || failures > 0 ? kExitFailed : kExitFinished;
}

int run_stop(const std::string& db_path, const std::string& target) {
  const std::string db = home_db_of(db_path);
  if (auto record = find_launch_record(home_workspace(db), target)) {
    stop_launch(*record);
    std::cout << "stop sent to launch " << record->key << " on " << record->profile_name
              << std::endl;
    return kExitFinished;
  }
  const auto run = open_reader(db).find_run(target);
  if (!run) throw ConfigError(target + ": no run or launch with this id in " + db);
  if (auto record = record_of_run(db, *run)) {
    stop_launch(*record);
    std::cout << "stop sent to run " << run->run_id << " (launch " << record->key << " on "
              << record->profile_name << ")" << std::endl;
    return kExitFinished;
  }
  if (run->status != RunStatus::Running) {
    throw ConfigError("run " + run->run_id + " is " + to_string(run->status) +
                      "; only a RUNNING run can be stopped");
  }
  if (run->owner_host != this_host_name() || run->owner_pid <= 0 ||
      !process_alive({run->owner_host, run->owner_pid, run->owner_start})) {
    throw ConfigError("run " + run->run_id + " is not trained by a live process on this computer" +
                      (run->owner_host.empty() ? "" : " (owner " + run->owner_host + ")") +
                      "; `apportion close` marks a dead run FAILED");
  }
  if (::kill(static_cast<pid_t>(run->owner_pid), SIGTERM) != 0) {
    throw ConfigError("cannot signal process " + std::to_string(run->owner_pid) + " of run " +
                      run->run_id);
  }
  std::cout << "SIGTERM sent to run " << run->run_id << " (pid " << run->owner_pid << ")"
            << std::endl;
  return kExitFinished;
}

int run_import(const std::string& db_path, const std::string& source) {
  const std::string db = home_db_of(db_path);
  if (!fs::is_regular_file(source)) {
    throw StoreError(source + ": no such store file (give the .sqlite file to import)");
  }
  require_intact_store(source);
  if (fs::exists(db)) require_intact_store(db);
  if (fs::exists(db) && fs::equivalent(source, db)) {
    throw ConfigError(source + " is the workspace database itself; nothing to import");
  }
  const StoreCopyReport report = copy_store_runs(source, db);
  for (const auto& r : report.runs) {
    std::cout << r.run_id << "  " << to_string(r.outcome) << "  " << r.rows << " rows"
              << (r.detail.empty() ? "" : "  " + r.detail) << "\n";
  }
  using O = RunCopyResult::Outcome;
  std::cout << "imported " << report.count(O::Copied) << " runs into " << db << "; "
            << report.count(O::AlreadyPresent) << " already present, " << report.count(O::Conflict)
            << " conflicts, " << report.count(O::Unreadable) << " unreadable" << std::endl;
  if (!report.list_error.empty()) print_error(source + ": " + report.list_error);
  if (report.count(O::Conflict) > 0) {
    print_error(std::to_string(report.count(O::Conflict)) +
                    " run ids exist here with different rows; they were left as they are",
                "compare them with `apportion show RUN` in both stores");
    return kExitFailed;
  }
  return report.count(O::Unreadable) > 0 || !report.list_error.empty() ? kExitFailed
                                                                       : kExitFinished;
}

int run_remote_rows(const std::string& db_path,
                    const std::string& launch,
                    int64_t since_ms,
                    const std::string& out) {
  if (out != "-") {
    extract_launch_rows(db_path, launch, since_ms, out);
    return kExitFinished;
  }
  char tmpl[] = "/tmp/apportion-rows-XXXXXX";
  const int fd = ::mkstemp(tmpl);
  if (fd < 0) throw StoreError("cannot create a temporary file in /tmp");
  ::close(fd);
  const std::string tmp = tmpl;
  try {
    extract_launch_rows(db_path, launch, since_ms, tmp);
    std::ifstream f(tmp, std::ios::binary);
    std::cout << f.rdbuf();
    std::cout.flush();
  } catch (...) {
    fs::remove(tmp);
    throw;
  }
  fs::remove(tmp);
  return kExitFinished;
}

}  // namespace apportion::cli
