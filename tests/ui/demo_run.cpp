// SPDX-License-Identifier: GPL-3.0-or-later
// Synthetic runs for tests and screenshots (see demo_run.h).
#include "tests/ui/demo_run.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

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

bool isGuiLoMo(const DemoRunSpec& spec) {
  return spec.method == "guilomo_search" || spec.method == "guilomo";
}

bool isRoutedExpertMethod(const DemoRunSpec& spec) {
  return spec.method == "drlora" || spec.method == "static_frequency";
}

/// in/out features of the demo backbone's projections (hidden 32, 4 heads, 2 KV heads, MLP 64).
std::pair<int, int> demoDims(const std::string& module) {
  if (module == "k_proj" || module == "v_proj") return {32, 16};
  if (module == "gate_proj" || module == "up_proj") return {32, 64};
  if (module == "down_proj") return {64, 32};
  return {32, 32};
}

/// Experts of (layer, module) and the rank of each, as the run's allocation records say.
std::vector<int> moduleRanks(const DemoRunSpec& spec,
                             const std::vector<int>& experts,
                             int l,
                             int m) {
  if (spec.method == "guilomo") {
    std::vector<int> r;
    for (int e = 0; e < demo_guilomo_experts(spec, l, m); ++e)
      r.push_back(demo_guilomo_rank(spec, l, m, e));
    return r;
  }
  const int rank = spec.method == "guilomo_search" ? spec.r_max : spec.r;
  return std::vector<int>(static_cast<size_t>(experts[static_cast<size_t>(l)]), rank);
}

/// DR-LoRA demo: routing frequency of expert e of layer l (sums to 1 per layer) and the rank
/// importance; the saliency is their geometric blend.
double drFrequency(const DemoRunSpec& spec, int l, int e) {
  double total = 0.0, mine = 0.0;
  for (int k = 0; k < spec.backbone_experts; ++k) {
    const double w = 0.3 + std::pow(noise(spec.seed, l * 31 + k, 5), 2.0) * 2.0;
    total += w;
    if (k == e) mine = w;
  }
  return mine / total;
}

double drImportance(const DemoRunSpec& spec, int l, int e) {
  return 0.2 + 0.8 * noise(spec.seed, l * 17 + e, 6);
}

/// Final rank of each routed expert: r_init plus a share of the budget L·N·(r_target − r_init)
/// by saliency, in steps of 2, capped at r_max.
std::vector<int> drFinalRanks(const DemoRunSpec& spec, int l) {
  const int n = spec.backbone_experts;
  std::vector<double> sal(static_cast<size_t>(n));
  double total = 0.0;
  for (int e = 0; e < n; ++e) {
    sal[static_cast<size_t>(e)] = std::sqrt(drFrequency(spec, l, e) * drImportance(spec, l, e));
    total += sal[static_cast<size_t>(e)];
  }
  const int extra = n * (spec.dr_r_target - spec.dr_r_init);
  std::vector<int> r(static_cast<size_t>(n));
  for (int e = 0; e < n; ++e) {
    const int grow =
        2 * static_cast<int>(std::floor(extra * sal[static_cast<size_t>(e)] / total / 2));
    r[static_cast<size_t>(e)] = std::min(spec.dr_r_max, spec.dr_r_init + grow);
  }
  return r;
}

}  // namespace

int demo_guilomo_experts(const DemoRunSpec& spec, int layer, int module) {
  const int span = std::max(1, spec.n_max - 1);  // 2..n_max
  return 2 + static_cast<int>((static_cast<uint64_t>(layer * 3 + module * 2) + spec.seed) %
                              static_cast<uint64_t>(span));
}

int demo_guilomo_rank(const DemoRunSpec& spec, int layer, int module, int expert) {
  return 1 + static_cast<int>((static_cast<uint64_t>(layer + module + expert * 3) + spec.seed) %
                              static_cast<uint64_t>(std::max(1, spec.r_max)));
}

std::vector<std::string> demo_modules(const DemoRunSpec& spec) {
  if (isRoutedExpertMethod(spec)) return {"gate_proj", "up_proj", "down_proj"};
  static const std::vector<std::string> kAll = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                                "gate_proj", "up_proj", "down_proj"};
  return {kAll.begin(), kAll.begin() + std::clamp(spec.modules, 0, 7)};
}

std::vector<int> demo_experts_per_layer(const DemoRunSpec& spec) {
  std::vector<int> blocks;
  if (spec.method == "lora" || isRoutedExpertMethod(spec))
    return std::vector<int>(static_cast<size_t>(spec.layers), 1);
  if (spec.method == "uniform")
    return std::vector<int>(static_cast<size_t>(spec.layers), spec.num_experts);
  if (spec.method == "guilomo_search")
    return std::vector<int>(static_cast<size_t>(spec.layers), spec.n_max);
  if (spec.method == "guilomo") {
    std::vector<int> out;
    for (int l = 0; l < spec.layers; ++l) {
      int most = 0;
      for (int m = 0; m < spec.modules; ++m)
        most = std::max(most, demo_guilomo_experts(spec, l, m));
      out.push_back(most);
    }
    return out;
  }
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
  if (isRoutedExpertMethod(spec)) {
    j["backbone"]["config"]["architectures"] = {"MixtralForCausalLM"};
    j["backbone"]["config"]["model_type"] = "mixtral";
    j["backbone"]["config"]["num_local_experts"] = spec.backbone_experts;
    j["backbone"]["config"]["num_experts_per_tok"] = 2;
  }
  j["adapters"]["method"] =
      spec.method == "lora" || isRoutedExpertMethod(spec) ? "lora" : "moe_lora";
  j["adapters"]["r"] = spec.r;
  j["adapters"]["top_k"] = spec.top_k;
  j["adapters"]["num_experts"] = spec.num_experts;
  if (isRoutedExpertMethod(spec)) j["adapters"]["target_modules"] = demo_modules(spec);
  if (spec.method != "lora") {
    j["allocation"]["method"] = isGuiLoMo(spec) ? "guilomo" : spec.method;
    if (spec.method == "mola") j["allocation"]["preset"] = spec.preset;
    if (isGuiLoMo(spec))
      j["allocation"]["guilomo"] = {
          {"stage", "pipeline"}, {"n_max", spec.n_max}, {"r_max", spec.r_max}};
    if (isRoutedExpertMethod(spec))
      j["allocation"]["drlora"] = {
          {"r_init", spec.dr_r_init}, {"r_target", spec.dr_r_target}, {"r_max", spec.dr_r_max}};
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
  std::string modules;
  for (const std::string& m : demo_modules(spec)) modules += (modules.empty() ? "" : ",") + m;
  e.tags["modules"] = modules;
  // Trainable parameters as the trainer counts them: Σ r·(in+out) + routers N·in per module.
  int64_t trainable = 0;
  const std::vector<int> experts = demo_experts_per_layer(spec);
  const std::vector<std::string> names = demo_modules(spec);
  for (int l = 0; l < spec.layers; ++l) {
    for (int m = 0; m < static_cast<int>(names.size()); ++m) {
      const auto [in, out] = demoDims(names[static_cast<size_t>(m)]);
      if (isRoutedExpertMethod(spec)) {
        trainable += static_cast<int64_t>(spec.backbone_experts) * spec.dr_r_max * (in + out);
        continue;
      }
      const std::vector<int> ranks = moduleRanks(spec, experts, l, m);
      for (int r : ranks) trainable += static_cast<int64_t>(r) * (in + out);
      if (spec.method != "lora") trainable += static_cast<int64_t>(ranks.size()) * in;
    }
  }
  e.tags["trainable_params"] = std::to_string(trainable);
  if (isRoutedExpertMethod(spec)) {
    e.tags["drlora/budget"] =
        std::to_string(spec.layers * spec.backbone_experts * spec.dr_r_target);
  }
  for (const auto& [k, v] : spec.tags) e.tags[k] = v;
  return e;
}

namespace {

MatrixPoint matrixPoint(
    const char* key, int step, std::vector<int64_t> shape, const char* axes, MatrixDType dtype) {
  return MatrixPoint{key, step, std::move(shape), axes, dtype, {}, {}, now_ms()};
}

/// alloc/experts [layer, module] and alloc/rank [layer, module, expert] of the given counts.
void logAllocation(RunStore& store,
                   const std::string& run_id,
                   const DemoRunSpec& spec,
                   int step,
                   const std::vector<std::vector<int>>& ranks) {  // [layer·modules + module]
  size_t maxE = 1;
  for (const auto& r : ranks) maxE = std::max(maxE, r.size());
  MatrixPoint alloc = matrixPoint("alloc/experts", step, {spec.layers, spec.modules},
                                  "layer,module", MatrixDType::I32);
  MatrixPoint rank =
      matrixPoint("alloc/rank", step, {spec.layers, spec.modules, static_cast<int64_t>(maxE)},
                  "layer,module,expert", MatrixDType::I32);
  for (const auto& r : ranks) {
    alloc.i32.push_back(static_cast<int32_t>(r.size()));
    for (size_t e = 0; e < maxE; ++e) rank.i32.push_back(e < r.size() ? r[e] : -1);
  }
  store.log_matrix(run_id, alloc);
  store.log_matrix(run_id, rank);
}

/// A GuiLoMo search step: σ of the expert and rank GSVs, drifting from noise at step 0 towards
/// the demo's target counts, and the current argmax readout as alloc/experts and alloc/rank.
void logGsv(
    RunStore& store, const std::string& run_id, const DemoRunSpec& spec, int step, double t) {
  const int n = spec.n_max, rmax = spec.r_max;
  MatrixPoint ge = matrixPoint("guilomo/gsv_expert", step, {spec.layers, spec.modules, n},
                               "layer,module,expert", MatrixDType::F32);
  MatrixPoint gr = matrixPoint("guilomo/gsv_rank", step, {spec.layers, spec.modules, n, rmax},
                               "layer,module,expert,rank", MatrixDType::F32);
  const auto sigmoid = [](double x) { return static_cast<float>(1.0 / (1.0 + std::exp(-x))); };
  const auto logit = [&](int target, int i, int salt) {
    const double d = std::abs(i - target);
    return 0.8 * (noise(spec.seed, salt * 64 + i, step / std::max(1, spec.matrix_every)) - 0.5) +
           3.5 * t * (1.0 - 0.6 * d);
  };
  std::vector<std::vector<int>> readout;
  for (int l = 0; l < spec.layers; ++l) {
    for (int m = 0; m < spec.modules; ++m) {
      const int salt = l * 16 + m;
      int best = 0;
      std::vector<float> v(static_cast<size_t>(n));
      for (int i = 0; i < n; ++i) {
        v[static_cast<size_t>(i)] = sigmoid(logit(demo_guilomo_experts(spec, l, m) - 1, i, salt));
        if (v[static_cast<size_t>(i)] > v[static_cast<size_t>(best)]) best = i;
      }
      ge.f32.insert(ge.f32.end(), v.begin(), v.end());
      std::vector<int> ranks;
      for (int e = 0; e < n; ++e) {
        int bestR = 0;
        std::vector<float> rv(static_cast<size_t>(rmax));
        for (int i = 0; i < rmax; ++i) {
          rv[static_cast<size_t>(i)] =
              sigmoid(logit(demo_guilomo_rank(spec, l, m, e) - 1, i, 1000 + salt * 8 + e));
          if (rv[static_cast<size_t>(i)] > rv[static_cast<size_t>(bestR)]) bestR = i;
        }
        gr.f32.insert(gr.f32.end(), rv.begin(), rv.end());
        if (e < std::max(2, best + 1)) ranks.push_back(bestR + 1);
      }
      readout.push_back(std::move(ranks));
    }
  }
  store.log_matrix(run_id, ge);
  store.log_matrix(run_id, gr);
  if (step > 0) logAllocation(store, run_id, spec, step, readout);  // step 0: the supernet
}

/// DR-LoRA step: active ranks growing inside the window [0.05, 0.7] of the run (static
/// frequency: fixed from step 0), frequency and importance EMAs, saliency.
void logDrLora(
    RunStore& store, const std::string& run_id, const DemoRunSpec& spec, int step, double t) {
  const int64_t L = spec.layers, N = spec.backbone_experts;
  MatrixPoint rank = matrixPoint("drlora/rank", step, {L, N}, "layer,expert", MatrixDType::F32);
  MatrixPoint freq =
      matrixPoint("drlora/frequency", step, {L, N}, "layer,expert", MatrixDType::F32);
  MatrixPoint imp =
      matrixPoint("drlora/importance", step, {L, N}, "layer,expert", MatrixDType::F32);
  MatrixPoint sal = matrixPoint("drlora/saliency", step, {L, N}, "layer,expert", MatrixDType::F32);
  MatrixPoint load =
      matrixPoint("backbone/load_fraction", step, {L, N}, "layer,expert", MatrixDType::F32);
  const bool grows = spec.method == "drlora";
  const double progress = grows ? std::clamp((t - 0.05) / 0.65, 0.0, 1.0) : 1.0;
  for (int l = 0; l < spec.layers; ++l) {
    const std::vector<int> final = drFinalRanks(spec, l);
    for (int e = 0; e < spec.backbone_experts; ++e) {
      const double f = drFrequency(spec, l, e) * (0.9 + 0.2 * noise(spec.seed, step, l * 8 + e));
      const double g = drImportance(spec, l, e) * std::min(1.0, 0.3 + t);
      const int grown = spec.dr_r_init +
                        2 * static_cast<int>(std::floor(
                                progress * (final[static_cast<size_t>(e)] - spec.dr_r_init) / 2.0));
      rank.f32.push_back(static_cast<float>(grows ? grown : final[static_cast<size_t>(e)]));
      freq.f32.push_back(static_cast<float>(f));
      imp.f32.push_back(static_cast<float>(g));
      sal.f32.push_back(static_cast<float>(std::sqrt(f * g)));
      load.f32.push_back(static_cast<float>(f));
    }
  }
  store.log_matrix(run_id, rank);
  if (grows) {
    store.log_matrix(run_id, imp);
    store.log_matrix(run_id, sal);
  }
  store.log_matrix(run_id, freq);
  store.log_matrix(run_id, load);
}

}  // namespace

void write_demo_step(RunStore& store,
                     const std::string& run_id,
                     const DemoRunSpec& spec,
                     int step) {
  const std::vector<int> experts = demo_experts_per_layer(spec);
  const bool routed = isRoutedExpertMethod(spec);
  const double t = static_cast<double>(step) / std::max(1, spec.steps);
  // Method-dependent learning speed so demo runs differ visibly (MoLA 2468 > uniform > LoRA).
  double capacity = 1.0;
  if (spec.method == "lora")
    capacity = 0.75;
  else if (spec.method == "mola")
    capacity = spec.preset == "2468" ? 1.08 : 0.94;
  else if (spec.method == "guilomo")
    capacity = 1.12;
  else if (routed)
    capacity = spec.method == "drlora" ? 1.05 : 0.98;
  if (step == 0 && !routed) {
    std::vector<std::vector<int>> ranks;
    for (int l = 0; l < spec.layers; ++l)
      for (int m = 0; m < spec.modules; ++m) ranks.push_back(moduleRanks(spec, experts, l, m));
    logAllocation(store, run_id, spec, 0, ranks);
  }
  if (step == 0 && routed) logDrLora(store, run_id, spec, 0, 0.0);
  if (step == 0 && spec.method == "guilomo_search") logGsv(store, run_id, spec, 0, 0.0);
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
  if (step == 0 || step % spec.matrix_every != 0) return;
  if (routed) {
    logDrLora(store, run_id, spec, step, t);
    return;
  }
  if (spec.method == "guilomo_search") logGsv(store, run_id, spec, step, t);
  if (spec.method == "lora") return;
  int maxE = 1;
  for (int e : experts) maxE = std::max(maxE, e);
  MatrixPoint load = matrixPoint("moe/load_fraction", step, {spec.layers, spec.modules, maxE},
                                 "layer,module,expert", MatrixDType::F32);
  for (int l = 0; l < spec.layers; ++l)
    for (int m = 0; m < spec.modules; ++m) {
      const int n = static_cast<int>(moduleRanks(spec, experts, l, m).size());
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
