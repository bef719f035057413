// SPDX-License-Identifier: GPL-3.0-or-later
// DR-LoRA growth hooks and the static-frequency calibration (see drlora_hooks.h).
#include "core/drlora/drlora_hooks.h"

#include <torch/torch.h>

#include <set>

#include "core/adapters/lora_adapter.h"
#include "core/common/clock.h"
#include "core/common/error.h"
#include "core/drlora/drlora_scheduler.h"
#include "core/drlora/drlora_signals.h"
#include "core/drlora/static_frequency_ranks.h"
#include "core/store/matrix_keys.h"
#include "core/store/store_keys.h"
#include "core/train/model_builder.h"

namespace apportion {

int64_t active_adapter_parameters(const BuiltModel& built) {
  if (!built.adapters) return built.trainable_count;
  int64_t total = 0;
  std::set<const void*> counted;
  for (const auto& a : built.adapters->adapters()) {
    if (a.lora && a.expert >= 0) {
      total += static_cast<int64_t>(a.lora->active_rank()) *
               (a.lora->lora_A.size(1) + a.lora->lora_B.size(0));
      counted.insert(a.lora->lora_A.unsafeGetTensorImpl());
      counted.insert(a.lora->lora_B.unsafeGetTensorImpl());
    }
  }
  for (const auto& [name, t] : built.trainable) {
    if (counted.count(t.unsafeGetTensorImpl()) == 0) total += t.numel();
  }
  return total;
}

namespace {

void metric(EventSink& sink, const std::string& key, int64_t step, double value) {
  sink.on_metric(MetricPoint{key, step, value, now_ms()});
}

/// [layer][expert] values as one f32 [layers, experts] record (NaN rows stay NaN).
MatrixPoint layer_expert_record(const char* key,
                                int64_t step,
                                const std::vector<std::vector<double>>& values) {
  MatrixPoint p;
  p.key = key;
  p.step = step;
  p.shape = {static_cast<int64_t>(values.size()),
             values.empty() ? 0 : static_cast<int64_t>(values.front().size())};
  p.axes = "layer,expert";
  p.dtype = MatrixDType::F32;
  p.wall_ms = now_ms();
  for (const auto& row : values) {
    for (double v : row) p.f32.push_back(static_cast<float>(v));
  }
  return p;
}

/// The routed-expert LoRAs of the model, [layer][expert] → LoRAs (gate/up/down).
std::vector<std::vector<std::vector<LoraAdapterImpl*>>> expert_loras(const BuiltModel& built) {
  const ModelConfig& mc = built.model->config();
  std::vector<std::vector<std::vector<LoraAdapterImpl*>>> out(
      static_cast<size_t>(mc.num_hidden_layers),
      std::vector<std::vector<LoraAdapterImpl*>>(static_cast<size_t>(mc.num_experts)));
  for (const auto& a : built.adapters->adapters()) {
    if (!a.lora || a.expert < 0 || a.shared_expert) continue;
    out.at(static_cast<size_t>(a.layer)).at(static_cast<size_t>(a.expert)).push_back(a.lora.get());
  }
  return out;
}

class DrLoraHooks : public TrainingHooks {
 public:
  explicit DrLoraHooks(const HookContext& c)
      : ctx_(c),
        cfg_(*c.cfg),
        built_(*c.built),
        scheduler_(to_drlora_options(cfg_.allocation.drlora),
                   built_.model->config(),
                   built_.model->projections(),
                   cfg_.train.steps) {}

  CheckpointExtras checkpoint_extras() override { return {scheduler_.state(), {}}; }
  void restore(const CheckpointExtras& loaded) override { scheduler_.load_state(loaded.state); }

  void before_training(int64_t first_step) override {
    records(first_step);
    ctx_.sink->on_tag({"drlora/budget", std::to_string(scheduler_.budget())});
    ctx_.sink->on_tag({kRankBudgetTag, std::to_string(scheduler_.budget())});
    ctx_.sink->on_tag(
        {"drlora/events", std::to_string(scheduler_.schedule().event_steps().size())});
    ctx_.sink->on_tag({"drlora/saliency", cfg_.allocation.drlora.saliency});
  }

  void before_micro_step(int64_t /*step*/,
                         int micro,
                         const Batch& /*batch*/,
                         double /*lr*/) override {
    micro_ = micro;
  }

  /// The frequency is observed per micro-batch and applied in micro-batch order before the
  /// clip, after the observations of every rank are summed (each micro-batch runs on one rank;
  /// the others contribute zeros), so a data-parallel run tracks what one process does.
  void after_forward(const Batch& batch) override {
    const ModelConfig& mc = built_.model->config();
    const auto mask = batch.attention_mask.reshape({-1});
    const at::Tensor obs = scheduler_.routing_observation(
        built_.model->backbone_router_logits(), mc.num_experts_per_tok, mc.norm_topk_prob,
        mask.to(built_.model->parameters().front().device()));  // [layers, N + 1]
    if (!pending_.defined()) {
      pending_ = torch::zeros({cfg_.train.grad_accum, obs.size(0), obs.size(1)}, torch::kFloat64);
    }
    pending_[micro_].copy_(obs);
  }

  /// The gradients are already summed over the ranks here (the trainer's all-reduce).
  void before_clip(int64_t /*step*/) override {
    if (pending_.defined()) {
      ctx_.collective->all_reduce_sum(pending_, "the DR-LoRA routing frequencies");
      for (int64_t m = 0; m < pending_.size(0); ++m)
        scheduler_.observe_routing_weights(pending_[m]);
      pending_ = at::Tensor();
    } else if (ctx_.collective->multi_rank()) {
      // This rank ran no micro-batch with routing (cannot happen with grad_accum ≥ world size),
      // but the others sum theirs: take part with zeros of the same shape.
      auto zeros = torch::zeros({cfg_.train.grad_accum, built_.model->config().num_hidden_layers,
                                 built_.model->config().num_experts + 1},
                                torch::kFloat64);
      ctx_.collective->all_reduce_sum(zeros, "the DR-LoRA routing frequencies");
      for (int64_t m = 0; m < zeros.size(0); ++m) scheduler_.observe_routing_weights(zeros[m]);
    }
    scheduler_.observe_gradients();
  }

  bool decided_at(int64_t step) const override { return scheduler_.schedule().is_event(step); }

  void after_optimizer_step(int64_t step, torch::optim::Optimizer& optimizer) override {
    const auto event = scheduler_.maybe_grow(step, optimizer);
    if (!event) return;
    metric(*ctx_.sink, "drlora/total_rank", step, static_cast<double>(event->total_rank_after));
    metric(*ctx_.sink, "drlora/experts_grown", step, static_cast<double>(event->grown.size()));
    metric(*ctx_.sink, "drlora/active_params", step,
           static_cast<double>(active_adapter_parameters(built_)));
    ctx_.sink->on_log({"info", "DR-LoRA growth at step " + std::to_string(step) + ": " +
                                   std::to_string(event->grown.size()) + " grants, Σ rank " +
                                   std::to_string(event->total_rank_before) + " → " +
                                   std::to_string(event->total_rank_after) + " of " +
                                   std::to_string(event->budget)});
    records(step);
  }

  void records(int64_t step) override {
    if (step == last_recorded_) return;
    last_recorded_ = step;
    for (auto& p : scheduler_.records(step)) ctx_.sink->on_matrix(p);
  }

  void finish(int64_t step) override {
    records(step);
    ctx_.sink->on_tag({"drlora/total_rank", std::to_string(scheduler_.total_rank())});
    ctx_.sink->on_tag({kActiveParamsTag, std::to_string(active_adapter_parameters(built_))});
  }

 private:
  HookContext ctx_;
  const ExperimentConfig& cfg_;
  BuiltModel& built_;
  DrLoraScheduler scheduler_;
  int64_t last_recorded_ = -1;
  int micro_ = 0;
  at::Tensor pending_;  ///< [grad_accum, layers, N + 1] this step's routing observations
};

class StaticFrequencyHooks : public TrainingHooks {
 public:
  explicit StaticFrequencyHooks(const HookContext& c) : ctx_(c), cfg_(*c.cfg), built_(*c.built) {}

  void before_training(int64_t first_step) override {
    const ModelConfig& mc = built_.model->config();
    const DrLoraConfig& d = cfg_.allocation.drlora;
    auto loras = expert_loras(built_);
    const auto layers = static_cast<size_t>(mc.num_hidden_layers);
    std::vector<std::vector<double>> freq(layers, std::vector<double>(mc.num_experts, 0.0));
    {
      torch::NoGradGuard no_grad;
      built_.model->eval();
      const auto device = built_.model->parameters().front().device();
      for (int b = 0; b < d.calibration_batches; ++b) {
        const Batch batch = ctx_.train_batch(b + 1, 0);
        built_.model->forward(batch.input_ids.to(device), batch.attention_mask.to(device));
        const auto logits = built_.model->backbone_router_logits();
        for (size_t l = 0; l < layers; ++l) {
          if (!logits[l].defined()) continue;
          auto w = mean_routing_weights(logits[l], mc.num_experts_per_tok, mc.norm_topk_prob,
                                        batch.attention_mask.reshape({-1}).to(device))
                       .cpu();
          for (int e = 0; e < mc.num_experts; ++e) {
            freq[l][static_cast<size_t>(e)] += w[e].item<double>() / d.calibration_batches;
          }
        }
        built_.model->clear_router_cache();
        if (built_.adapters) built_.adapters->clear_caches();
      }
      built_.model->train();
    }
    // Only adapted layers take part; the others are NaN rows in the records.
    std::vector<std::vector<double>> adapted_freq;
    std::vector<size_t> adapted;
    for (size_t l = 0; l < layers; ++l) {
      if (loras[l].empty() || loras[l].front().empty()) continue;
      adapted.push_back(l);
      adapted_freq.push_back(freq[l]);
    }
    AP_CHECK_AS(ModelError, !adapted.empty(), "static_frequency: no routed expert carries a LoRA; ",
                "target gate_proj, up_proj and down_proj");
    const auto ranks =
        static_frequency_ranks(adapted_freq, mc.num_experts * d.r_target, /*r_min=*/1, d.r_max);
    const double nan = std::numeric_limits<double>::quiet_NaN();
    std::vector<std::vector<double>> rank_rows(layers, std::vector<double>(mc.num_experts, nan));
    std::vector<std::vector<double>> freq_rows(layers, std::vector<double>(mc.num_experts, nan));
    int64_t total = 0;
    for (size_t i = 0; i < adapted.size(); ++i) {
      const size_t l = adapted[i];
      for (int e = 0; e < mc.num_experts; ++e) {
        const int r = ranks[i][static_cast<size_t>(e)];
        for (auto* lora : loras[l][static_cast<size_t>(e)]) lora->set_active_rank(r);
        rank_rows[l][static_cast<size_t>(e)] = r;
        freq_rows[l][static_cast<size_t>(e)] = freq[l][static_cast<size_t>(e)];
        total += r;
      }
    }
    ctx_.sink->on_matrix(layer_expert_record(matrix_keys::kDrRank, first_step, rank_rows));
    ctx_.sink->on_matrix(layer_expert_record(matrix_keys::kDrFrequency, first_step, freq_rows));
    const std::string budget =
        std::to_string(static_cast<int64_t>(adapted.size()) * mc.num_experts * d.r_target);
    ctx_.sink->on_tag({"drlora/budget", budget});
    ctx_.sink->on_tag({kRankBudgetTag, budget});
    ctx_.sink->on_tag({"drlora/total_rank", std::to_string(total)});
    ctx_.sink->on_tag({kActiveParamsTag, std::to_string(active_adapter_parameters(built_))});
    ctx_.sink->on_log({"info", "static-frequency allocation from " +
                                   std::to_string(d.calibration_batches) +
                                   " calibration batches: Σ rank " + std::to_string(total)});
  }

 private:
  HookContext ctx_;
  const ExperimentConfig& cfg_;
  BuiltModel& built_;
};

}  // namespace

std::unique_ptr<TrainingHooks> make_drlora_hooks(const HookContext& context) {
  return std::make_unique<DrLoraHooks>(context);
}

std::unique_ptr<TrainingHooks> make_static_frequency_hooks(const HookContext& context) {
  return std::make_unique<StaticFrequencyHooks>(context);
}

}  // namespace apportion
