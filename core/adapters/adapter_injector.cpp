// SPDX-License-Identifier: GPL-3.0-or-later
// inject_adapters and AdapterSet: adapters on the target projections, their parameters, the
// load-balancing loss (METHODS.md §1.4) and the routing statistics the trainer logs.
// Legend: N tokens, E experts, k top-k, L layers, M adapted modules.
#include "core/adapters/adapter_injector.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/adapters/lora_adapter.h"
#include "core/adapters/moe_lora_adapter.h"
#include "core/common/error.h"

namespace apportion {
namespace {

/// The projections of a LLaMA layer in canonical order (also the order of routing stats).
const std::vector<std::string>& known_modules() {
  static const std::vector<std::string> names = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                                 "gate_proj", "up_proj", "down_proj"};
  return names;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + v[i];
  return out;
}

}  // namespace

/// One balance term over logits z [rows, E]: (N? E : 1) · Σ_i f_i · P̄_i.
torch::Tensor balance_loss_term(const torch::Tensor& z, int top_k, bool multiply_by_experts) {
  const auto rows = z.size(0), experts = z.size(1);
  auto p = torch::softmax(z.to(torch::kFloat32), /*dim=*/1);       // [rows, E]
  auto sel = std::get<1>(p.topk(top_k, /*dim=*/1)).reshape({-1});  // [rows·k]
  auto counts = torch::zeros({experts}, p.options())
                    .index_add(/*dim=*/0, sel, torch::ones({sel.size(0)}, p.options()));  // [E]
  auto f = counts / static_cast<double>(top_k * rows);  // [E], no grad
  auto p_mean = p.mean(/*dim=*/0);                      // [E]
  auto term = (f * p_mean).sum();
  return multiply_by_experts ? term * static_cast<double>(experts) : term;
}

namespace {

/// ConfigError unless expert_ranks is empty or has one row per layer, each empty or with one
/// positive rank per routed expert of that layer.
void check_expert_ranks(const ExpertAllocation& allocation, const ModelShape& shape) {
  const auto& er = allocation.expert_ranks;
  if (er.empty()) return;
  AP_CHECK_AS(ConfigError, static_cast<int>(er.size()) == shape.num_layers,
              "allocation: expert_ranks covers ", er.size(), " layers but the model has ",
              shape.num_layers);
  for (size_t l = 0; l < er.size(); ++l) {
    if (er[l].empty()) continue;
    const int experts = l < shape.backbone_experts.size() ? shape.backbone_experts[l] : 0;
    AP_CHECK_AS(ConfigError, static_cast<int>(er[l].size()) == experts, "allocation: expert_ranks[",
                l, "] has ", er[l].size(), " ranks but layer ", l, " of the backbone has ", experts,
                " routed experts");
    for (size_t e = 0; e < er[l].size(); ++e) {
      AP_CHECK_AS(ConfigError, er[l][e] > 0, "allocation: expert_ranks[", l, "][", e, "] is ",
                  er[l][e], "; ranks must be > 0");
    }
  }
}

/// Active rank of routed expert `expert` of `layer`: expert_active_ranks when given, else -1
/// (all allocated columns).
int expert_active_rank(const ExpertAllocation& allocation, int layer, int expert) {
  const auto& ar = allocation.expert_active_ranks;
  if (static_cast<size_t>(layer) >= ar.size() || ar[layer].empty()) return -1;
  return ar[layer].at(static_cast<size_t>(expert));
}

/// LoRA rank of routed expert `expert` of `layer`: expert_ranks when given, else `fallback`.
int expert_rank(const ExpertAllocation& allocation, int layer, int expert, int fallback) {
  const auto& er = allocation.expert_ranks;
  if (layer >= static_cast<int>(er.size()) || er[layer].empty()) return fallback;
  return er[layer].at(static_cast<size_t>(expert));
}

}  // namespace

std::vector<std::pair<std::string, torch::Tensor>> AdapterSet::named_parameters() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& a : adapters_) {
    const torch::nn::Module* m = a.moe ? static_cast<const torch::nn::Module*>(a.moe.get())
                                       : static_cast<const torch::nn::Module*>(a.lora.get());
    if (m == nullptr) continue;
    for (const auto& item : m->named_parameters(/*recurse=*/true)) {
      out.emplace_back(a.name + ".adapter." + item.key(), item.value());
    }
  }
  out.insert(out.end(), backbone_params_.begin(), backbone_params_.end());
  return out;
}

std::vector<torch::Tensor> AdapterSet::parameters() const {
  std::vector<torch::Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

int64_t AdapterSet::parameter_count() const {
  int64_t n = 0;
  for (const auto& t : parameters()) n += t.numel();
  return n;
}

at::Tensor AdapterSet::balance_loss(const BalanceConfig& cfg) const {
  if (cfg.coef == 0.0) return {};
  AP_CHECK_AS(ConfigError, cfg.scope == "layer" || cfg.scope == "module",
              "adapters.balance.scope: unknown scope '", cfg.scope, "' (known: layer, module)");
  torch::Tensor total;
  auto add = [&total](const torch::Tensor& t) { total = total.defined() ? total + t : t; };
  if (cfg.scope == "module") {
    for (const auto& a : adapters_) {
      if (!a.moe || !a.moe->last_router_logits().defined()) continue;
      add(balance_loss_term(a.moe->last_router_logits(), a.moe->top_k(), cfg.multiply_by_experts));
    }
  } else {
    // Per layer: the logits of all MoE adapters of the layer, concatenated on the token axis.
    std::map<int, std::vector<torch::Tensor>> by_layer;
    std::map<int, int> top_k;
    for (const auto& a : adapters_) {
      if (!a.moe || !a.moe->last_router_logits().defined()) continue;
      auto& group = by_layer[a.layer];
      AP_CHECK_AS(ConfigError, group.empty() || group.front().size(1) == a.moe->num_experts(),
                  "adapters.balance.scope: \"layer\" concatenates the router logits of a "
                  "layer's modules, but the modules of layer ",
                  a.layer, " differ in expert count; set it to \"module\"");
      group.push_back(a.moe->last_router_logits());
      top_k[a.layer] = a.moe->top_k();
    }
    for (const auto& [layer, logits] : by_layer) {
      add(balance_loss_term(torch::cat(logits, /*dim=*/0), top_k[layer], cfg.multiply_by_experts));
    }
  }
  if (!total.defined()) return {};
  return total * cfg.coef;
}

RoutingStats AdapterSet::routing_stats() const {
  torch::NoGradGuard no_grad;
  RoutingStats s;
  for (const auto& m : known_modules()) {
    for (const auto& a : adapters_) {
      if (a.module == m) {
        s.module_names.push_back(m);
        break;
      }
    }
  }
  s.modules = static_cast<int>(s.module_names.size());
  s.layers = num_layers_;
  for (const auto& a : adapters_) {
    s.layers = std::max(s.layers, a.layer + 1);
    if (a.moe) s.max_experts = std::max(s.max_experts, a.moe->num_experts());
  }
  const size_t cells = static_cast<size_t>(s.layers) * s.modules * s.max_experts;
  s.load_fraction.assign(cells, std::numeric_limits<float>::quiet_NaN());
  s.router_prob_mean.assign(cells, std::numeric_limits<float>::quiet_NaN());
  std::vector<double> entropy_sum(s.layers, 0.0);
  std::vector<int> entropy_n(s.layers, 0);
  for (const auto& a : adapters_) {
    if (!a.moe || !a.moe->last_router_logits().defined()) continue;
    const auto mod =
        std::find(s.module_names.begin(), s.module_names.end(), a.module) - s.module_names.begin();
    const size_t base = (static_cast<size_t>(a.layer) * s.modules + mod) * s.max_experts;
    auto logits = a.moe->last_router_logits().detach().to(torch::kCPU, torch::kFloat32);  // [N, E]
    auto p = torch::softmax(logits, /*dim=*/1);
    auto p_mean = p.mean(/*dim=*/0);                                              // [E]
    auto chosen = (a.moe->last_gates().to(torch::kCPU) > 0).to(torch::kFloat32);  // [N, E]
    auto load = chosen.sum(/*dim=*/0) / static_cast<double>(a.moe->top_k() * logits.size(0));
    for (int e = 0; e < a.moe->num_experts(); ++e) {
      s.load_fraction[base + e] = load[e].item<float>();
      s.router_prob_mean[base + e] = p_mean[e].item<float>();
    }
    auto entropy = -(p * torch::log(p.clamp_min(1e-30))).sum(/*dim=*/1).mean();
    entropy_sum[a.layer] += entropy.item<double>();
    entropy_n[a.layer] += 1;
  }
  double layer_sum = 0.0;
  int layer_n = 0;
  for (int l = 0; l < s.layers; ++l) {
    if (entropy_n[l] == 0) continue;
    layer_sum += entropy_sum[l] / entropy_n[l];
    ++layer_n;
  }
  s.mean_router_entropy = layer_n ? layer_sum / layer_n : 0.0;
  return s;
}

void AdapterSet::clear_caches() {
  for (auto& a : adapters_) {
    if (a.moe) a.moe->clear_cache();
  }
}

AdapterSet inject_adapters(TransformerLM& model,
                           const AdapterConfig& cfg,
                           const ExpertAllocation& allocation) {
  const auto& known = known_modules();
  for (const auto& m : cfg.target_modules) {
    AP_CHECK_AS(ConfigError, std::find(known.begin(), known.end(), m) != known.end(),
                "adapters.target_modules: unknown module '", m, "' (known: ", join(known), ")");
  }
  AP_CHECK_AS(ConfigError, cfg.method == "lora" || cfg.method == "moe_lora",
              "adapters.method: unknown method '", cfg.method, "' (known: lora, moe_lora)");
  const bool moe = cfg.method == "moe_lora";
  const ModelShape shape = model->shape();
  const int layers = shape.num_layers;
  if (moe) {
    AP_CHECK_AS(ConfigError,
                static_cast<int>(allocation.ranks.size()) == layers &&
                    static_cast<int>(allocation.top_k.size()) == layers,
                "allocation: the expert allocation covers ", allocation.ranks.size(),
                " layers (top_k: ", allocation.top_k.size(), ") but the model has ", layers,
                "; make allocation.experts_per_layer / top_k_per_layer match num_hidden_layers");
  }
  check_expert_ranks(allocation, shape);
  check_layers_to_transform(cfg.layers_to_transform, layers);
  AdapterSet set;
  set.set_num_layers(layers);
  for (auto& slot : model->projections()) {
    if (std::find(cfg.target_modules.begin(), cfg.target_modules.end(), slot.module) ==
            cfg.target_modules.end() ||
        !cfg.adapts_layer(slot.layer)) {
      continue;
    }
    const auto din = slot.linear->in_features(), dout = slot.linear->out_features();
    // The plan's rank of this layer's (first) expert: what a plain LoRA gets, and a routed
    // expert's LoRA without expert_ranks (as count_trainable_parameters counts it).
    const bool in_plan = slot.layer < static_cast<int>(allocation.ranks.size()) &&
                         !allocation.module_experts(slot.layer, slot.module).empty();
    const int plain_rank =
        in_plan ? allocation.module_experts(slot.layer, slot.module).front() : cfg.r;
    InjectedAdapter a;
    a.layer = slot.layer;
    a.module = slot.module;
    a.name = slot.name;
    a.expert = slot.expert;
    a.shared_expert = slot.shared_expert;
    if (slot.expert >= 0) {
      // A routed backbone expert: its own plain LoRA (the DR-LoRA substrate).
      LoraOptions o;
      o.r = expert_rank(allocation, slot.layer, slot.expert, plain_rank);
      o.alpha = cfg.lora_alpha;
      o.dropout = cfg.lora_dropout;
      o.active_rank = expert_active_rank(allocation, slot.layer, slot.expert);
      o.scaling_rank = allocation.expert_scaling_rank;
      a.lora = std::make_shared<LoraAdapterImpl>(din, dout, o);
      slot.linear->set_adapter(a.lora);
    } else if (moe) {
      AP_CHECK_AS(ConfigError, !allocation.module_experts(slot.layer, slot.module).empty(),
                  "allocation: layer ", slot.layer, " (", slot.module,
                  ") gets adapters but the allocation gives it no experts; plan the allocation "
                  "with the same adapters.layers_to_transform");
      a.moe = std::make_shared<MoeLoraAdapterImpl>(
          din, dout, allocation.module_experts(slot.layer, slot.module),
          allocation.top_k[slot.layer], cfg.lora_alpha, cfg.lora_dropout);
      slot.linear->set_adapter(a.moe);
    } else {
      a.lora = std::make_shared<LoraAdapterImpl>(din, dout, plain_rank, cfg.lora_alpha,
                                                 cfg.lora_dropout);
      slot.linear->set_adapter(a.lora);
    }
    set.add(std::move(a));
  }
  if (cfg.train_backbone_router) {
    for (size_t i = 0; i < model->model->layers->size(); ++i) {
      auto& layer = model->model->layer(i);
      if (!layer.moe || !cfg.adapts_layer(static_cast<int>(i))) continue;
      auto w = layer.moe->gate->weight;
      w.requires_grad_(true);
      set.add_backbone_parameter(
          "model.layers." + std::to_string(i) + "." + layer.ffn_name() + ".gate.weight", w);
    }
    AP_CHECK_AS(ConfigError, !set.backbone_parameters().empty(),
                "adapters.train_backbone_router: the backbone (", model->config().architecture,
                cfg.layers_to_transform.empty()
                    ? ") is dense and has no router to train; set it to false"
                    : ") has no MoE block in the layers of adapters.layers_to_transform, so no "
                      "router to train; set it to false or list an MoE layer");
  }
  return set;
}

}  // namespace apportion
