// SPDX-License-Identifier: GPL-3.0-or-later
// The allocation strategy registry and the helpers every strategy shares: block expansion,
// model shapes from config.json, budgets from configs and trainable-parameter counting.
#include <algorithm>
#include <numeric>

#include "core/allocation/expert_allocation.h"
#include "core/allocation/strategies.h"
#include "core/common/error.h"
#include "core/common/json_parse.h"
#include "core/config/experiment_config.h"
#include "core/methods/method_registry.h"

namespace apportion {

std::pair<int, int> ModelShape::projection_dims(const std::string& module) const {
  // An explicit head_dim (Mistral-Nemo style) makes q_proj heads × head_dim wide, which need
  // not equal hidden_size: the model builds it so (core/model/attention.cpp).
  const int head_dim = explicit_head_dim > 0     ? explicit_head_dim
                       : num_attention_heads > 0 ? hidden_size / num_attention_heads
                                                 : 0;
  const int q_dim = head_dim * num_attention_heads;
  const int kv_dim = head_dim * num_key_value_heads;
  if (module == "q_proj") return {hidden_size, q_dim};
  if (module == "k_proj" || module == "v_proj") return {hidden_size, kv_dim};
  if (module == "o_proj") return {q_dim, hidden_size};
  if (module == "gate_proj" || module == "up_proj") return {hidden_size, intermediate_size};
  if (module == "down_proj") return {intermediate_size, hidden_size};
  throw ConfigError("adapters.target_modules: unknown module \"" + module + "\"");
}

int ExpertAllocation::total_experts() const {
  int total = 0;
  for (const auto& layer : ranks) total += static_cast<int>(layer.size());
  return total;
}

const std::vector<int>& ExpertAllocation::module_experts(int layer,
                                                         const std::string& module) const {
  if (layer >= 0 && static_cast<size_t>(layer) < module_ranks.size()) {
    const auto it = module_ranks[static_cast<size_t>(layer)].find(module);
    if (it != module_ranks[static_cast<size_t>(layer)].end()) return it->second;
  }
  return ranks.at(static_cast<size_t>(layer));
}

int ExpertAllocation::max_experts() const {
  int best = 0;
  for (const auto& layer : ranks) best = std::max(best, static_cast<int>(layer.size()));
  return best;
}

std::unique_ptr<AllocationStrategy> AllocationStrategy::create(const std::string& method) {
  return method_named(method).strategy();  // ConfigError naming allocation.method if unknown
}

std::vector<int> expand_blocks(const std::vector<int>& blocks, int num_layers) {
  AP_CHECK(!blocks.empty() && num_layers > 0, "expand_blocks needs blocks and layers");
  std::vector<int> out;
  const int n = static_cast<int>(blocks.size());
  for (int b = 0; b < n; ++b) {
    // Block b covers layers [floor(b·L/n), floor((b+1)·L/n)).
    const int begin = b * num_layers / n;
    const int end = (b + 1) * num_layers / n;
    for (int l = begin; l < end; ++l) out.push_back(blocks[b]);
  }
  // Fewer layers than blocks: sample the blocks at the layer centres.
  if (static_cast<int>(out.size()) != num_layers) {
    out.clear();
    for (int l = 0; l < num_layers; ++l) out.push_back(blocks[(2 * l + 1) * n / (2 * num_layers)]);
  }
  return out;
}

ModelShape model_shape_from_hf_config(const nlohmann::json& j, const std::string& where) {
  auto field = [&](const char* key, bool required, int fallback) {
    auto it = j.find(key);
    if (it == j.end()) {
      if (!required) return fallback;
      throw ConfigError(where + ": " + key + " is missing (an HF LLaMA config.json needs it)");
    }
    const auto n = it->is_number_integer() ? json_to_integer<int>(*it) : std::nullopt;
    if (!n || *n <= 0) {
      throw ConfigError(where + ": " + key + " must be a positive integer, got " + it->dump());
    }
    return *n;
  };
  if (!j.is_object()) throw ConfigError(where + ": must be a JSON object");
  ModelShape s;
  s.num_layers = field("num_hidden_layers", true, 0);
  s.hidden_size = field("hidden_size", true, 0);
  s.intermediate_size = field("intermediate_size", true, 0);
  s.num_attention_heads = field("num_attention_heads", true, 0);
  s.num_key_value_heads = field("num_key_value_heads", false, s.num_attention_heads);
  return s;
}

AllocationBudget budget_from(const ExperimentConfig& cfg) {
  AP_CHECK(cfg.adapters.has_value(), "budget_from needs an adapters section");
  AllocationBudget b;
  b.method = cfg.allocation.method;
  b.preset = cfg.allocation.preset;
  b.explicit_experts = cfg.allocation.experts_per_layer;
  b.explicit_top_k = cfg.allocation.top_k_per_layer;
  b.num_experts = cfg.adapters->num_experts;
  b.top_k = cfg.adapters->top_k;
  b.rank = cfg.adapters->r;
  b.guilomo_n_max = cfg.allocation.guilomo.n_max;
  b.guilomo_r_max = cfg.allocation.guilomo.r_max;
  b.drlora_r_init = cfg.allocation.drlora.r_init;
  b.drlora_r_target = cfg.allocation.drlora.r_target;
  b.drlora_r_max = cfg.allocation.drlora.r_max;
  return b;
}

namespace {

/// adapters.layers_to_transform: layers left out get no experts (top-k 0), so the records show
/// 0 experts there and count_trainable_parameters counts nothing for them. The strategies
/// themselves still plan every layer (a MoLA preset keeps its layer → count map; it simply skips
/// the layers left out).
void keep_only_transformed_layers(const AdapterConfig& adapters, ExpertAllocation& a) {
  if (adapters.layers_to_transform.empty()) return;
  for (size_t l = 0; l < a.ranks.size(); ++l) {
    if (adapters.adapts_layer(static_cast<int>(l))) continue;
    a.ranks[l].clear();
    if (l < a.top_k.size()) a.top_k[l] = 0;
    if (l < a.module_ranks.size()) a.module_ranks[l].clear();
    if (l < a.expert_ranks.size()) a.expert_ranks[l].clear();
    if (l < a.expert_active_ranks.size()) a.expert_active_ranks[l].clear();
  }
}

}  // namespace

ExpertAllocation plan_allocation(const ExperimentConfig& cfg, const ModelShape& shape) {
  AP_CHECK(cfg.adapters.has_value(), "plan_allocation needs an adapters section");
  check_layers_to_transform(cfg.adapters->layers_to_transform, shape.num_layers);
  ExpertAllocation a = method_of(cfg).plan(cfg, shape);
  keep_only_transformed_layers(*cfg.adapters, a);
  return a;
}

int64_t count_trainable_parameters(const ModelShape& shape,
                                   const ExpertAllocation& allocation,
                                   const std::vector<std::string>& target_modules,
                                   bool with_router) {
  int64_t total = 0;
  for (const auto& module : target_modules) {
    const auto [in, out] = shape.projection_dims(module);
    const bool ffn = module == "gate_proj" || module == "up_proj" || module == "down_proj";
    for (size_t l = 0; l < allocation.ranks.size(); ++l) {
      const auto& layer = allocation.module_experts(static_cast<int>(l), module);
      const int64_t rank_sum = std::accumulate(layer.begin(), layer.end(), int64_t{0});
      const int routed = l < shape.backbone_experts.size() ? shape.backbone_experts[l] : 0;
      if (!ffn || routed == 0) {
        total += rank_sum * (in + out);
        if (with_router) total += static_cast<int64_t>(layer.size()) * in;
        continue;
      }
      if (layer.empty()) continue;  // a layer left out by layers_to_transform
      // Sparse-MoE layer (METHODS.md §4.4): a plain LoRA on each routed expert's projection, of
      // that expert's rank (expert_ranks, else the layer's rank), plus the layer's LoRA or
      // LoRA-MoE on the shared expert's projection.
      const int64_t width =
          shape.moe_intermediate_size > 0 ? shape.moe_intermediate_size : shape.intermediate_size;
      const bool own = l < allocation.expert_ranks.size() && !allocation.expert_ranks[l].empty();
      for (int e = 0; e < routed; ++e) {
        const int64_t r = own ? allocation.expert_ranks[l].at(static_cast<size_t>(e)) : layer[0];
        total += r * (shape.hidden_size + width);
      }
      if (shape.shared_expert_intermediate_size > 0) {
        total += rank_sum * (shape.hidden_size + shape.shared_expert_intermediate_size);
        if (with_router) {
          const int64_t shared_in =
              module == "down_proj" ? shape.shared_expert_intermediate_size : shape.hidden_size;
          total += static_cast<int64_t>(layer.size()) * shared_in;
        }
      }
    }
  }
  return total;
}

}  // namespace apportion
