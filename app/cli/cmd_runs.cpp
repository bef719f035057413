// SPDX-License-Identifier: GPL-3.0-or-later
// `apportion runs`, `show RUN`, `export RUN --csv` and `tasks`: read-only views of a workspace
// (seed groups are in cmd_groups.cpp).
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "app/cli/exit_codes.h"
#include "app/cli/workspace_targets.h"
#include "core/common/clock.h"
#include "core/common/error.h"
#include "core/common/json_parse.h"
#include "core/data/task_suite.h"
#include "core/store/liveness.h"
#include "core/store/process_identity.h"
#include "core/store/run_reader.h"
#include "core/store/run_store.h"
#include "core/store/store_integrity.h"
#include "core/store/store_keys.h"

namespace apportion::cli {
namespace fs = std::filesystem;

std::string default_db_path() { return "apportion-workspace/workspace.sqlite"; }

void print_error(const std::string& message, const std::string& hint) {
  std::cerr << "error: " << message << std::endl;
  if (!hint.empty()) std::cerr << "---> HINT: " << hint << std::endl;
}

RunReader open_reader(const std::string& db_path) {
  const std::string path = db_path.empty() ? default_db_path() : db_path;
  if (!fs::exists(path)) {
    throw StoreError(path +
                     ": no such workspace database (pass --db PATH; `apportion train` "
                     "creates one)");
  }
  if (fs::is_directory(path)) {
    throw StoreError(path +
                     ": is a folder, not a workspace database; pass the .sqlite file "
                     "inside it with --db");
  }
  require_intact_store(path);
  return RunReader(path);
}

std::string workspace_folder_problem(const fs::path& db_abs) {
  std::error_code ec;
  if (fs::is_directory(db_abs, ec)) {
    return "is a folder; give the database file inside it (e.g. " +
           (db_abs / "workspace.sqlite").string() + ")";
  }
  const fs::path parent = db_abs.parent_path();
  fs::create_directories(parent, ec);
  if (ec || !fs::is_directory(parent)) {
    return "cannot create its folder '" + parent.string() + "' (" +
           (ec ? ec.message() : std::string("a file of that name is in the way")) + ")";
  }
  return "";
}

std::vector<std::string> baseline_lines(const Run& r) {
  auto latest = [&](const std::string& key) {
    auto it = r.latest_metrics.find(key);
    return it == r.latest_metrics.end() ? std::nan("") : it->second;
  };
  std::vector<std::string> out;
  auto line = [&](const std::string& label, double base, double fin) {
    char buf[256];
    if (std::isnan(fin)) {
      std::snprintf(buf, sizeof buf, "%s%.2f %%  final: -", label.c_str(), 100 * base);
    } else {
      std::snprintf(buf, sizeof buf, "%s%.2f %%  final: %.2f %%  gain: %+.2f points", label.c_str(),
                    100 * base, 100 * fin, 100 * (fin - base));
    }
    out.push_back(buf);
  };
  double base = latest("baseline/accuracy");
  if (std::isnan(base)) base = latest("baseline/acc");
  if (!std::isnan(base)) line("baseline (step 0, no adapter): ", base, latest(kMetricEvalAcc));
  const std::string task_prefix = "baseline/acc/";
  for (const auto& [key, value] : r.latest_metrics) {
    if (key.rfind(task_prefix, 0) != 0 || std::isnan(value)) continue;
    const std::string task = key.substr(task_prefix.size());
    line("  " + task + ": baseline ", value, latest("eval/acc/" + task));
  }
  return out;
}

namespace {

std::string fmt_metric(const Run& r, const std::string& key) {
  auto it = r.latest_metrics.find(key);
  if (it == r.latest_metrics.end()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", it->second);
  return buf;
}

std::string fmt_time(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", std::localtime(&t));
  return buf;
}

LivenessVerdict liveness_of(const Run& r) { return run_liveness(r, now_ms(), this_host_name()); }

nlohmann::json run_json(const Run& r) {
  nlohmann::json j;
  const LivenessVerdict live = liveness_of(r);
  j["run_id"] = r.run_id;
  j["name"] = r.name;
  j["experiment"] = r.experiment_name;
  j["status"] = display_status(r, live);  // "DEAD": RUNNING, but its process is gone
  if (r.owner_pid > 0) {
    j["owner"] = {{"host", r.owner_host}, {"pid", r.owner_pid}, {"heartbeat_ms", r.heartbeat_ms}};
  }
  if (!live.reason.empty()) j["liveness"] = live.reason;
  j["method"] = r.allocation_method;
  j["start_ms"] = r.start_ms;
  if (r.end_ms) j["end_ms"] = *r.end_ms;
  j["seed"] = r.seed;
  j["device"] = r.device;
  j["tags"] = r.tags;
  nlohmann::json latest = nlohmann::json::object();
  for (const auto& [k, v] : r.latest_metrics)
    latest[k] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(std::to_string(v));
  j["latest_metrics"] = latest;
  return j;
}

}  // namespace

int run_list_runs(const std::string& db_path, bool as_json) {
  const RunReader reader = open_reader(db_path);
  const auto runs = reader.list_runs();
  if (as_json) {
    nlohmann::json all = nlohmann::json::array();
    for (const auto& r : runs) all.push_back(run_json(r));
    std::cout << all.dump(2) << std::endl;
    return kExitFinished;
  }
  std::printf("%-10s %-9s %-22s %-9s %7s %10s %8s  %s\n", "RUN", "STATUS", "NAME", "METHOD", "STEP",
              "LOSS", "EVAL_ACC", "STARTED");
  int dead = 0;
  for (const auto& r : runs) {
    auto step_it = r.latest_steps.find(kMetricTrainLoss);
    const long step = step_it == r.latest_steps.end() ? 0 : static_cast<long>(step_it->second);
    const LivenessVerdict live = liveness_of(r);
    dead += live.state == Liveness::Dead;
    std::printf("%-10s %-9s %-22.22s %-9s %7ld %10s %8s  %s\n", r.run_id.substr(0, 8).c_str(),
                display_status(r, live).c_str(), r.name.c_str(), r.allocation_method.c_str(), step,
                fmt_metric(r, kMetricTrainLoss).c_str(), fmt_metric(r, kMetricEvalAcc).c_str(),
                fmt_time(r.start_ms).c_str());
  }
  if (runs.empty()) std::printf("(no runs yet)\n");
  if (dead > 0)
    std::printf(
        "\nDEAD: RUNNING in the store, but the process training it is gone. Resume it with "
        "`apportion train --resume RUN`, or close it (mark it FAILED) with `apportion close "
        "RUN`.\n");
  return kExitFinished;
}

int run_close(const std::string& db_path, const std::string& run, bool force) {
  std::optional<Run> r;
  {
    const RunReader reader = open_reader(db_path);
    r = reader.find_run(run);
  }
  if (!r) throw StoreError("no run matching '" + run + "' (list them with `apportion runs`)");
  const LivenessVerdict live = liveness_of(*r);
  if (live.state == Liveness::NotRunning) {
    std::cerr << "apportion: run " << r->run_id << " is " << to_string(r->status)
              << " already; nothing to close\n";
    return kExitUsage;
  }
  if (live.state == Liveness::Alive) {
    std::cerr << "apportion: run " << r->run_id << " is still being trained by process "
              << r->owner_pid << " on " << r->owner_host << "; stop it (Ctrl+C, `kill -TERM "
              << r->owner_pid << "`, or Stop in the GUI) instead of closing it\n";
    return kExitUsage;
  }
  if (live.state == Liveness::Unknown && !force) {
    std::cerr << "apportion: run " << r->run_id << ": " << live.reason
              << ". If you know its process is gone, close it with --force\n";
    return kExitUsage;
  }
  const std::string why =
      live.state == Liveness::Dead ? live.reason : "closed with --force (owner unknown)";
  RunStore store(db_path.empty() ? default_db_path() : db_path);
  store.set_tag(r->run_id, "error", why);
  store.finish_run(r->run_id, RunStatus::Failed, why);
  store.flush();
  std::cout << "run " << r->run_id << " closed: FAILED (" << why << ")" << std::endl;
  return kExitFinished;
}

int run_show_run(const std::string& db_path, const std::string& run, bool as_json) {
  const RunReader reader = open_reader(db_path);
  const auto r = reader.find_run(run);
  if (!r) throw StoreError("no run matching '" + run + "' (list them with `apportion runs`)");
  nlohmann::json j = run_json(*r);
  j["config"] = try_parse_json_bounded(r->config_json, JsonLimits::config())
                    .value_or(nlohmann::json(r->config_json));
  j["matrix_keys"] = reader.matrix_keys(r->run_id);
  nlohmann::json arts = nlohmann::json::array();
  for (const auto& a : reader.artifacts(r->run_id)) {
    arts.push_back({{"kind", a.kind}, {"path", a.path}, {"step", a.step}, {"bytes", a.bytes}});
  }
  j["artifacts"] = arts;
  if (as_json) {
    std::cout << j.dump(2) << std::endl;
    return kExitFinished;
  }
  std::cout << "run        " << r->run_id << "\nname       " << r->name << "\nexperiment "
            << r->experiment_name << "\nstatus     " << j["status"].get<std::string>()
            << (j.contains("liveness") ? " (" + j["liveness"].get<std::string>() + ")" : "")
            << "\nowner      "
            << (r->owner_pid > 0 ? "pid " + std::to_string(r->owner_pid) + " on " + r->owner_host
                                 : std::string("unknown"))
            << "\nmethod     " << r->allocation_method << "\nstarted    " << fmt_time(r->start_ms)
            << "\n";
  const auto baseline = baseline_lines(*r);
  if (!baseline.empty()) std::cout << "\n";
  for (const auto& l : baseline) std::cout << l << "\n";
  std::cout << "\nlatest metrics:\n";
  for (const auto& [k, v] : r->latest_metrics) {
    std::cout << "  " << k << " = " << v << " (step " << r->latest_steps.at(k) << ")\n";
  }
  std::cout << "\ntags:\n";
  for (const auto& [k, v] : r->tags) std::cout << "  " << k << " = " << v << "\n";
  std::cout << "\nmatrix records: " << j["matrix_keys"].dump() << "\nartifacts: " << arts.dump()
            << "\n\nconfig:\n"
            << j["config"].dump(2) << std::endl;
  return kExitFinished;
}

int run_export_run_csv(const std::string& db_path, const std::string& run, const std::string& dir) {
  const RunReader reader = open_reader(db_path);
  const auto r = reader.find_run(run);
  if (!r) throw StoreError("no run matching '" + run + "' (list them with `apportion runs`)");
  fs::create_directories(dir);
  std::ofstream metrics(fs::path(dir) / "metrics.csv");
  metrics << "key,step,value,wall_ms\n";
  metrics.precision(9);
  for (const auto& key : reader.metric_keys(r->run_id)) {
    const auto s = reader.metric_series(r->run_id, key);
    for (size_t i = 0; i < s.steps.size(); ++i) {
      metrics << key << "," << s.steps[i] << "," << s.values[i] << "," << s.wall_ms[i] << "\n";
    }
  }
  std::ofstream params(fs::path(dir) / "params.csv");
  params << "key,value\n";
  for (const auto& [k, v] : r->params) params << csv_escape(k) << "," << csv_escape(v) << "\n";
  std::ofstream matrices(fs::path(dir) / "matrices.csv");
  matrices << "key,step,axes,index,value\n";
  for (const auto& key : reader.matrix_keys(r->run_id)) {
    for (int64_t step : reader.matrix_steps(r->run_id, key)) {
      const auto m = reader.matrix(r->run_id, key, step);
      if (!m) continue;
      for (size_t i = 0; i < m->values.size(); ++i) {
        // index as a flat row-major position; shape is recoverable from axes + `show`.
        std::string idx;
        size_t rest = i;
        for (size_t d = m->shape.size(); d-- > 0;) {
          const auto n = static_cast<size_t>(m->shape[d]);
          idx = std::to_string(rest % n) + (idx.empty() ? "" : ":" + idx);
          rest /= n;
        }
        matrices << key << "," << step << "," << csv_escape(m->axes) << "," << idx << ","
                 << m->values[i] << "\n";
      }
    }
  }
  std::cerr << "wrote metrics.csv, params.csv, matrices.csv to " << dir << std::endl;
  return kExitFinished;
}

int run_list_tasks() {
  for (const auto& t : builtin_tasks()) {
    std::cout << t.name << "\n  tests:  " << t.tests << "\n  layers: " << t.layer_hint << "\n\n";
  }
  return kExitFinished;
}

}  // namespace apportion::cli
