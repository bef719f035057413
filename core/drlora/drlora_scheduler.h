// SPDX-License-Identifier: GPL-3.0-or-later
// DrLoraScheduler: DR-LoRA's dynamic rank growth for LoRA on the routed experts of a sparse-MoE
// backbone (METHODS.md §4.4, our design). Each routed expert (l, i) has one rank R_{l,i} shared
// by the LoRAs on its gate/up/down projections, all allocated at R = r_max and masked to the
// first R_{l,i} components. Every expert starts at r_init; the scheduler tracks the routing
// frequency f (EMA of the mean routing weight) and the rank importance g (EMA of the
// AdaLoRA-style sensitivity |A ⊙ ∂L/∂A| + |B ⊙ ∂L/∂B| per active component, averaged), and at
// each growth event adds delta_r to the most salient experts, spreading the budget
// L·N·r_target (L adapted MoE layers, N experts) evenly over the remaining events. Growth is
// function-preserving (rank_growth.h).
//
// Intended usage (trainer loop; the expert LoRAs are LoraAdapterImpl with r = r_max and the
// fixed scaling denominator scaling_rank = r_target, and they are in `optimizer`):
//   DrLoraScheduler dr(options, model->config(), model->projections(), total_steps);
//   for (int64_t step = 1; step <= total_steps; ++step) {
//     auto logits = model->forward(ids, mask);
//     dr.observe_routing(model->backbone_router_logits(), cfg.num_experts_per_tok,
//                        cfg.norm_topk_prob, mask.reshape({-1}));   // after the forward
//     loss.backward();
//     dr.observe_gradients();                                       // after the backward
//     clip; optimizer.step();
//     if (auto event = dr.maybe_grow(step, optimizer)) log(*event); // after the step
//     for (auto& p : dr.records(step)) sink.matrix(p);              // at the logging interval
//   }
// Legend: L adapted MoE layers, N routed experts per layer, R allocated rank (r_max).
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/backbone/model_config.h"
#include "core/drlora/growth_schedule.h"
#include "core/events/training_events.h"
#include "core/methods/drlora/drlora_options.h"
#include "core/model/transformer_lm.h"

namespace torch::optim {
class Optimizer;
}  // namespace torch::optim

namespace apportion {

class LoraAdapterImpl;

/// One expert grown at an event.
struct ExpertGrowth {
  int layer = 0;
  int expert = 0;
  int rank_before = 0;
  int rank_after = 0;
  double saliency = 0.0;  ///< the saliency it was ranked by
};

/// What one growth event did.
struct DrLoraGrowthEvent {
  int64_t step = 0;
  int64_t planned = 0;                  ///< q, experts the budget spreading asked for
  std::vector<ExpertGrowth> grown;      ///< grants, by decreasing saliency within a round
  int64_t total_rank_before = 0;        ///< Σ R before
  int64_t total_rank_after = 0;         ///< Σ R after
  int64_t budget = 0;                   ///< L·N·r_target
  bool b_columns_were_nonzero = false;  ///< some new B column was not zero (it was zeroed)
};

class DrLoraScheduler {
 public:
  /// Groups the LoRAs on routed-expert slots (expert ≥ 0, not shared) by (layer, expert) and sets
  /// every expert's active rank to r_init. A layer counts as adapted when any of its routed
  /// experts carries a LoRA; then all N must. Throws ConfigError for invalid options and
  /// ModelError for a dense/non-MoE model, an expert without LoRA in an adapted layer, another
  /// adapter type, or an allocated rank below r_max.
  DrLoraScheduler(const DrLoraOptions& options,
                  const ModelConfig& config,
                  const std::vector<ProjectionSlot>& slots,
                  int64_t total_steps);
  ~DrLoraScheduler();
  DrLoraScheduler(const DrLoraScheduler&) = delete;
  DrLoraScheduler& operator=(const DrLoraScheduler&) = delete;

  /// Updates f with this batch's mean routing weights (mean_routing_weights). `router_logits`
  /// has one entry per decoder layer ([tokens, N] or undefined, as backbone_router_logits());
  /// adapted layers with undefined logits are skipped. `token_mask` [tokens] (1 = real token)
  /// may be undefined.
  void observe_routing(const std::vector<at::Tensor>& router_logits,
                       int top_k,
                       bool norm_topk_prob,
                       const at::Tensor& token_mask = {});
  /// observe_routing in two halves, so a data-parallel run can sum the observations of all ranks
  /// and apply them in micro-batch order: the batch's observation as [decoder layers, N + 1]
  /// float64 on the CPU (columns 0..N-1 the mean routing weights, column N 1 for an adapted layer
  /// with logits, 0 otherwise) …
  at::Tensor routing_observation(const std::vector<at::Tensor>& router_logits,
                                 int top_k,
                                 bool norm_topk_prob,
                                 const at::Tensor& token_mask = {}) const;
  /// … and the EMA update of f with one observation (rows flagged 0 are skipped).
  void observe_routing_weights(const at::Tensor& observation);
  /// After backward: updates the importance EMA of every active component from the LoRA
  /// parameters' gradients (undefined gradients count as zero). Stays on the device.
  void observe_gradients();
  /// After optimizer.step() at optimiser step `step` (1-based): at an event step grows the q
  /// most salient experts below r_max by delta_r each (function-preserving, optimizer state
  /// slices zeroed) and returns what it did; std::nullopt on other steps. q spreads the budget
  /// left over the events left (GrowthSchedule::experts_to_grow); the last event grants further
  /// rounds (an expert may then appear more than once in `grown`) until the budget is spent, so
  /// Σ R ends at L·N·r_target whenever the run has at least one event.
  std::optional<DrLoraGrowthEvent> maybe_grow(int64_t step, torch::optim::Optimizer& optimizer);
  /// Matrix records [layers, N] (NaN rows for dense / unadapted layers): drlora/rank,
  /// drlora/frequency (f), drlora/importance (g, not normalised), drlora/saliency (S).
  std::vector<MatrixPoint> records(int64_t step) const;

  /// The trackers and ranks as named CPU tensors, for checkpoints: "ranks" int64 [X],
  /// "frequency" float64 [X] and "importance/<x>/<p>" float32 [R] (expert x in (layer, expert)
  /// order, its LoRA p), copies.
  std::vector<std::pair<std::string, at::Tensor>> state() const;
  /// Restores what state() returned (same names and shapes; Error otherwise) and sets every
  /// expert LoRA's active rank to its restored rank.
  void load_state(const std::vector<std::pair<std::string, at::Tensor>>& state);

  /// R_{l,i}; -1 for an unadapted layer. Ranks are [decoder layer][expert].
  int rank(int layer, int expert) const;
  std::vector<std::vector<int>> ranks() const;
  /// f_{l,i}, g_{l,i} and S_{l,i} ([decoder layer][expert], NaN for unadapted layers).
  std::vector<std::vector<double>> frequency() const;
  std::vector<std::vector<double>> importance() const;
  std::vector<std::vector<double>> saliency() const;
  /// Σ R over all experts, and the budget L·N·r_target.
  int64_t total_rank() const;
  int64_t budget() const { return budget_; }
  /// L, the number of adapted MoE layers.
  int adapted_layers() const;
  const GrowthSchedule& schedule() const { return schedule_; }
  const DrLoraOptions& options() const { return options_; }

 private:
  struct Expert;
  /// g per expert (mean smoothed importance over active components), in experts_ order.
  std::vector<double> expert_importance() const;
  /// S per expert, in experts_ order, from f̂ and ĝ normalised within each layer.
  std::vector<double> expert_saliency(const std::vector<double>& g) const;
  std::vector<std::vector<double>> per_layer(const std::vector<double>& values) const;

  DrLoraOptions options_;
  GrowthSchedule schedule_;
  int num_layers_ = 0;
  int num_experts_ = 0;
  int64_t budget_ = 0;
  std::vector<Expert> experts_;          ///< ordered by (layer, expert)
  std::vector<std::vector<int>> index_;  ///< [layer][expert] → experts_ index, -1 unadapted
};

}  // namespace apportion
