// SPDX-License-Identifier: GPL-3.0-or-later
// `apportion sweep SWEEP.json --on PROFILE` (expand, check every member's config, submit as one
// queue or Slurm job array) and `sweep --resubmit KEY` (members that ended KILLED or FAILED
// resume from their checkpoints; members that never made a run start again).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/cli/commands.h"
#include "app/cli/exit_codes.h"
#include "app/cli/remote_cli.h"
#include "app/cli/workspace_targets.h"
#include "core/common/error.h"
#include "core/config/experiment_config.h"
#include "core/remote/executor_profile.h"
#include "core/remote/launch_record.h"
#include "core/remote/remote_executor.h"
#include "core/remote/sweep_spec.h"
#include "core/store/run_groups.h"
#include "core/store/run_reader.h"
#include "core/store/run_sync.h"

namespace apportion::cli {
namespace fs = std::filesystem;

namespace {

/// Tag naming the sweep a run belongs to (its key), and the grid point's label.
constexpr const char* kTagSweep = "sweep";
constexpr const char* kTagSweepPoint = "sweep/point";

}  // namespace

int run_sweep(const std::string& sweep_path,
              const std::string& profile_name,
              const std::string& db_path,
              bool dry_run) {
  const std::string db = db_path.empty() ? default_db_path() : db_path;
  const SweepSpec spec = load_sweep_spec(sweep_path);
  const std::vector<SweepMember> members = expand_sweep(spec);
  ExecutorProfile profile = load_executor_profile(profile_name);
  if (spec.max_parallel > 0) profile.max_parallel = spec.max_parallel;
  std::ifstream f(spec.experiment_path, std::ios::binary);
  if (!f) {
    throw ConfigError(sweep_path + ": experiment: cannot read " + spec.experiment_path);
  }
  std::ostringstream text;
  text << f.rdbuf();
  const nlohmann::json base = load_json_file(spec.experiment_path);
  const std::string key = new_launch_key("sw");
  std::string name = spec.name;
  std::vector<LaunchSpec> specs;
  for (const SweepMember& m : members) {
    // Every member's config is checked before anything is submitted.
    nlohmann::json j = base;
    ExperimentConfig cfg;
    try {
      apply_overrides(j, m.overrides);
      if (spec.max_steps > 0) j["train"]["steps"] = spec.max_steps;
      cfg = ExperimentConfig::from_json(j);
    } catch (const ConfigError& e) {
      throw ConfigError(sweep_path + ": member " + std::to_string(m.index) + " (" + m.label +
                        "): " + e.what());
    }
    if (name.empty()) name = cfg.name;
    LaunchSpec s;
    s.key = key + "-" + std::to_string(m.index);
    s.config_text = text.str();
    s.config_name = cfg.name;
    s.sweep = key;
    s.member = m.index;
    for (const auto& o : m.overrides) s.train_args.insert(s.train_args.end(), {"--set", o});
    if (spec.max_steps > 0) {
      s.train_args.insert(s.train_args.end(), {"--max-steps", std::to_string(spec.max_steps)});
    }
    const std::string run_name = name + (m.label.empty() ? "" : " " + m.label) +
                                 (m.has_seed ? "-s" + std::to_string(m.seed) : "");
    s.train_args.insert(s.train_args.end(),
                        {"--name", run_name, "--tag", std::string(kTagSweep) + "=" + key, "--tag",
                         std::string(kTagSweepPoint) + "=" + m.label, "--tag",
                         std::string(kSeedGroupTag) + "=" + key + ":p" + std::to_string(m.point)});
    specs.push_back(s);
  }
  std::cout << "sweep " << key << ": " << members.size() << " runs of " << name << " on "
            << profile.name << " (" << to_string(profile.kind) << ", " << profile.max_parallel
            << " at a time)\n";
  for (size_t i = 0; i < members.size(); ++i) {
    std::cout << "  " << specs[i].key << "  " << (members[i].label.empty() ? "-" : members[i].label)
              << (members[i].has_seed ? "  seed " + std::to_string(members[i].seed) : "") << "\n";
  }
  if (dry_run) {
    std::cout << "(dry run: nothing submitted)" << std::endl;
    return kExitFinished;
  }
  const auto records = submit_launches(profile, specs, db);
  std::cout << "submitted: " << records.front().attempts.back().handle
            << (records.size() > 1 ? " …" : "") << "\nfollow it with: apportion pull --follow --db "
            << db << std::endl;
  return kExitFinished;
}

int run_sweep_resubmit(const std::string& sweep_key, const std::string& db_path) {
  const std::string db = db_path.empty() ? default_db_path() : db_path;
  const std::string ws = fs::absolute(db).parent_path().string();
  std::vector<LaunchRecord> members;
  for (auto& r : list_launch_records(ws)) {
    if (r.sweep == sweep_key) members.push_back(r);
  }
  if (members.empty()) throw ConfigError("--resubmit " + sweep_key + ": no such sweep in " + ws);
  for (auto& r : members) {  // the latest rows first: a member's status decides
    if (!writes_home_store(r, db)) pull_launch(r, db);
  }
  const RunReader reader = open_reader(db);
  int resubmitted = 0;
  for (auto& r : members) {
    if (launch_active(r)) continue;
    std::optional<Run> run;
    for (const Run& candidate : reader.list_runs()) {
      const auto tag = candidate.tags.find(kTagRemoteLaunch);
      if (tag != candidate.tags.end() && tag->second == r.key) run = candidate;
    }
    if (run && run->status == RunStatus::Finished) continue;
    resubmit_launch(r, run ? run->run_id : std::string(), db);
    ++resubmitted;
    std::cout << "resubmitted " << r.key
              << (run ? " (run " + run->run_id.substr(0, 8) + " " + to_string(run->status) +
                            ", resumes from its checkpoint)"
                      : std::string(" (no run yet: starts again)"))
              << ": " << r.attempts.back().handle << std::endl;
  }
  std::cout << resubmitted << " of " << members.size() << " members of sweep " << sweep_key
            << " resubmitted" << std::endl;
  return kExitFinished;
}

}  // namespace apportion::cli
