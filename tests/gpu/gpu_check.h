// SPDX-License-Identifier: GPL-3.0-or-later
// The C++ side of packaging/gpu-check.sh (program `gpu_check`), one function per subcommand:
//   kv-cache   KV-cached greedy generation equals the recompute-everything loop (per dtype)
//   logits     logits of a model folder (optionally with an adapter folder) for given ids, as
//              JSON, for the transformers/peft parity check (packaging/gpu_check/parity.py)
//   throughput LLaMA-2-7B-shaped training steps (plain LoRA, MoLA-2468, uniform LoRA-MoE) at
//              cutoff 256/1024, with and without gradient checkpointing: tokens/s, MFU, peak
//              memory next to the estimate (core/estimate)
// Each writes one JSON object to stdout. Runs on "cpu" too (tiny shapes), which is what the
// test suite runs (tests/gpu/CMakeLists.txt).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace apportion::gpu_check {

nlohmann::json kv_cache_check(const std::string& device);
nlohmann::json dump_logits(const std::string& model_dir,
                           const std::string& ids_json,
                           const std::string& dtype,
                           const std::string& device,
                           const std::string& adapter_dir);
/// shape "7b" (LLaMA-2-7B) or "tiny" (a 2-layer 128-wide model, for CPU runs of the check).
nlohmann::json throughput(const std::string& device, const std::string& shape, int steps);

}  // namespace apportion::gpu_check
