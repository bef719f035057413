// SPDX-License-Identifier: GPL-3.0-or-later
// `apportion inspect MODEL_DIR [--json]`: what a model folder holds (architecture, shape, MoE
// layout, parameter counts, dtypes, files, tokenizer), read from config.json and the
// safetensors headers only, and the peak-memory estimate of a typical LoRA run on it. JSON for
// the GUI, a readable table otherwise.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "app/cli/commands.h"
#include "app/cli/exit_codes.h"
#include "core/allocation/expert_allocation.h"
#include "core/backbone/model_config.h"
#include "core/common/error.h"
#include "core/config/experiment_config.h"
#include "core/estimate/memory_estimate.h"
#include "core/model/model_inspect.h"

namespace apportion::cli {
namespace {

/// 1234567 -> "1.23 M".
std::string human(double n, const char* unit) {
  const char* prefix[] = {"", " k", " M", " B", " T"};
  int i = 0;
  while (n >= 1000.0 && i < 4) {
    n /= 1000.0;
    ++i;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, i == 0 ? "%.0f%s%s" : "%.2f%s%s", n, prefix[i], unit);
  return buf;
}

std::string str_or(const nlohmann::json& j, const char* key, const std::string& fallback) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : fallback;
}

void print_table(const nlohmann::json& j) {
  auto row = [](const std::string& label, const std::string& value) {
    std::printf("%-14s %s\n", label.c_str(), value.c_str());
  };
  auto num = [&](const char* key) { return std::to_string(j.value(key, 0)); };
  row("model", j["path"].get<std::string>());
  row("architecture",
      j["architecture"].get<std::string>() + " (" + j["model_type"].get<std::string>() + ")");
  row("layers", num("num_layers"));
  row("hidden", num("hidden_size") + ", MLP " + num("intermediate_size"));
  row("heads", num("num_attention_heads") + " query / " + num("num_key_value_heads") +
                   " key-value, head dim " + num("head_dim"));
  row("vocab",
      num("vocab_size") + (j.value("tie_word_embeddings", false) ? " (tied lm_head)" : ""));
  char theta[32];
  std::snprintf(theta, sizeof theta, "%g", j.value("rope_theta", 0.0));
  std::string rope = std::string("theta ") + theta;
  if (j["rope_scaling"].is_object()) rope += ", scaling " + j["rope_scaling"].dump();
  row("rope", rope);
  if (j.value("moe", false)) {
    std::string moe = num("num_experts") + " experts, top-" + num("top_k") + " in " +
                      num("moe_layers") + " of " + num("num_layers") + " layers";
    if (j.value("shared_expert_intermediate_size", 0) > 0) moe += ", + shared expert";
    moe += j.value("norm_topk_prob", false) ? ", top-k renormalised" : "";
    row("experts", moe);
  }
  const auto total = j.value("total_parameters", int64_t{0});
  std::string params = human(static_cast<double>(total), "");
  if (j.value("moe", false)) {
    params += " total, " +
              human(static_cast<double>(j.value("active_parameters", int64_t{0})), "") +
              " active per token";
  }
  row("parameters", params);
  for (const auto& [name, n] : j["parameters"].items()) {
    const double share = total > 0 ? 100.0 * n.get<double>() / static_cast<double>(total) : 0.0;
    char pct[32];
    std::snprintf(pct, sizeof pct, " (%.1f%%)", share);
    row("  " + name, human(n.get<double>(), "") + pct);
  }
  std::string dtypes;
  for (const auto& d : j["dtypes"]) dtypes += (dtypes.empty() ? "" : ", ") + d.get<std::string>();
  row("dtypes", dtypes.empty() ? "-" : dtypes);
  std::string files =
      std::to_string(j["files"].size()) + " file(s), " + human(j.value("total_bytes", 0.0), "B");
  if (j.value("sharded", false)) files += " (sharded, " + str_or(j, "index", "") + ")";
  row("weights", files);
  std::string tok = str_or(j, "tokenizer", "none found");
  std::string list;
  for (const auto& f : j["tokenizer_files"])
    list += (list.empty() ? "" : ", ") + f.get<std::string>();
  if (!list.empty()) tok += "  [" + list + "]";
  row("tokenizer", tok);
  const auto& m = j["training_memory_estimate"];
  if (m.contains("peak_bytes")) {
    row("train memory", "~" + format_bytes(m["peak_bytes"].get<int64_t>()) + " (" +
                            format_bytes(m["peak_bytes_checkpointed"].get<int64_t>()) +
                            " with gradient checkpointing): LoRA r 8, 1 x " +
                            std::to_string(m["max_seq_len"].get<int>()) +
                            " tokens, bfloat16 on CUDA; `apportion train CONFIG --dry-run` "
                            "estimates your run");
  }
}

/// Peak memory of a typical fine-tuning run on this model (core/estimate): plain LoRA r 8 on
/// all 7 projections, one sequence of min(512, max_position_embeddings) tokens, bfloat16 on a
/// CUDA device, without and with gradient checkpointing.
nlohmann::json typical_memory(const std::string& model_dir) {
  const std::string file = (std::filesystem::path(model_dir) / "config.json").string();
  const ModelConfig model = ModelConfig::from_json(load_json_file(file), file);
  const int tokens = std::max(8, std::min(512, model.max_position_embeddings));
  nlohmann::json out = {{"method", "lora r 8, all 7 projections"},
                        {"micro_batch_size", 1},
                        {"max_seq_len", tokens},
                        {"dtype", "bfloat16"},
                        {"device", "cuda"}};
  for (const bool ckpt : {false, true}) {
    ExperimentConfig cfg = ExperimentConfig::from_json(
        {{"name", "inspect"},
         {"backbone", {{"path", "unused"}}},
         {"adapters", {{"method", "lora"}, {"r", 8}, {"lora_alpha", 16}}},
         {"data", {{"max_seq_len", tokens}}},
         {"train",
          {{"micro_batch_size", 1},
           {"dtype", "bfloat16"},
           {"device", "cuda"},
           {"gradient_checkpointing", ckpt}}}});
    const ModelShape shape = model.shape();
    const int64_t trainable = count_trainable_parameters(shape, plan_allocation(cfg, shape),
                                                         cfg.adapters->target_modules, false);
    out[ckpt ? "peak_bytes_checkpointed" : "peak_bytes"] =
        estimate_training_memory(model, cfg, trainable).total_bytes;
  }
  return out;
}

}  // namespace

int run_inspect(const std::string& model_dir, bool as_json) {
  nlohmann::json j = inspect_model_dir(model_dir);
  try {
    j["training_memory_estimate"] = typical_memory(model_dir);
  } catch (const Error& e) {
    j["training_memory_estimate"] = {{"error", e.what()}};
  }
  if (as_json) {
    std::cout << j.dump() << std::endl;
  } else {
    print_table(j);
    std::fflush(stdout);
  }
  return kExitFinished;
}

}  // namespace apportion::cli
