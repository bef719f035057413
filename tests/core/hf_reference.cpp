// SPDX-License-Identifier: GPL-3.0-or-later
// The HF stand-ins of hf_reference.h. The reference decoder is deliberately naive (explicit
// loops over heads, query positions and tokens, float64 throughout) and reads weights by their
// checkpoint names, so it shares nothing with core/model but the semantics it is meant to have.
// Legend: T time, C hidden, V vocab, N tokens, E experts, H heads, D head dim.
#include "tests/core/hf_reference.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "core/tensor/safetensors.h"

namespace apportion::test {
namespace {

using nlohmann::json;

std::string arch_of(const json& c) { return c["architectures"][0].get<std::string>(); }

bool is_moe_layer(const json& c, int layer) {
  const auto a = arch_of(c);
  if (a == "MixtralForCausalLM" || a == "OlmoeForCausalLM") return true;
  if (a != "Qwen2MoeForCausalLM") return false;
  const auto only = c.value("mlp_only_layers", std::vector<int>{});
  return std::find(only.begin(), only.end(), layer) == only.end() &&
         (layer + 1) % c.value("decoder_sparse_step", 1) == 0;
}

int head_dim_of(const json& c) {
  if (c.contains("head_dim")) return c["head_dim"].get<int>();
  return c["hidden_size"].get<int>() / c["num_attention_heads"].get<int>();
}

std::string moe_prefix(const json& c, int layer) {
  return "model.layers." + std::to_string(layer) +
         (arch_of(c) == "MixtralForCausalLM" ? ".block_sparse_moe." : ".mlp.");
}

torch::Tensor d64(const TensorMap& w, const std::string& key) {
  return w.at(key).to(torch::kFloat64);
}

/// x [.., in] -> [.., out] with weight (+ bias when the checkpoint has one).
torch::Tensor linear(const TensorMap& w, const std::string& prefix, const torch::Tensor& x) {
  auto y = torch::matmul(x, d64(w, prefix + ".weight").t());
  if (w.count(prefix + ".bias")) y = y + d64(w, prefix + ".bias");
  return y;
}

torch::Tensor rms(const torch::Tensor& x, const torch::Tensor& weight, double eps) {
  return weight * x / torch::sqrt(x.pow(2).mean(-1, true) + eps);
}

torch::Tensor swiglu(const TensorMap& w,
                     const std::string& gate,
                     const std::string& up,
                     const std::string& down,
                     const torch::Tensor& x) {
  auto g = linear(w, gate, x);
  return linear(w, down, g / (1 + torch::exp(-g)) * linear(w, up, x));
}

}  // namespace

const std::vector<std::string>& fixture_architectures() {
  static const std::vector<std::string> a = {"llama",   "mistral", "qwen2",
                                             "mixtral", "olmoe",   "qwen2_moe"};
  return a;
}

json tiny_hf_config(const std::string& arch) {
  json c = {{"vocab_size", 64},
            {"hidden_size", 32},
            {"intermediate_size", 48},
            {"num_hidden_layers", 2},
            {"num_attention_heads", 4},
            {"num_key_value_heads", 2},
            {"rms_norm_eps", 1e-5},
            {"rope_theta", 10000.0},
            {"hidden_act", "silu"},
            {"max_position_embeddings", 128},
            {"bos_token_id", 1},
            {"eos_token_id", 2},
            {"tie_word_embeddings", false},
            {"transformers_version", "4.46.0"}};
  if (arch == "llama") {
    c["architectures"] = {"LlamaForCausalLM"};
    c["model_type"] = "llama";
    c["head_dim"] = 16;
    c["attention_bias"] = true;
    c["mlp_bias"] = true;
    c["rope_scaling"] = {{"rope_type", "llama3"},
                         {"factor", 8.0},
                         {"low_freq_factor", 1.0},
                         {"high_freq_factor", 4.0},
                         {"original_max_position_embeddings", 64}};
  } else if (arch == "mistral") {
    c["architectures"] = {"MistralForCausalLM"};
    c["model_type"] = "mistral";
    c["sliding_window"] = 4;
  } else if (arch == "qwen2") {
    c["architectures"] = {"Qwen2ForCausalLM"};
    c["model_type"] = "qwen2";
    c["tie_word_embeddings"] = true;
    c["rope_theta"] = 1000000.0;
    c["use_sliding_window"] = false;
    c["sliding_window"] = 4;
    c["max_window_layers"] = 1;
  } else if (arch == "mixtral") {
    c["architectures"] = {"MixtralForCausalLM"};
    c["model_type"] = "mixtral";
    c["num_local_experts"] = 4;
    c["num_experts_per_tok"] = 2;
    c["sliding_window"] = nullptr;
    c["rope_theta"] = 1000000.0;
  } else if (arch == "olmoe") {
    c["architectures"] = {"OlmoeForCausalLM"};
    c["model_type"] = "olmoe";
    c["num_experts"] = 4;
    c["num_experts_per_tok"] = 2;
    c["norm_topk_prob"] = false;
    c["clip_qkv"] = 1.5;
    c["pad_token_id"] = 1;
  } else if (arch == "qwen2_moe") {
    c["architectures"] = {"Qwen2MoeForCausalLM"};
    c["model_type"] = "qwen2_moe";
    c["num_experts"] = 4;
    c["num_experts_per_tok"] = 2;
    c["moe_intermediate_size"] = 24;
    c["shared_expert_intermediate_size"] = 40;
    c["decoder_sparse_step"] = 1;
    c["mlp_only_layers"] = {1};
    c["norm_topk_prob"] = false;
    c["use_sliding_window"] = false;
  }
  return c;
}

std::map<std::string, std::vector<int64_t>> hf_layout(const json& c) {
  const std::string a = arch_of(c);
  const int64_t v = c["vocab_size"], h = c["hidden_size"], f = c["intermediate_size"];
  const int64_t heads = c["num_attention_heads"], kv = c["num_key_value_heads"];
  const int64_t d = head_dim_of(c);
  const bool qwen = a == "Qwen2ForCausalLM" || a == "Qwen2MoeForCausalLM";
  const bool attn_bias = c.value("attention_bias", false);
  std::map<std::string, std::vector<int64_t>> k;
  k["model.embed_tokens.weight"] = {v, h};
  k["model.norm.weight"] = {h};
  if (!c.value("tie_word_embeddings", false)) k["lm_head.weight"] = {v, h};
  for (int l = 0; l < c["num_hidden_layers"].get<int>(); ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    k[p + "input_layernorm.weight"] = {h};
    k[p + "post_attention_layernorm.weight"] = {h};
    k[p + "self_attn.q_proj.weight"] = {heads * d, h};
    k[p + "self_attn.k_proj.weight"] = {kv * d, h};
    k[p + "self_attn.v_proj.weight"] = {kv * d, h};
    k[p + "self_attn.o_proj.weight"] = {h, heads * d};
    if (qwen || attn_bias) {
      k[p + "self_attn.q_proj.bias"] = {heads * d};
      k[p + "self_attn.k_proj.bias"] = {kv * d};
      k[p + "self_attn.v_proj.bias"] = {kv * d};
    }
    if (attn_bias) k[p + "self_attn.o_proj.bias"] = {h};
    if (a == "OlmoeForCausalLM") {
      k[p + "self_attn.q_norm.weight"] = {heads * d};
      k[p + "self_attn.k_norm.weight"] = {kv * d};
    }
    if (!is_moe_layer(c, l)) {
      k[p + "mlp.gate_proj.weight"] = {f, h};
      k[p + "mlp.up_proj.weight"] = {f, h};
      k[p + "mlp.down_proj.weight"] = {h, f};
      if (c.value("mlp_bias", false)) {
        k[p + "mlp.gate_proj.bias"] = {f};
        k[p + "mlp.up_proj.bias"] = {f};
        k[p + "mlp.down_proj.bias"] = {h};
      }
      continue;
    }
    const std::string m = moe_prefix(c, l);
    const int64_t e_count = c.contains("num_local_experts") ? c["num_local_experts"].get<int64_t>()
                                                            : c["num_experts"].get<int64_t>();
    const int64_t fe = c.value("moe_intermediate_size", f);
    k[m + "gate.weight"] = {e_count, h};
    for (int64_t e = 0; e < e_count; ++e) {
      const std::string x = m + "experts." + std::to_string(e) + ".";
      if (a == "MixtralForCausalLM") {
        k[x + "w1.weight"] = {fe, h};
        k[x + "w3.weight"] = {fe, h};
        k[x + "w2.weight"] = {h, fe};
      } else {
        k[x + "gate_proj.weight"] = {fe, h};
        k[x + "up_proj.weight"] = {fe, h};
        k[x + "down_proj.weight"] = {h, fe};
      }
    }
    if (a == "Qwen2MoeForCausalLM") {
      const int64_t fs = c["shared_expert_intermediate_size"];
      k[m + "shared_expert.gate_proj.weight"] = {fs, h};
      k[m + "shared_expert.up_proj.weight"] = {fs, h};
      k[m + "shared_expert.down_proj.weight"] = {h, fs};
      k[m + "shared_expert_gate.weight"] = {1, h};
    }
  }
  return k;
}

TensorMap random_weights(const json& config, uint64_t seed) {
  torch::manual_seed(seed);
  TensorMap w;
  for (const auto& [key, shape] : hf_layout(config)) {
    torch::Tensor t;
    if (key.find("norm.weight") != std::string::npos) {
      t = torch::empty(shape).uniform_(0.5, 1.5);
    } else if (key.find("embed_tokens") != std::string::npos) {
      t = torch::randn(shape) * 0.5;
    } else if (key.find(".gate.weight") != std::string::npos) {
      t = torch::randn(shape) * 0.5;  // routers: clearly non-uniform routing
    } else if (key.size() > 5 && key.compare(key.size() - 5, 5, ".bias") == 0) {
      t = torch::randn(shape) * 0.1;
    } else {
      t = torch::randn(shape) * 0.15;
    }
    w[key] = t;
  }
  return w;
}

void write_checkpoint(const std::string& dir, const json& config, const TensorMap& w, int shards) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/config.json") << config.dump(2);
  if (shards <= 1) {
    save_safetensors(dir + "/model.safetensors", w, {{"format", "pt"}});
    return;
  }
  std::vector<TensorMap> parts(static_cast<size_t>(shards));
  json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", json::object()}};
  size_t i = 0;
  for (const auto& [key, t] : w) {
    const size_t s = i++ * static_cast<size_t>(shards) / w.size();
    parts[s][key] = t;
  }
  for (size_t s = 0; s < parts.size(); ++s) {
    char name[64];
    std::snprintf(name, sizeof name, "model-%05zu-of-%05d.safetensors", s + 1, shards);
    save_safetensors(dir + "/" + name, parts[s], {{"format", "pt"}});
    for (const auto& [key, t] : parts[s]) index["weight_map"][key] = name;
  }
  std::ofstream(dir + "/model.safetensors.index.json") << index.dump(2);
}

at::Tensor reference_inv_freq(const json& c) {
  const int d = head_dim_of(c);
  const double theta = c["rope_theta"];
  std::vector<double> inv(static_cast<size_t>(d / 2));
  for (int i = 0; i < d / 2; ++i) inv[static_cast<size_t>(i)] = std::pow(theta, -2.0 * i / d);
  if (c.contains("rope_scaling") && c["rope_scaling"].is_object()) {
    const auto& r = c["rope_scaling"];
    const std::string type = r.value("rope_type", r.value("type", std::string("default")));
    const double factor = r.value("factor", 1.0);
    for (auto& f : inv) {
      if (type == "linear") f /= factor;
      if (type != "llama3") continue;
      const double orig = r["original_max_position_embeddings"];
      const double lo = r["low_freq_factor"], hi = r["high_freq_factor"];
      const double wavelen = 2 * M_PI / f;
      if (wavelen > orig / lo) {
        f /= factor;  // low frequency: fully interpolated
      } else if (wavelen >= orig / hi) {
        const double smooth = (orig / wavelen - lo) / (hi - lo);
        f = (1 - smooth) * f / factor + smooth * f;
      }  // high frequency: unchanged
    }
  }
  return torch::tensor(inv, torch::kFloat64);
}

at::Tensor reference_moe(const json& c,
                         const TensorMap& w,
                         const std::string& m,
                         const at::Tensor& x) {
  const bool mixtral = arch_of(c) == "MixtralForCausalLM";
  const bool renorm = mixtral || c.value("norm_topk_prob", false);
  const int k = c["num_experts_per_tok"];
  auto out = torch::zeros_like(x);
  for (int64_t n = 0; n < x.size(0); ++n) {
    auto xn = x[n];                           // [C]
    auto logits = linear(w, m + "gate", xn);  // [E]
    auto p = torch::exp(logits - logits.max()) / torch::exp(logits - logits.max()).sum();
    std::vector<int64_t> order(static_cast<size_t>(p.size(0)));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return p[a].item<double>() > p[b].item<double>();
    });
    double total = 0;
    for (int j = 0; j < k; ++j) total += p[order[static_cast<size_t>(j)]].item<double>();
    for (int j = 0; j < k; ++j) {
      const int64_t e = order[static_cast<size_t>(j)];
      double weight = p[e].item<double>();
      if (renorm) weight /= total;
      const std::string x_ = m + "experts." + std::to_string(e) + ".";
      auto y = mixtral ? swiglu(w, x_ + "w1", x_ + "w3", x_ + "w2", xn)
                       : swiglu(w, x_ + "gate_proj", x_ + "up_proj", x_ + "down_proj", xn);
      out[n].add_(y * weight);
    }
    if (w.count(m + "shared_expert_gate.weight")) {
      auto g = linear(w, m + "shared_expert_gate", xn);  // [1]
      auto s = swiglu(w, m + "shared_expert.gate_proj", m + "shared_expert.up_proj",
                      m + "shared_expert.down_proj", xn);
      out[n].add_(s / (1 + torch::exp(-g)));
    }
  }
  return out;
}

at::Tensor reference_forward(const json& c, const TensorMap& w, const std::vector<int64_t>& ids) {
  const std::string a = arch_of(c);
  const int64_t t = static_cast<int64_t>(ids.size());
  const int heads = c["num_attention_heads"], kv = c["num_key_value_heads"];
  const int d = head_dim_of(c);
  const double eps = c["rms_norm_eps"];
  auto h = d64(w, "model.embed_tokens.weight").index_select(0, torch::tensor(ids));  // [T, C]
  // RoPE: angle[pos][i] = pos · inv_freq[i]; dims i and i + D/2 share a frequency.
  auto inv = reference_inv_freq(c);
  auto angle = torch::arange(t, torch::kFloat64).unsqueeze(1) * inv.unsqueeze(0);  // [T, D/2]
  auto cos = torch::cat({angle.cos(), angle.cos()}, 1),
       sin = torch::cat({angle.sin(), angle.sin()}, 1);
  auto rope = [&](const torch::Tensor& x) {  // x [T, D]
    auto rot = torch::cat({-x.narrow(1, d / 2, d / 2), x.narrow(1, 0, d / 2)}, 1);
    return x * cos + rot * sin;
  };
  for (int l = 0; l < c["num_hidden_layers"].get<int>(); ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    int window = 0;
    if ((a == "MistralForCausalLM" || a == "MixtralForCausalLM") && c.contains("sliding_window") &&
        c["sliding_window"].is_number()) {
      window = c["sliding_window"];
    }
    if ((a == "Qwen2ForCausalLM" || a == "Qwen2MoeForCausalLM") &&
        c.value("use_sliding_window", false) && l >= c.value("max_window_layers", 0)) {
      window = c["sliding_window"];
    }
    auto x = rms(h, d64(w, p + "input_layernorm.weight"), eps);
    auto q = linear(w, p + "self_attn.q_proj", x), k = linear(w, p + "self_attn.k_proj", x);
    auto v = linear(w, p + "self_attn.v_proj", x);
    if (a == "OlmoeForCausalLM") {
      q = rms(q, d64(w, p + "self_attn.q_norm.weight"), eps);
      k = rms(k, d64(w, p + "self_attn.k_norm.weight"), eps);
    }
    if (c.contains("clip_qkv") && c["clip_qkv"].is_number()) {
      const double clip = c["clip_qkv"];
      q = q.clamp(-clip, clip);
      k = k.clamp(-clip, clip);
      v = v.clamp(-clip, clip);
    }
    auto attn = torch::zeros({t, heads * d}, torch::kFloat64);
    for (int hh = 0; hh < heads; ++hh) {
      const int g = hh / (heads / kv);
      auto qh = rope(q.narrow(1, hh * d, d)), kh = rope(k.narrow(1, g * d, d));
      auto vh = v.narrow(1, g * d, d);
      for (int64_t i = 0; i < t; ++i) {
        std::vector<double> s;
        std::vector<int64_t> keys;
        for (int64_t j = 0; j <= i; ++j) {
          if (window > 0 && i - j >= window) continue;
          s.push_back((qh[i] * kh[j]).sum().item<double>() / std::sqrt(static_cast<double>(d)));
          keys.push_back(j);
        }
        const double mx = *std::max_element(s.begin(), s.end());
        double z = 0;
        for (auto& e : s) z += (e = std::exp(e - mx));
        for (size_t j = 0; j < keys.size(); ++j) {
          attn[i].narrow(0, hh * d, d).add_(vh[keys[j]] * (s[j] / z));
        }
      }
    }
    h = h + linear(w, p + "self_attn.o_proj", attn);
    x = rms(h, d64(w, p + "post_attention_layernorm.weight"), eps);
    if (is_moe_layer(c, l)) {
      h = h + reference_moe(c, w, moe_prefix(c, l), x);
    } else {
      h = h + swiglu(w, p + "mlp.gate_proj", p + "mlp.up_proj", p + "mlp.down_proj", x);
    }
  }
  h = rms(h, d64(w, "model.norm.weight"), eps);
  const bool tied = c.value("tie_word_embeddings", false);
  return torch::matmul(h, d64(w, tied ? "model.embed_tokens.weight" : "lm_head.weight").t());
}

}  // namespace apportion::test
