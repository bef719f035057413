// SPDX-License-Identifier: GPL-3.0-or-later
// Synthetic runs for tests and screenshots (see demo_run.h).
#include "tests/ui/demo_run.h"

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/common/clock.h"
#include "core/common/uuid.h"
#include "core/config/experiment_config.h"
#include "core/store/run_store.h"

namespace apportion::test {

namespace {

double noise(uint64_t seed, int a, int b) {
  uint64_t x = seed * 6364136223846793005ULL + static_cast<uint64_t>(a) * 1442695040888963407ULL +
               static_cast<uint64_t>(b) * 0x9E3779B97F4A7C15ULL;
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return static_cast<double>(x % 10000) / 10000.0;  // [0, 1)
}

}  // namespace

std::vector<int> demo_experts_per_layer(const DemoRunSpec& spec) {
  std::vector<int> blocks;
  if (spec.method == "lora") return std::vector<int>(static_cast<size_t>(spec.layers), 1);
  if (spec.method == "uniform")
    return std::vector<int>(static_cast<size_t>(spec.layers), spec.num_experts);
  if (spec.preset == "8642")
    blocks = {8, 6, 4, 2};
  else if (spec.preset == "diamond")
    blocks = {2, 6, 6, 2};
  else if (spec.preset == "uniform")
    blocks = {5, 5, 5, 5};
  else
    blocks = {2, 4, 6, 8};
  std::vector<int> out;
  for (int l = 0; l < spec.layers; ++l)
    out.push_back(blocks[static_cast<size_t>(l * 4 / spec.layers)]);
  return out;
}

std::string demo_config_json(const DemoRunSpec& spec) {
  nlohmann::json j;
  j["name"] = spec.experiment;
  j["backbone"]["config"] = {{"num_hidden_layers", spec.layers}, {"hidden_size", 32},
                             {"intermediate_size", 64},          {"num_attention_heads", 4},
                             {"num_key_value_heads", 2},         {"vocab_size", 260}};
  j["adapters"]["method"] = spec.method == "lora" ? "lora" : "moe_lora";
  j["adapters"]["r"] = spec.r;
  j["adapters"]["top_k"] = spec.top_k;
  j["adapters"]["num_experts"] = spec.num_experts;
  if (spec.method != "lora") {
    j["allocation"]["method"] = spec.method;
    if (spec.method == "mola") j["allocation"]["preset"] = spec.preset;
  }
  j["train"]["steps"] = spec.steps;
  j["train"]["lr"] = spec.lr;
  j["train"]["log_every"] = spec.log_every;
  j["train"]["eval_every"] = spec.eval_every;
  j["train"]["log_matrices_every"] = spec.matrix_every;
  j["seed"] = spec.seed;
  return j.dump(2);
}

RunStarted demo_run_started(const DemoRunSpec& spec, const std::string& run_id) {
  RunStarted e;
  e.run_id = run_id;
  e.experiment_name = spec.experiment;
  e.run_name = spec.name;
  e.config_json = demo_config_json(spec);
  e.allocation_method = spec.method;
  e.seed = spec.seed;
  e.device = "cpu";
  e.torch_version = "none";
  e.params = flatten_json(nlohmann::json::parse(e.config_json));
  e.tags["kind"] = "finetune";
  return e;
}

void write_demo_step(RunStore& store,
                     const std::string& run_id,
                     const DemoRunSpec& spec,
                     int step) {
  const std::vector<int> experts = demo_experts_per_layer(spec);
  int maxE = 1;
  for (int e : experts) maxE = std::max(maxE, e);
  const double t = static_cast<double>(step) / std::max(1, spec.steps);
  // Method-dependent learning speed so demo runs differ visibly (MoLA 2468 > uniform > LoRA).
  double capacity = 1.0;
  if (spec.method == "lora")
    capacity = 0.75;
  else if (spec.method == "mola")
    capacity = spec.preset == "2468" ? 1.08 : 0.94;
  if (step == 0) {
    MatrixPoint alloc{
        "alloc/experts", 0, {spec.layers, spec.modules}, "layer,module", MatrixDType::I32, {}, {},
        now_ms()};
    MatrixPoint rank{"alloc/rank",
                     0,
                     {spec.layers, spec.modules, maxE},
                     "layer,module,expert",
                     MatrixDType::I32,
                     {},
                     {},
                     now_ms()};
    for (int l = 0; l < spec.layers; ++l)
      for (int m = 0; m < spec.modules; ++m) {
        alloc.i32.push_back(experts[static_cast<size_t>(l)]);
        for (int e = 0; e < maxE; ++e)
          rank.i32.push_back(e < experts[static_cast<size_t>(l)] ? spec.r : -1);
      }
    store.log_matrix(run_id, alloc);
    store.log_matrix(run_id, rank);
  }
  if (step > 0 && step % spec.log_every == 0) {
    const double loss =
        0.6 + 2.4 * std::exp(-4.0 * t * capacity) + 0.12 * (noise(spec.seed, step, 1) - 0.5);
    store.log_metric(run_id, {"train/loss", step, loss, now_ms()});
    store.log_metric(run_id,
                     {"train/lr", step, spec.lr * (0.5 + 0.5 * std::cos(M_PI * t)), now_ms()});
    store.log_metric(run_id, {"train/grad_norm", step, 1.0 + noise(spec.seed, step, 2), now_ms()});
    store.log_metric(run_id,
                     {"moe/balance_loss", step, 0.01 + 0.01 * noise(spec.seed, step, 3), now_ms()});
  }
  if (step > 0 && (step % spec.eval_every == 0 || step == spec.steps)) {
    const double base = 0.9 * capacity * (1.0 - std::exp(-3.0 * t));
    store.log_metric(run_id,
                     {"eval/loss", step, 0.7 + 2.2 * std::exp(-3.5 * t * capacity), now_ms()});
    const char* tasks[] = {"lookup", "arithmetic", "facts"};
    double sum = 0.0;
    for (int i = 0; i < 3; ++i) {
      const double acc =
          std::clamp(base * (1.0 - 0.25 * i) + 0.05 * noise(spec.seed, step, 10 + i), 0.0, 1.0);
      sum += acc;
      store.log_metric(run_id, {std::string("eval/acc/") + tasks[i], step, acc, now_ms()});
    }
    store.log_metric(run_id, {"eval/acc", step, sum / 3.0, now_ms()});
  }
  if (spec.method != "lora" && step > 0 && step % spec.matrix_every == 0) {
    MatrixPoint load{"moe/load_fraction",
                     step,
                     {spec.layers, spec.modules, maxE},
                     "layer,module,expert",
                     MatrixDType::F32,
                     {},
                     {},
                     now_ms()};
    for (int l = 0; l < spec.layers; ++l)
      for (int m = 0; m < spec.modules; ++m) {
        const int n = experts[static_cast<size_t>(l)];
        std::vector<double> w(static_cast<size_t>(n));
        double total = 0.0;
        for (int e = 0; e < n; ++e) {
          w[static_cast<size_t>(e)] = 1.0 + 2.0 * t * noise(spec.seed, l * 100 + m * 10 + e, 7) +
                                      0.3 * noise(spec.seed, step, l * 100 + e);
          total += w[static_cast<size_t>(e)];
        }
        for (int e = 0; e < maxE; ++e)
          load.f32.push_back(e < n ? static_cast<float>(w[static_cast<size_t>(e)] / total)
                                   : std::numeric_limits<float>::quiet_NaN());
      }
    store.log_matrix(run_id, load);
  }
}

std::string add_demo_run(RunStore& store, const DemoRunSpec& spec, RunStatus status) {
  const std::string run_id = make_uuid_hex();
  store.start_run(demo_run_started(spec, run_id));
  for (int step = 0; step <= spec.steps; ++step) write_demo_step(store, run_id, spec, step);
  if (status != RunStatus::Running)
    store.finish_run(run_id, status, status == RunStatus::Failed ? "demo failure" : "");
  store.flush();
  return run_id;
}

}  // namespace apportion::test
