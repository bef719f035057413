// SPDX-License-Identifier: GPL-3.0-or-later
// Synthetic runs for the UI and app tests (and fake_trainer): plausible loss/accuracy curves,
// routing-load and allocation matrices written through the real RunStore, deterministic per
// seed. Torch-free and Qt-free (links ap_core only).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/events/training_events.h"

namespace apportion {
class RunStore;
}

namespace apportion::test {

struct DemoRunSpec {
  std::string name = "demo";
  std::string experiment = "demo";
  /// "lora", "uniform", "mola", "guilomo_search" (a GuiLoMo search: GSV records, the current
  /// argmax as alloc/experts), "guilomo" (a GuiLoMo retrain: per-module counts and ranks),
  /// "drlora" or "static_frequency" (a sparse-MoE backbone, drlora/* [layer, expert] records).
  std::string method = "mola";
  std::string preset = "2468";  ///< mola: experts per layer block
  int layers = 4;
  int modules = 7;
  int num_experts = 4;  ///< uniform
  int top_k = 2;
  int r = 8;
  double lr = 2e-3;
  int steps = 40;
  int log_every = 5;
  int eval_every = 20;
  int matrix_every = 10;
  uint64_t seed = 1;
  int n_max = 8;             ///< guilomo: supernet experts per module
  int r_max = 8;             ///< guilomo: supernet rank per expert
  int backbone_experts = 8;  ///< drlora / static_frequency: routed experts per layer
  int dr_r_init = 2;         ///< drlora: starting active rank
  int dr_r_target = 8;       ///< drlora: mean rank at the end (budget L·N·r_target)
  int dr_r_max = 32;         ///< drlora: allocated rank
  std::map<std::string, std::string> tags;  ///< extra run tags (pipeline links)
};

/// Experts per layer of a spec (mola presets 2468/8642/diamond/uniform; lora → 1; guilomo
/// search → n_max; guilomo retrain → the most any module of the layer has).
std::vector<int> demo_experts_per_layer(const DemoRunSpec& spec);
/// GuiLoMo demo: the expert count the search converges to for (layer, module), in 2..n_max, and
/// the rank of each of its experts, in 1..r_max (what the retrain run uses).
int demo_guilomo_experts(const DemoRunSpec& spec, int layer, int module);
int demo_guilomo_rank(const DemoRunSpec& spec, int layer, int module, int expert);
/// Module names of a spec's adapted projections (the run's `modules` tag).
std::vector<std::string> demo_modules(const DemoRunSpec& spec);
/// The config JSON text a spec stands for (same keys as experiments/*.json).
std::string demo_config_json(const DemoRunSpec& spec);
/// The RunStarted event of a spec (params flattened from demo_config_json).
RunStarted demo_run_started(const DemoRunSpec& spec, const std::string& run_id);
/// Logs what is due at `step` (scalars every log_every, eval every eval_every and at the end,
/// matrices every matrix_every; allocation at step 0).
void write_demo_step(RunStore& store, const std::string& run_id, const DemoRunSpec& spec, int step);
/// A whole run: start, every step, finish with `status`. Returns the run id.
std::string add_demo_run(RunStore& store,
                         const DemoRunSpec& spec,
                         RunStatus status = RunStatus::Finished);

}  // namespace apportion::test
