// SPDX-License-Identifier: GPL-3.0-or-later
// Fuzzes the experiment config path of `apportion train`: load_json_file, `--set` overrides,
// ExperimentConfig::from_json (strict parse + validate), the stored form (to_json) parsed again,
// the method's stages and its plan summary. Input: the config file's bytes, optionally followed
// by a NUL byte and `--set` strings, one per line (e.g. "{…}\0train.lr=3e-4\nadapters.r=8").
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/backbone/model_config.h"
#include "core/config/experiment_config.h"
#include "core/methods/method_registry.h"
#include "tests/fuzz/fuzz_util.h"

using namespace apportion;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const size_t nul = input.find('\0');
  const std::string text = input.substr(0, nul);
  std::vector<std::string> overrides;
  if (nul != std::string::npos) {
    size_t start = nul + 1;
    while (start <= input.size()) {
      size_t end = input.find('\n', start);
      if (end == std::string::npos) end = input.size();
      if (end > start) overrides.push_back(input.substr(start, end - start));
      start = end + 1;
    }
  }
  const std::string path = fuzz::scratch_dir() + "/experiment.json";
  fuzz::write_file(path, reinterpret_cast<const uint8_t*>(text.data()), text.size());

  fuzz::expect_clean([&] {
    nlohmann::json j = load_json_file(path);
    apply_overrides(j, overrides);
    const ExperimentConfig cfg = ExperimentConfig::from_json(j);
    const nlohmann::json stored = cfg.to_json();
    (void)flatten_json(stored);
    // The stored form must parse back to itself: `train --resume` and every stage re-read it.
    nlohmann::json again;
    try {
      again = ExperimentConfig::from_json(stored).to_json();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "fuzz: the stored config does not parse back: %s\n", e.what());
      std::abort();
    }
    if (again != stored) {
      std::fprintf(stderr, "fuzz: the stored config changes when parsed back:\n%s\n%s\n",
                   stored.dump().c_str(), again.dump().c_str());
      std::abort();
    }
    if (cfg.is_pretraining()) return;
    const Method& method = method_of(cfg);
    // As cmd_train runs a pipeline: each stage after the first linked to the run before it.
    const std::vector<MethodStage> stages = method.stages(stored);
    for (size_t i = 0; i < stages.size(); ++i) {
      nlohmann::json stage = stages[i].config;
      if (i > 0) method.link_stage(stage, "0123456789abcdef0123456789abcdef");
      (void)ExperimentConfig::from_json(stage).to_json();
    }
    if (!cfg.backbone.config.is_null()) {
      const ModelShape shape =
          ModelConfig::from_json(cfg.backbone.config, "backbone.config").shape();
      (void)method.summarize(cfg, shape, fuzz::scratch_dir());
    }
  });
  return 0;
}
