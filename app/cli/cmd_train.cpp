// SPDX-License-Identifier: GPL-3.0-or-later
// `apportion train` / `apportion pretrain`: config → run row → Trainer → store + stdout.
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <optional>

#include "app/cli/commands.h"
#include "app/cli/console_sinks.h"
#include "app/cli/exit_codes.h"
#include "app/cli/stop_signals.h"
#include "core/common/clock.h"
#include "core/common/error.h"
#include "core/common/uuid.h"
#include "core/config/json_reader.h"
#include "core/distributed/dist_env.h"
#include "core/distributed/dist_world.h"
#include "core/distributed/rank_sink.h"
#include "core/methods/method_registry.h"
#include "core/store/liveness.h"
#include "core/store/process_identity.h"
#include "core/store/run_reader.h"
#include "core/store/run_store.h"
#include "core/store/store_integrity.h"
#include "core/store/store_keys.h"
#include "core/train/device_setup.h"
#include "core/train/trainer.h"

namespace apportion::cli {
namespace fs = std::filesystem;

namespace {

struct Prepared {
  nlohmann::json json;
  ExperimentConfig cfg;
  std::string run_id;
  std::map<std::string, std::string> tags;  ///< --tag key=value
};

/// --tag key=value options as a map; throws ConfigError naming the bad one.
std::map<std::string, std::string> parse_tags(const std::vector<std::string>& tags) {
  std::map<std::string, std::string> out;
  for (const auto& t : tags) {
    const auto eq = t.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw ConfigError("--tag '" + t + "': write key=value (e.g. --tag note=baseline)");
    }
    out[t.substr(0, eq)] = t.substr(eq + 1);
  }
  return out;
}

/// Forwards every event to `inner`, adding the --tag tags to the run row's initial tags.
class TaggingSink : public EventSink {
 public:
  TaggingSink(EventSink& inner, const std::map<std::string, std::string>& tags)
      : inner_(inner), tags_(tags) {}
  void on_run_started(const RunStarted& e) override {
    RunStarted tagged = e;
    for (const auto& [k, v] : tags_) tagged.tags[k] = v;
    inner_.on_run_started(tagged);
  }
  void on_metric(const MetricPoint& e) override { inner_.on_metric(e); }
  void on_matrix(const MatrixPoint& e) override { inner_.on_matrix(e); }
  void on_log(const LogLine& e) override { inner_.on_log(e); }
  void on_artifact(const ArtifactWritten& e) override { inner_.on_artifact(e); }
  void on_tag(const TagSet& e) override { inner_.on_tag(e); }
  void on_progress(const ProgressPoint& e) override { inner_.on_progress(e); }
  void on_run_finished(const RunFinished& e) override { inner_.on_run_finished(e); }
  void flush() override { inner_.flush(); }

 private:
  EventSink& inner_;
  const std::map<std::string, std::string>& tags_;
};

/// Reads the config (or the resumed run's stored config) and applies overrides.
Prepared prepare(const TrainArgs& args, const std::string& db_path) {
  Prepared p;
  p.tags = parse_tags(args.tags);
  if (!args.resume.empty()) {
    if (!fs::exists(db_path)) throw ConfigError(db_path + ": no such workspace to resume from");
    RunReader reader(db_path);
    const auto run = reader.find_run(args.resume);
    if (!run) {
      throw ConfigError("--resume " + args.resume + ": no run with that id (prefix) in " + db_path +
                        "; list them with `apportion runs --db " + db_path + "`");
    }
    const LivenessVerdict live = run_liveness(*run, now_ms(), this_host_name());
    if (live.state == Liveness::Alive) {
      // Two processes training one run would both write it to the end.
      throw ConfigError("--resume " + args.resume + ": run " + run->run_id +
                        " is still being trained by process " + std::to_string(run->owner_pid) +
                        " on " + run->owner_host + "; stop it first (Ctrl+C or `kill -TERM " +
                        std::to_string(run->owner_pid) +
                        "`: it checkpoints and ends KILLED), then resume it");
    }
    p.run_id = run->run_id;
    p.json = nlohmann::json::parse(run->config_json);
    if (run->status == RunStatus::Finished) {
      // A FINISHED run is extended by raising train.steps (--set train.steps=N or --max-steps);
      // it continues from its final checkpoint, under the new schedule length.
      nlohmann::json raised = p.json;
      apply_overrides(raised, args.overrides);
      if (args.max_steps > 0) raised["train"]["steps"] = args.max_steps;
      const auto steps = [](const nlohmann::json& j) {
        return j.contains("train") && j["train"].contains("steps") &&
                       j["train"]["steps"].is_number()
                   ? j["train"]["steps"].get<int64_t>()
                   : int64_t{0};
      };
      if (steps(raised) <= steps(p.json)) {
        throw ConfigError("--resume " + args.resume + ": run " + run->run_id +
                          " already FINISHED at train.steps " + std::to_string(steps(p.json)) +
                          "; to extend it, raise train.steps above that: --set train.steps=" +
                          std::to_string(2 * std::max<int64_t>(1, steps(p.json))) +
                          " (or --max-steps)");
      }
    }
    if (!args.config_path.empty()) {
      const auto given = ExperimentConfig::from_json(load_json_file(args.config_path)).to_json();
      if (given != p.json) {
        throw ConfigError(args.config_path + ": differs from the config stored with run " +
                          run->run_id + "; resume without CONFIG to use the stored one");
      }
    }
  } else {
    if (args.config_path.empty()) throw ConfigError("CONFIG is required (an experiment JSON)");
    p.json = load_json_file(args.config_path);
    if (!p.json.is_object()) {
      throw ConfigError(args.config_path + ": the config must be a JSON object {…}, got " +
                        json_type_name(p.json));
    }
    p.run_id = make_uuid_hex();
  }
  apply_overrides(p.json, args.overrides);
  if (args.max_steps > 0) p.json["train"]["steps"] = args.max_steps;
  if (!args.device.empty()) p.json["train"]["device"] = args.device;
  try {
    p.cfg = ExperimentConfig::from_json(p.json);
  } catch (const ConfigError& e) {
    if (args.config_path.empty()) throw;
    throw ConfigError(args.config_path + ": " + e.what());  // the file, then the field
  }
  if (args.pretrain && !p.cfg.is_pretraining()) {
    throw ConfigError(
        "adapters: `apportion pretrain` takes a config without adapters (it trains "
        "the whole backbone); use `apportion train` for adapter fine-tuning");
  }
  if (!args.pretrain && p.cfg.is_pretraining()) {
    throw ConfigError(
        "adapters: missing — this is a pretraining config; run it with "
        "`apportion pretrain`, or add an adapters section");
  }
  // A missing GPU is a usage error, before any run row (a dry run only estimates).
  if (!args.dry_run) {
    check_dtype_on_device(p.cfg.train.dtype, resolve_device(p.cfg.train.device));
  }
  p.json = p.cfg.to_json();  // the stored form: every default written out
  return p;
}

int exit_code_for(RunStatus status) {
  switch (status) {
    case RunStatus::Finished:
      return kExitFinished;
    case RunStatus::Killed:
      return kExitKilled;
    default:
      return kExitFailed;
  }
}

/// The stages a fresh run's method runs as (core/methods: one for most methods; GuiLoMo's
/// pipeline is a search, then a retrain linked to it). A resume continues its one run.
std::vector<MethodStage> stages_of(const Prepared& p, const TrainArgs& args) {
  if (!args.resume.empty() || p.cfg.is_pretraining()) return {{"", p.json}};
  return method_of(p.cfg).stages(p.json);
}

/// Stage `json` of `p` as a run of its own (its stored form: every default written out).
Prepared prepare_stage(const Prepared& p, const nlohmann::json& json, std::string run_id) {
  Prepared stage;
  stage.run_id = std::move(run_id);
  stage.tags = p.tags;
  stage.cfg = ExperimentConfig::from_json(json);
  stage.json = stage.cfg.to_json();
  return stage;
}

/// Runs one prepared config as one run in the store; returns the exit code. In a data-parallel
/// world (rank 0) it first sends the run to the other ranks.
int run_one(const Prepared& p,
            const TrainArgs& args,
            RunStore& store,
            const fs::path& db_abs,
            bool json_mode,
            const std::string& run_name,
            StopSource& stop,
            DistWorld* world = nullptr) {
  StdoutJsonSink json_sink(p.run_id, db_abs.string());
  TerminalSink terminal_sink;
  const std::string run_id = p.run_id;
  if (json_mode) {
    store.set_commit_listener([&json_sink, run_id](const std::string& id, int64_t step) {
      if (id == run_id) json_sink.committed(step);
    });
  }
  RunStoreSink store_sink(store);
  std::vector<EventSink*> sinks{&store_sink};
  if (json_mode) {
    sinks.push_back(&json_sink);
  } else if (args.progress != "none") {
    sinks.push_back(&terminal_sink);
  }
  FanoutSink fanout(sinks);
  TaggingSink sink(fanout, p.tags);

  TrainOptions opt;
  opt.run_id = p.run_id;
  opt.run_name = run_name;
  const fs::path workspace =
      args.workspace.empty() ? db_abs.parent_path() : fs::absolute(args.workspace);
  opt.workspace_dir = workspace.string();
  opt.run_dir = (workspace / "runs" / p.run_id).string();
  opt.config_json = p.json.dump();
  opt.resume = !args.resume.empty();
  opt.stop_after_step = args.stop_after;
  opt.threads = args.threads;
  opt.world = world;
  if (world) {
    world->publish(
        "run",
        nlohmann::json{{"run_id", p.run_id}, {"config", p.json.dump()}, {"resume", opt.resume}}
            .dump());
  }

  TrainResult result;
  try {
    result = Trainer().run(p.cfg, opt, sink, StopToken(stop));
  } catch (const std::exception& e) {
    // Thrown before the run row exists (backbone missing, bad checkpoint, bad data, …): leave
    // nothing behind (fs::remove only removes the run folder when it is still empty).
    std::error_code ec;
    if (!opt.resume) fs::remove(opt.run_dir, ec);
    print_error(e.what());
    if (json_mode) json_sink.status(RunStatus::Failed, e.what(), kExitUsage);
    return kExitUsage;
  }
  store.flush();
  store.set_commit_listener(nullptr);
  const int code = exit_code_for(result.status);
  if (json_mode) json_sink.status(result.status, result.message, code);
  if (result.status == RunStatus::Failed)
    print_error("run " + p.run_id + " FAILED: " + result.message);
  if (!json_mode) {
    std::cerr << "run " << p.run_id << " " << to_string(result.status) << " at step "
              << result.last_step << "; workspace " << db_abs.string() << std::endl;
  }
  return code;
}

/// A rank ≥ 1 of a data-parallel world: trains the run rank 0 sends (it alone prepares the
/// config, opens the store and writes); this process writes nothing but its errors.
int follow_rank0(const TrainArgs& args, DistWorld& world) {
  const std::string who = world.env().label();
  nlohmann::json run;
  try {
    run = nlohmann::json::parse(world.fetch("run"));
    world.publish("read/" + std::to_string(world.rank()), "");
  } catch (const std::exception& e) {
    print_error(who + ": " + e.what());
    return kExitFailed;
  }
  if (run.contains("exit")) {  // rank 0 ended before training (an error, a dry run)
    const int code = run["exit"].get<int>();
    if (code != kExitFinished) {
      print_error(who + ": rank 0 ended before training (exit code " + std::to_string(code) +
                  "); see its messages");
    }
    return code;
  }
  Prepared p;
  TrainOptions opt;
  try {
    p.run_id = run.at("run_id").get<std::string>();
    p.json = nlohmann::json::parse(run.at("config").get<std::string>());
    p.cfg = ExperimentConfig::from_json(p.json);
    opt.resume = run.at("resume").get<bool>();
  } catch (const std::exception& e) {
    print_error(who + ": the run rank 0 sent is unreadable: " + e.what());
    return kExitUsage;
  }
  // Paths resolve as on rank 0 (the same command line); the run folder is never written here.
  const fs::path db_abs = fs::absolute(args.db_path.empty() ? default_db_path() : args.db_path);
  const fs::path workspace =
      args.workspace.empty() ? db_abs.parent_path() : fs::absolute(args.workspace);
  opt.run_id = p.run_id;
  opt.workspace_dir = workspace.string();
  opt.run_dir = (workspace / "runs" / p.run_id).string();
  opt.config_json = p.json.dump();
  opt.stop_after_step = args.stop_after;
  opt.threads = args.threads;
  opt.world = &world;
  StopSource stop;
  install_stop_signals(stop);
  RankSink sink(who);
  try {
    return exit_code_for(Trainer().run(p.cfg, opt, sink, StopToken(stop)).status);
  } catch (const std::exception& e) {
    print_error(who + ": " + e.what());
    return kExitUsage;
  }
}

int train_as(const TrainArgs& args, DistWorld* world);

}  // namespace

std::string check_train_config(const TrainArgs& args) {
  const Prepared p = prepare(args, args.db_path.empty() ? default_db_path() : args.db_path);
  return p.cfg.name;
}

int run_train(const TrainArgs& args) {
  DistEnv env;
  try {
    env = dist_env_from_environment();
  } catch (const Error& e) {
    print_error(e.what(), "fix the launcher's variables, or set APPORTION_DIST=off");
    return kExitUsage;
  }
  if (!env.distributed() || args.dry_run) return train_as(args, nullptr);
  // A data-parallel launch (docs/DISTRIBUTED.md): every rank joins, rank 0 prepares the run.
  std::unique_ptr<DistWorld> world;
  try {
    world = DistWorld::connect(env);
  } catch (const Error& e) {
    print_error(e.what());
    return kExitUsage;
  }
  if (env.rank != 0) return follow_rank0(args, *world);
  const int code = train_as(args, world.get());
  // Ended before it sent a run (a refused config, workspace or store): the others end alike.
  if (!world->published("run")) world->publish("run", nlohmann::json{{"exit", code}}.dump());
  world->await_ranks("read/", 10);
  return code;
}

namespace {

int train_as(const TrainArgs& args, DistWorld* world) {
  const std::string db_path = args.db_path.empty() ? default_db_path() : args.db_path;
  Prepared p;
  std::vector<MethodStage> stages;
  try {
    p = prepare(args, db_path);
    stages = stages_of(p, args);
    if (stages.size() == 1) p = prepare_stage(p, stages.front().config, p.run_id);
  } catch (const Error& e) {
    print_error(e.what(), "check the config; `apportion train --help` lists the options");
    return kExitUsage;
  }
  if (args.dry_run) return print_dry_run(p.cfg, db_path, args.progress == "json");
  const fs::path db_abs = fs::absolute(db_path);
  if (const std::string why = workspace_folder_problem(db_abs); !why.empty()) {
    print_error("--db " + db_path + ": " + why, "pass a --db path inside a folder you can write");
    return kExitUsage;
  }
  if (p.cfg.is_pretraining()) {
    // The backbone folder pretraining writes: refused now, not as a FAILED run at its end.
    const fs::path out = db_abs.parent_path() / p.cfg.backbone.output;
    for (fs::path at = out; !at.empty(); at = at.parent_path()) {
      std::error_code ec;
      if (!fs::exists(at, ec)) continue;
      if (!fs::is_directory(at, ec)) {
        print_error("backbone.output: " + out.string() + " cannot be created: " + at.string() +
                        " is a file",
                    "set backbone.output to a folder path (relative to the workspace)");
        return kExitUsage;
      }
      break;
    }
  }
  const bool json_mode =
      args.progress == "json" || (args.progress == "auto" && !::isatty(STDOUT_FILENO));

  std::unique_ptr<RunStore> store;
  try {
    require_intact_store(db_abs.string());
    store = std::make_unique<RunStore>(db_abs.string());
  } catch (const Error& e) {
    print_error(e.what(), "pass another --db, or move the damaged file away");
    return kExitUsage;
  }
  StopSource stop;
  install_stop_signals(stop);
  if (stages.size() == 1) {
    return run_one(p, args, *store, db_abs, json_mode, args.name, stop, world);
  }
  if (world) {
    const Method& method = method_of(p.cfg);
    print_error(method.label() + " runs as " + std::to_string(stages.size()) +
                    " runs in a row, and a data-parallel launch trains one run",
                "run its stages one at a time (allocation." + method.section() + ".stage)");
    return kExitUsage;
  }

  // A multi-stage method: each stage a run of its own, linked to the run before it.
  const Method& method = method_of(p.cfg);
  const std::string base = args.name.empty() ? p.cfg.name : args.name;
  std::string previous_id, previous_role;
  int code = kExitFinished;
  for (size_t i = 0; i < stages.size(); ++i) {
    Prepared stage;
    try {
      nlohmann::json json = stages[i].config;
      if (i > 0) method.link_stage(json, previous_id);
      stage = prepare_stage(p, json, i == 0 ? p.run_id : make_uuid_hex());
    } catch (const Error& e) {
      print_error(e.what(), "the " + previous_role + " finished; run the " + stages[i].role +
                                " on its own (allocation." + method.section() + ")");
      return kExitUsage;
    }
    if (i > 0) {
      store->set_tag(previous_id, kPipelineTag, method.name());
      if (!json_mode) {
        std::cerr << method.label() << " " << previous_role << " " << previous_id << " done; "
                  << stages[i].role << " as run " << stage.run_id << std::endl;
      }
    }
    code =
        run_one(stage, args, *store, db_abs, json_mode, base + " (" + stages[i].role + ")", stop);
    if (i > 0 && code != kExitUsage) {
      store->set_tag(previous_id, method.name() + "/" + stages[i].role + "_run", stage.run_id);
    }
    if (code != kExitFinished) break;
    previous_id = stage.run_id;
    previous_role = stages[i].role;
  }
  store->flush();
  return code;
}

}  // namespace

}  // namespace apportion::cli
