// SPDX-License-Identifier: GPL-3.0-or-later
// inspect_model_dir (see model_inspect.h). Components are classified by HF key names: routed
// experts ("….experts.E.…"), shared expert ("….shared_expert…"), routers ("….gate.weight" of
// an MoE block), attention ("self_attn"), dense MLP, norms, embedding and lm_head.
#include "core/model/model_inspect.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/backbone/model_config.h"
#include "core/common/error.h"
#include "core/common/json_parse.h"
#include "core/model/checkpoint_files.h"

namespace apportion {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

/// Files a tokenizer may come with (the first two are what load_tokenizer reads).
const char* const kTokenizerFiles[] = {
    "tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json",
    "vocab.json",     "merges.txt",      "added_tokens.json",     "generation_config.json"};

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

std::string component_of(const std::string& name) {
  if (contains(name, "embed_tokens")) return "embedding";
  if (name.rfind("lm_head", 0) == 0) return "lm_head";
  if (contains(name, ".shared_expert")) return "shared_expert";
  if (contains(name, ".experts.")) return "experts";
  if (contains(name, "self_attn.")) return "attention";
  if (contains(name, "block_sparse_moe.gate.") || contains(name, "mlp.gate.")) return "router";
  if (contains(name, ".mlp.")) return "mlp";
  if (contains(name, "norm")) return "norm";
  return "other";
}

json read_config(const fs::path& path) {
  AP_CHECK_AS(ModelError, fs::exists(path), "cannot open '", path.string(),
              "'; a model folder needs config.json");
  try {
    return read_json_file_bounded(path.string(), JsonLimits::config());
  } catch (const JsonInputError& e) {
    throw ModelError("'" + path.string() + "', " + e.where() + ": " + e.reason() +
                     "; re-download or re-export the model");
  }
}

}  // namespace

json inspect_model_dir(const std::string& dir) {
  const fs::path root(dir);
  AP_CHECK_AS(ModelError, fs::is_directory(root), "'", dir, "' is not a folder");
  const fs::path config_path = root / "config.json";
  const ModelConfig cfg = ModelConfig::from_json(read_config(config_path), config_path.string());
  const CheckpointFiles files = read_checkpoint_files(dir);

  json out;
  out["path"] = dir;
  out["architecture"] = cfg.architecture;
  out["model_type"] = cfg.model_type;
  out["num_layers"] = cfg.num_hidden_layers;
  out["hidden_size"] = cfg.hidden_size;
  out["intermediate_size"] = cfg.intermediate_size;
  out["num_attention_heads"] = cfg.num_attention_heads;
  out["num_key_value_heads"] = cfg.num_key_value_heads;
  out["head_dim"] = cfg.head_dim();
  out["vocab_size"] = cfg.vocab_size;
  out["max_position_embeddings"] = cfg.max_position_embeddings;
  out["tie_word_embeddings"] = cfg.tie_word_embeddings;
  out["rope_theta"] = cfg.rope_theta;
  out["rope_scaling"] = cfg.to_json()["rope_scaling"];
  out["torch_dtype"] = cfg.torch_dtype;
  out["moe"] = cfg.is_moe();
  out["num_experts"] = cfg.num_experts;
  out["top_k"] = cfg.num_experts_per_tok;
  out["norm_topk_prob"] = cfg.norm_topk_prob;
  if (cfg.is_moe()) {
    out["expert_intermediate_size"] = cfg.expert_intermediate_size();
    out["shared_expert_intermediate_size"] = cfg.shared_expert_intermediate_size;
  }
  int moe_layers = 0;
  json layers = json::array();
  for (int l = 0; l < cfg.num_hidden_layers; ++l) {
    const bool moe = cfg.layer_is_moe(l);
    moe_layers += moe ? 1 : 0;
    layers.push_back({{"type", moe ? "moe" : "dense"},
                      {"experts", moe ? cfg.num_experts : 0},
                      {"top_k", moe ? cfg.num_experts_per_tok : 0},
                      {"shared_expert", moe && cfg.shared_expert_intermediate_size > 0},
                      {"sliding_window", cfg.layer_sliding_window(l)}});
  }
  out["moe_layers"] = moe_layers;
  out["layers"] = layers;

  std::map<std::string, int64_t> by_component, by_dtype;
  int64_t total = 0;
  for (const auto& f : files.files) {
    for (const auto& e : f.entries) {
      const int64_t n = e.numel();
      // Tied checkpoints sometimes still carry lm_head.weight; the model does not use it.
      if (cfg.tie_word_embeddings && e.name == "lm_head.weight") continue;
      by_component[component_of(e.name)] += n;
      by_dtype[e.dtype] += n;
      total += n;
    }
  }
  out["total_parameters"] = total;
  int64_t active = total;
  if (cfg.is_moe() && cfg.num_experts > 0) {
    const int64_t routed = by_component["experts"];
    active = total - routed + routed * cfg.num_experts_per_tok / cfg.num_experts;
  }
  out["active_parameters"] = active;
  json components = json::object();
  for (const auto& [k, n] : by_component) components[k] = n;
  out["parameters"] = components;
  json dtypes = json::array(), dtype_params = json::object();
  for (const auto& [k, n] : by_dtype) {
    dtypes.push_back(k);
    dtype_params[k] = n;
  }
  out["dtypes"] = dtypes;
  out["dtype_parameters"] = dtype_params;

  json file_list = json::array();
  uint64_t bytes = 0;
  for (const auto& f : files.files) {
    file_list.push_back({{"name", fs::path(f.path).filename().string()},
                         {"bytes", f.file_size},
                         {"tensors", f.entries.size()}});
    bytes += f.file_size;
  }
  out["files"] = file_list;
  out["sharded"] = !files.index_path.empty();
  out["index"] = files.index_path.empty() ? json(nullptr)
                                          : json(fs::path(files.index_path).filename().string());
  out["total_bytes"] = bytes;

  json tok_files = json::array();
  for (const char* name : kTokenizerFiles) {
    if (fs::exists(root / name)) tok_files.push_back(name);
  }
  out["tokenizer_files"] = tok_files;
  if (fs::exists(root / "tokenizer.json")) {
    out["tokenizer"] = "tokenizer.json";
  } else if (fs::exists(root / "tokenizer.model")) {
    out["tokenizer"] = "tokenizer.model";
  } else if (cfg.apportion_tokenizer == "byte" || cfg.vocab_size == 259 || cfg.vocab_size == 260) {
    out["tokenizer"] = "byte (built-in)";
  } else {
    out["tokenizer"] = nullptr;
  }
  auto id = [](int v) { return v < 0 ? json(nullptr) : json(v); };
  out["bos_token_id"] = id(cfg.bos_token_id);
  out["eos_token_ids"] = cfg.eos_token_ids();
  out["pad_token_id"] = id(cfg.pad_token_id);
  return out;
}

}  // namespace apportion
