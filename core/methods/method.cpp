// SPDX-License-Identifier: GPL-3.0-or-later
// The defaults of the method seam: what a one-stage LoRA-MoE method with no section of its own
// does (uniform is exactly this). Methods override what differs.
#include "core/methods/method.h"

#include <algorithm>
#include <cstdlib>

#include "core/allocation/strategies.h"
#include "core/common/error.h"
#include "core/common/json_parse.h"
#include "core/config/json_reader.h"
#include "core/store/store_keys.h"

namespace apportion {

void Method::parse_section(const nlohmann::json& /*j*/, AllocationConfig& /*alloc*/) const {
  throw ConfigError("allocation." + section() + ": " + name() + " has no settings there");
}

nlohmann::json Method::section_json(const AllocationConfig& /*alloc*/) const { return nullptr; }

void Method::validate(const ExperimentConfig& cfg) const {
  if (!cfg.adapters) return;
  const auto bound = min_experts(cfg);
  if (cfg.adapters->plain_lora() || !bound || !cfg.allocation.top_k_per_layer.empty()) return;
  config_require(cfg.adapters->top_k <= bound->first, "adapters.top_k",
                 "must be <= number of experts (" + std::to_string(bound->first) + " in " +
                     bound->second + ")" + got(cfg.adapters->top_k));
}

std::optional<std::pair<int, std::string>> Method::min_experts(const ExperimentConfig& cfg) const {
  if (!cfg.adapters) return std::nullopt;
  const auto& explicit_counts = cfg.allocation.experts_per_layer;
  if (!explicit_counts.empty()) {
    return std::make_pair(*std::min_element(explicit_counts.begin(), explicit_counts.end()),
                          std::string("allocation.experts_per_layer"));
  }
  return std::make_pair(cfg.adapters->num_experts, std::string("adapters.num_experts"));
}

void Method::select(nlohmann::json& experiment) const {
  experiment["allocation"]["method"] = name();
  experiment["adapters"]["method"] = traits().adapter_router ? "moe_lora" : "lora";
}

bool Method::describes(const ExperimentConfig& cfg) const {
  if (!cfg.adapters || cfg.allocation.method != name()) return false;
  return !(cfg.adapters->plain_lora() && traits().plain_lora_is_baseline);
}

std::unique_ptr<AllocationStrategy> Method::strategy() const { return make_uniform_strategy(); }

ExpertAllocation Method::plan(const ExperimentConfig& cfg, const ModelShape& shape) const {
  AP_CHECK(cfg.adapters.has_value(), "a plan needs an adapters section");
  ExpertAllocation a;
  if (cfg.adapters->plain_lora()) {
    // Plain LoRA: one rank-r adapter per target projection, no router.
    a.ranks.assign(static_cast<size_t>(shape.num_layers), std::vector<int>{cfg.adapters->r});
    a.top_k.assign(static_cast<size_t>(shape.num_layers), 1);
  } else {
    a = strategy()->allocate(shape, budget_from(cfg));
  }
  return a;
}

int64_t trainable_parameters(const ExperimentConfig& cfg,
                             const ModelShape& shape,
                             const ExpertAllocation& allocation) {
  AP_CHECK(cfg.adapters.has_value(), "trainable_parameters needs an adapters section");
  return count_trainable_parameters(shape, allocation, cfg.adapters->target_modules,
                                    !cfg.adapters->plain_lora());
}

namespace {
std::string thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (n < 0 ? "-" : "") + out;
}
}  // namespace

PlanSummary Method::summarize(const ExperimentConfig& cfg,
                              const ModelShape& shape,
                              const std::string& /*workspace_dir*/) const {
  PlanSummary s;
  try {
    const ExpertAllocation a = plan(cfg, shape);
    s.trainable_parameters = trainable_parameters(cfg, shape, a);
    std::string counts;
    for (int l = 0; l < static_cast<int>(a.ranks.size()); ++l) {
      s.experts_per_layer.push_back(a.experts(l));
      counts += (counts.empty() ? "" : " · ") + std::to_string(a.experts(l));
    }
    s.ok = true;
    if (cfg.adapters->plain_lora()) {
      s.text = "Plain LoRA r=" + std::to_string(cfg.adapters->r) + " on " +
               std::to_string(shape.num_layers) + " layers · " + thousands(s.trainable_parameters) +
               " trainable parameters";
    } else {
      s.text = "Experts per layer: " + counts + " (" + std::to_string(a.total_experts()) +
               " per module in total) · top-k " + std::to_string(cfg.adapters->top_k) + " · " +
               thousands(s.trainable_parameters) + " trainable parameters";
    }
  } catch (const Error& e) {
    s.invalid = true;
    s.text = e.what();
  }
  return s;
}

std::string Method::run_label(const ExperimentConfig& /*cfg*/) const { return name(); }

std::string Method::key_params(const std::string& /*run_label*/,
                               const std::map<std::string, std::string>& params) const {
  const std::string e = param_text(params, "adapters.num_experts");
  const std::string r = param_text(params, "adapters.r");
  if (e.empty() && r.empty()) return "";
  return "E=" + e + " k=" + param_text(params, "adapters.top_k") + " r=" + r;
}

std::vector<MethodStage> Method::stages(const nlohmann::json& experiment) const {
  return {{"", experiment}};
}

void Method::link_stage(nlohmann::json& /*next*/, const std::string& /*previous_run_id*/) const {}

std::string Method::stage_role(const nlohmann::json& /*config*/,
                               const std::map<std::string, std::string>& /*tags*/) const {
  return "";
}

void Method::strip_links(nlohmann::json& /*config*/) const {}

int64_t Method::rank_budget(const std::map<std::string, std::string>& tags,
                            const std::map<std::string, std::string>& /*params*/,
                            const std::vector<int64_t>& /*rank_shape*/) const {
  const auto tag = tags.find(kRankBudgetTag);
  if (tag == tags.end()) return -1;
  const long long v = std::atoll(tag->second.c_str());
  return v > 0 ? v : -1;
}

std::vector<StageLink> Method::stage_links(
    const std::string& /*run_id*/, const std::map<std::string, std::string>& /*tags*/) const {
  return {};
}

std::string param_text(const std::map<std::string, std::string>& params,
                       const std::string& key,
                       const std::string& fallback) {
  const auto it = params.find(key);
  if (it == params.end()) return fallback;
  const auto v = try_parse_json_bounded(it->second, JsonLimits::config());
  if (!v) return it->second;
  if (v->is_string()) return v->get<std::string>();
  return v->dump();
}

std::string format_count(int64_t n) { return thousands(n); }

}  // namespace apportion
