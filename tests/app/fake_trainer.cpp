// SPDX-License-Identifier: GPL-3.0-or-later
// fake_trainer: a torch-free stand-in for `apportion train` that plays a scripted stdout
// protocol for tst_run_launcher (and can fill a demo workspace for screenshots). Same command
// line: fake_trainer train CONFIG.json --db DB [--progress json] [--threads N] ...
// The config's "fake" object picks the scenario:
//   {"fake": {"scenario": "normal|malformed|signal|abort|no_status|config_error|slow|foreign|
//                          pipeline|pipeline_slow|pipeline_failed",
//             "steps": 6, "delay_ms": 20}, ...demo spec keys: name, method, preset...}
// pipeline*: one process creates two runs like a GuiLoMo pipeline (search run A, then retrain
// run B, linked by tags); pipeline_slow's B runs until stopped, pipeline_failed's A fails and
// no B follows. foreign: a line for an unknown run id arrives in the middle of the run.
#include <unistd.h>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/common/uuid.h"
#include "core/events/progress_line.h"
#include "core/store/run_store.h"
#include "tests/ui/demo_run.h"

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_sigterm(int) { g_stop.store(true); }

void emit_line(const apportion::ProgressLine& line) {
  std::cout << apportion::format_progress_line(line) << '\n' << std::flush;
}

apportion::ProgressLine make(const std::string& event, const std::string& run_id) {
  apportion::ProgressLine line;
  line.event = event;
  line.run_id = run_id;
  return line;
}

/// Plays one run's protocol (started, committed/progress per step, status); returns the exit
/// code. `on_started` is called once the run row exists.
int play_run(apportion::RunStore& store,
             const std::string& db,
             const apportion::test::DemoRunSpec& spec,
             const std::string& scenario,
             int delay_ms,
             const std::function<void(const std::string&)>& on_started) {
  using namespace apportion;
  const std::string run_id = make_uuid_hex();
  store.start_run(test::demo_run_started(spec, run_id));
  if (on_started) on_started(run_id);
  ProgressLine started = make("started", run_id);
  started.db = db;
  started.pid = getpid();
  emit_line(started);
  std::cerr << "fake_trainer: run " << run_id << " scenario " << scenario << "\n" << std::flush;

  const auto t0 = std::chrono::steady_clock::now();
  const int crash_at = std::max(1, spec.steps / 2);
  for (int step = 0; step <= spec.steps; ++step) {
    test::write_demo_step(store, run_id, spec, step);
    store.flush();
    if (step == 0) continue;
    ProgressLine committed = make("committed", run_id);
    committed.step = step;
    emit_line(committed);
    ProgressLine progress = make("progress", run_id);
    progress.step = step;
    progress.total = spec.steps;
    progress.elapsed_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    emit_line(progress);
    std::cerr << "step " << step << "/" << spec.steps << "\n" << std::flush;
    if (scenario == "malformed" && step == 1) {
      std::cout << "this is not json\n{\"v\":1}\n{\"event\":\"committed\"\n[1,2,3]\n"
                << "{\"v\":1,\"event\":\"unknown_event\",\"run_id\":\"" << run_id << "\"}\n"
                << std::flush;
    }
    if (step == crash_at) {
      if (scenario == "signal") std::raise(SIGKILL);
      if (scenario == "abort") std::abort();
      if (scenario == "no_status") return 0;
    }
    if (scenario == "foreign" && step == 2) {
      ProgressLine other = make("committed", make_uuid_hex());
      other.step = step;
      emit_line(other);
    }
    if (scenario == "fail" && step == crash_at) {
      store.finish_run(run_id, RunStatus::Failed, "search diverged");
      store.flush();
      ProgressLine status = make("status", run_id);
      status.status = "FAILED";
      status.message = "search diverged";
      status.exit_code = 1;
      emit_line(status);
      return 1;
    }
    if (scenario == "slow" && step == spec.steps) --step;  // runs until stopped
    if (g_stop.load()) {
      store.finish_run(run_id, RunStatus::Killed, "stopped by SIGTERM");
      store.flush();
      ProgressLine status = make("status", run_id);
      status.status = "KILLED";
      status.message = "stopped by SIGTERM";
      status.exit_code = 3;
      emit_line(status);
      return 3;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  }
  store.finish_run(run_id, RunStatus::Finished, "");
  store.flush();
  ProgressLine status = make("status", run_id);
  status.status = "FINISHED";
  emit_line(status);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace apportion;
  if (argc < 3 || std::string(argv[1]) != "train") {
    std::cerr << "usage: fake_trainer train CONFIG --db DB\n";
    return 2;
  }
  std::string db;
  for (int i = 3; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--db") db = argv[i + 1];
  std::ifstream in(argv[2]);
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json cfg = nlohmann::json::parse(text.str(), nullptr, false);
  if (cfg.is_discarded() || db.empty()) {
    std::cerr << "fake_trainer: cannot read config " << argv[2] << " or no --db\n";
    return 2;
  }
  const nlohmann::json fake = cfg.value("fake", nlohmann::json::object());
  const std::string scenario = fake.value("scenario", "normal");
  const int delay_ms = fake.value("delay_ms", 20);
  if (scenario == "config_error") {
    std::cerr << "error: adapters.r: must be > 0 (got 0)\n";
    return 2;
  }
  std::signal(SIGTERM, on_sigterm);

  test::DemoRunSpec spec;
  spec.name = cfg.value("name", std::string("fake"));
  spec.experiment = cfg.value("experiment", std::string("fake"));
  spec.method = cfg.value("method", std::string("mola"));
  spec.preset = cfg.value("preset", std::string("2468"));
  spec.num_experts = cfg.value("num_experts", 4);
  spec.layers = cfg.value("layers", 4);
  spec.steps = fake.value("steps", 6);
  spec.log_every = cfg.value("log_every", 1);
  spec.eval_every = cfg.value("eval_every", 3);
  spec.matrix_every = cfg.value("matrix_every", 2);
  spec.seed = cfg.value("seed", 1);
  spec.lr = cfg.value("lr", 2e-3);

  RunStore store(db);
  const bool pipeline = scenario.rfind("pipeline", 0) == 0;
  if (!pipeline) return play_run(store, db, spec, scenario, delay_ms, {});

  // A GuiLoMo pipeline: the search run, then (if it finished) the retrain run, in one process.
  test::DemoRunSpec search = spec;
  search.method = "guilomo_search";
  search.name = spec.name + "-search";
  search.tags["pipeline"] = "guilomo";
  std::string search_id;
  const int search_code =
      play_run(store, db, search, scenario == "pipeline_failed" ? "fail" : "normal", delay_ms,
               [&](const std::string& id) { search_id = id; });
  if (search_code != 0) return search_code;
  test::DemoRunSpec retrain = spec;
  retrain.method = "guilomo";
  retrain.name = spec.name + "-retrain";
  retrain.tags["pipeline"] = "guilomo";
  retrain.tags["guilomo/search_run"] = search_id;
  return play_run(store, db, retrain, scenario == "pipeline_slow" ? "slow" : "normal", delay_ms,
                  [&](const std::string& id) {
                    store.set_tag(search_id, "guilomo/retrain_run", id);
                    store.flush();
                  });
}
