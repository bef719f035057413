// SPDX-License-Identifier: GPL-3.0-or-later
// Fuzzes a model folder's config.json as `apportion inspect` reads it: load_json_file, then
// ModelConfig::from_json (strict parse + validate), its shape, the parameter count and the
// typical-run memory estimate, and the HF form written back (to_json) parsed again.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/allocation/expert_allocation.h"
#include "core/backbone/model_config.h"
#include "core/config/experiment_config.h"
#include "core/estimate/memory_estimate.h"
#include "tests/fuzz/fuzz_util.h"

using namespace apportion;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_file(fuzz::scratch_dir() + "/config.json", data, size);
  fuzz::expect_clean([&] {
    const ModelConfig model = ModelConfig::from_json(load_json_file(path), path);
    (void)model.shape();
    (void)backbone_parameter_count(model);
    const nlohmann::json written = model.to_json();
    // save_pretrained writes to_json(); a folder it wrote must load again, unchanged.
    nlohmann::json again;
    try {
      again = ModelConfig::from_json(written, "to_json").to_json();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "fuzz: the written config.json does not parse back: %s\n", e.what());
      std::abort();
    }
    if (again != written) {
      std::fprintf(stderr, "fuzz: config.json changes when parsed back:\n%s\n%s\n",
                   written.dump().c_str(), again.dump().c_str());
      std::abort();
    }
    // `apportion inspect`'s typical run (app/cli/cmd_inspect.cpp): plain LoRA r 8 on all
    // projections, one sequence, bfloat16 on CUDA.
    const int tokens = std::max(8, std::min(512, model.max_position_embeddings));
    const ExperimentConfig cfg = ExperimentConfig::from_json(
        {{"name", "inspect"},
         {"backbone", {{"path", "unused"}}},
         {"adapters", {{"method", "lora"}, {"r", 8}, {"lora_alpha", 16}}},
         {"data", {{"max_seq_len", tokens}}},
         {"train", {{"micro_batch_size", 1}, {"dtype", "bfloat16"}, {"device", "cuda"}}}});
    const ModelShape shape = model.shape();
    const int64_t trainable = count_trainable_parameters(shape, plan_allocation(cfg, shape),
                                                         cfg.adapters->target_modules, false);
    (void)estimate_training_memory(model, cfg, trainable);
  });
  return 0;
}
