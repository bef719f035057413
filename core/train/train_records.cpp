// SPDX-License-Identifier: GPL-3.0-or-later
// Matrix records of allocations and routing statistics.
#include "core/train/train_records.h"

#include <algorithm>

#include "core/common/clock.h"

namespace apportion {

std::vector<std::string> canonical_module_order(const std::vector<std::string>& target_modules) {
  static const std::vector<std::string> kOrder = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                                  "gate_proj", "up_proj", "down_proj"};
  std::vector<std::string> out;
  for (const auto& m : kOrder) {
    if (std::find(target_modules.begin(), target_modules.end(), m) != target_modules.end()) {
      out.push_back(m);
    }
  }
  return out;
}

std::vector<MatrixPoint> allocation_records(const ExpertAllocation& allocation,
                                            const std::vector<std::string>& modules,
                                            int64_t step) {
  const int64_t layers = static_cast<int64_t>(allocation.ranks.size());
  const int64_t n_modules = static_cast<int64_t>(modules.size());
  int64_t max_experts = allocation.max_experts();
  for (const auto& layer : allocation.module_ranks) {
    for (const auto& [module, r] : layer) {
      max_experts = std::max(max_experts, static_cast<int64_t>(r.size()));
    }
  }
  MatrixPoint experts;
  experts.key = "alloc/experts";
  experts.step = step;
  experts.shape = {layers, n_modules};
  experts.axes = "layer,module";
  experts.dtype = MatrixDType::I32;
  MatrixPoint ranks;
  ranks.key = "alloc/rank";
  ranks.step = step;
  ranks.shape = {layers, n_modules, max_experts};
  ranks.axes = "layer,module,expert";
  ranks.dtype = MatrixDType::I32;
  for (int64_t l = 0; l < layers; ++l) {
    for (int64_t m = 0; m < n_modules; ++m) {
      const auto& layer =
          allocation.module_experts(static_cast<int>(l), modules[static_cast<size_t>(m)]);
      experts.i32.push_back(static_cast<int32_t>(layer.size()));
      for (int64_t e = 0; e < max_experts; ++e) {
        ranks.i32.push_back(e < static_cast<int64_t>(layer.size()) ? layer[static_cast<size_t>(e)]
                                                                   : -1);
      }
    }
  }
  experts.wall_ms = ranks.wall_ms = now_ms();
  return {experts, ranks};
}

std::vector<MatrixPoint> routing_records(const RoutingStats& stats, int64_t step) {
  std::vector<MatrixPoint> out;
  if (stats.layers == 0 || stats.max_experts == 0) return out;
  for (const auto& [key, values] :
       {std::make_pair(std::string("moe/load_fraction"), &stats.load_fraction),
        std::make_pair(std::string("moe/router_prob_mean"), &stats.router_prob_mean)}) {
    MatrixPoint p;
    p.key = key;
    p.step = step;
    p.shape = {stats.layers, stats.modules, stats.max_experts};
    p.axes = "layer,module,expert";
    p.dtype = MatrixDType::F32;
    p.f32 = *values;
    p.wall_ms = now_ms();
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<MatrixPoint> backbone_routing_records(const BackboneRoutingStats& stats, int64_t step) {
  std::vector<MatrixPoint> out;
  if (stats.layers == 0 || stats.max_experts == 0) return out;
  for (const auto& [key, values] :
       {std::make_pair(std::string("backbone/load_fraction"), &stats.load_fraction),
        std::make_pair(std::string("backbone/router_prob_mean"), &stats.router_prob_mean)}) {
    MatrixPoint p;
    p.key = key;
    p.step = step;
    p.shape = {stats.layers, stats.max_experts};
    p.axes = "layer,expert";
    p.dtype = MatrixDType::F32;
    p.f32 = *values;
    p.wall_ms = now_ms();
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace apportion
