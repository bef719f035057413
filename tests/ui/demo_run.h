// SPDX-License-Identifier: GPL-3.0-or-later
// Synthetic runs for the UI and app tests (and fake_trainer): plausible loss/accuracy curves,
// routing-load and allocation matrices written through the real RunStore, deterministic per
// seed. Torch-free and Qt-free (links ap_core only).
#pragma once

#include <cstdint>
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
  std::string method = "mola";  ///< "lora", "uniform" or "mola"
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
};

/// Experts per layer of a spec (mola presets 2468/8642/diamond/uniform; lora → 1).
std::vector<int> demo_experts_per_layer(const DemoRunSpec& spec);
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
