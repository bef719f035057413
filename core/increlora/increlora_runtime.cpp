// SPDX-License-Identifier: GPL-3.0-or-later
// IncreLoRA's torch row of the method seam: after injection every plain LoRA starts at r_init
// active components with the fixed scaling α / r_target (so growth never rescales the columns
// in use); the hooks accumulate each component's AdaLoRA-smoothed sensitivity after every
// backward and, at DR-LoRA's growth events (growth_schedule.h), grow the most important LoRAs
// function-preservingly (rank_growth.h) until units × r_target components are active.
#include <torch/torch.h>

#include <map>

#include "core/adapters/lora_adapter.h"
#include "core/common/clock.h"
#include "core/common/error.h"
#include "core/drlora/drlora_signals.h"
#include "core/drlora/growth_schedule.h"
#include "core/drlora/rank_growth.h"
#include "core/methods/increlora/increlora_growth.h"
#include "core/methods/increlora/increlora_options.h"
#include "core/store/store_keys.h"
#include "core/train/method_runtime.h"
#include "core/train/train_records.h"

namespace apportion {
namespace {

/// The growing LoRAs of a run (every plain LoRA adapter), in injection order.
std::vector<const InjectedAdapter*> units_of(const BuiltModel& built) {
  std::vector<const InjectedAdapter*> out;
  for (const auto& a : built.adapters->adapters()) {
    if (a.lora) out.push_back(&a);
  }
  return out;
}

DrLoraOptions schedule_options(const IncreLoraOptions& o) {
  DrLoraOptions d;
  d.r_init = o.r_init;
  d.r_target = o.r_target;
  d.r_max = o.r_max;
  d.delta_r = o.delta_r;
  d.interval = o.interval;
  d.t_warm = o.t_warm;
  d.t_stop = o.t_stop;
  return d;
}

class IncreLoraHooks final : public TrainingHooks {
 public:
  explicit IncreLoraHooks(const HookContext& c)
      : ctx_(c),
        options_(increlora_options(*c.cfg)),
        schedule_(schedule_options(options_), c.cfg->train.steps),
        units_(units_of(*c.built)),
        modules_(canonical_module_order(c.cfg->adapters->target_modules)) {
    const auto n = static_cast<int64_t>(units_.size());
    AP_CHECK_AS(ConfigError, n > 0, "adapters.target_modules: IncreLoRA found no LoRA to grow");
    ranks_ = torch::full({n}, options_.r_init, torch::kInt64);
    ibar_ = torch::zeros({n, options_.r_max}, torch::kFloat64);
    ubar_ = torch::zeros({n, options_.r_max}, torch::kFloat64);
    budget_ = n * options_.r_target;
  }

  CheckpointExtras checkpoint_extras() override {
    return {{{"increlora/ranks", ranks_}, {"increlora/ibar", ibar_}, {"increlora/ubar", ubar_}},
            {}};
  }
  void restore(const CheckpointExtras& /*loaded*/) override {
    for (size_t u = 0; u < units_.size(); ++u) {
      units_[u]->lora->set_active_rank(
          static_cast<int>(ranks_[static_cast<int64_t>(u)].item<int64_t>()));
    }
  }

  void before_training(int64_t first_step) override {
    ctx_.sink->on_tag({"increlora/budget", std::to_string(budget_)});
    ctx_.sink->on_tag({kRankBudgetTag, std::to_string(budget_)});
    ctx_.sink->on_tag({"increlora/events", std::to_string(schedule_.event_steps().size())});
    records(first_step);
  }

  /// After every micro-batch's backward has accumulated: the sensitivity of each active
  /// component, smoothed (AdaLoRA, as smooth_importance) on the LoRAs' device, with no copy to
  /// the host on this per-step path.
  void before_clip(int64_t /*step*/) override {
    torch::NoGradGuard no_grad;
    const auto device = units_.front()->lora->lora_A.device();
    if (ibar_.device() != device) {  // the first step after building or resuming
      ibar_ = ibar_.to(device);
      ubar_ = ubar_.to(device);
    }
    for (size_t u = 0; u < units_.size(); ++u) {
      LoraAdapterImpl& lora = *units_[u]->lora;
      const int k = lora.active_rank();
      if (k <= 0) continue;
      const at::Tensor s = lora_component_importance(lora.lora_A, lora.lora_A.grad(), lora.lora_B,
                                                     lora.lora_B.grad(), k)
                               .to(torch::kFloat64);  // [k]
      at::Tensor ib = ibar_[static_cast<int64_t>(u)].narrow(0, 0, k);
      at::Tensor ub = ubar_[static_cast<int64_t>(u)].narrow(0, 0, k);
      ib.mul_(options_.beta1).add_(s, 1.0 - options_.beta1);
      ub.mul_(options_.beta2).add_((s - ib).abs(), 1.0 - options_.beta2);
    }
  }

  void after_optimizer_step(int64_t step, torch::optim::Optimizer& optimizer) override {
    if (!schedule_.is_event(step)) return;
    const std::vector<int> ranks = current_ranks();
    int64_t total = 0;
    for (int r : ranks) total += r;
    const int64_t left = budget_ - total;
    const int64_t q =
        GrowthSchedule::experts_to_grow(left, options_.delta_r, schedule_.events_from(step));
    const auto grants =
        pick_growth(ranks, scores(ranks), q, options_.delta_r, options_.r_max, left);
    for (const auto& [u, rank] : grants) {
      grow_lora_rank(*units_[static_cast<size_t>(u)]->lora, rank, &optimizer);
      ranks_[u] = rank;
    }
    int64_t after = 0;
    for (int r : current_ranks()) after += r;
    metric("increlora/total_rank", step, static_cast<double>(after));
    metric("increlora/grown", step, static_cast<double>(grants.size()));
    ctx_.sink->on_log({"info", "IncreLoRA growth at step " + std::to_string(step) + ": " +
                                   std::to_string(grants.size()) + " LoRAs, Σ rank " +
                                   std::to_string(total) + " → " + std::to_string(after) + " of " +
                                   std::to_string(budget_)});
    records(step);
  }

  void records(int64_t step) override {
    if (step == last_recorded_) return;
    last_recorded_ = step;
    const std::vector<int> ranks = current_ranks();
    const std::vector<double> score = scores(ranks);
    const auto layers = static_cast<int64_t>(ctx_.built->shape.num_layers);
    const auto cols = static_cast<int64_t>(modules_.size());
    std::vector<double> rank_sum(static_cast<size_t>(layers * cols), 0.0),
        score_sum(rank_sum.size(), 0.0), count(rank_sum.size(), 0.0);
    for (size_t u = 0; u < units_.size(); ++u) {
      const auto col =
          std::find(modules_.begin(), modules_.end(), units_[u]->module) - modules_.begin();
      if (col >= cols) continue;
      const auto cell = static_cast<size_t>(units_[u]->layer * cols + col);
      rank_sum[cell] += ranks[u];
      score_sum[cell] += score[u];
      count[cell] += 1.0;
    }
    MatrixPoint r, s;
    r.key = kIncreLoraRank;
    s.key = kIncreLoraScore;
    r.dtype = MatrixDType::I32;
    for (MatrixPoint* p : {&r, &s}) {
      p->step = step;
      p->shape = {layers, cols};
      p->axes = "layer,module";
    }
    for (size_t c = 0; c < rank_sum.size(); ++c) {
      r.i32.push_back(count[c] > 0 ? static_cast<int32_t>(rank_sum[c] / count[c]) : -1);
      s.f32.push_back(count[c] > 0 ? static_cast<float>(score_sum[c] / count[c]) : NAN);
    }
    for (MatrixPoint* p : {&r, &s}) {
      p->wall_ms = now_ms();
      ctx_.sink->on_matrix(*p);
    }
  }

  void finish(int64_t step) override {
    records(step);
    int64_t total = 0;
    for (int r : current_ranks()) total += r;
    ctx_.sink->on_tag({"increlora/total_rank", std::to_string(total)});
  }

 private:
  std::vector<int> current_ranks() const {
    std::vector<int> out;
    for (const InjectedAdapter* a : units_) out.push_back(a->lora->active_rank());
    return out;
  }
  std::vector<double> scores(const std::vector<int>& ranks) const {
    // One copy of the state to the host per event or record, not one per LoRA.
    const at::Tensor i = ibar_.to(torch::kCPU).contiguous(), v = ubar_.to(torch::kCPU).contiguous();
    const double* ip = i.data_ptr<double>();
    const double* up = v.data_ptr<double>();
    const size_t r = static_cast<size_t>(options_.r_max);
    std::vector<double> out;
    for (size_t u = 0; u < units_.size(); ++u) {
      out.push_back(unit_score(std::vector<double>(ip + u * r, ip + (u + 1) * r),
                               std::vector<double>(up + u * r, up + (u + 1) * r), ranks[u]));
    }
    return out;
  }
  void metric(const std::string& key, int64_t step, double value) {
    ctx_.sink->on_metric(MetricPoint{key, step, value, now_ms()});
  }

  HookContext ctx_;
  IncreLoraOptions options_;
  GrowthSchedule schedule_;
  std::vector<const InjectedAdapter*> units_;
  std::vector<std::string> modules_;
  torch::Tensor ranks_, ibar_, ubar_;  ///< the state checkpoints keep
  int64_t budget_ = 0;
  int64_t last_recorded_ = -1;
};

class IncreLoraRuntime final : public MethodRuntime {
 public:
  void after_injection(const ExperimentConfig& cfg, BuiltModel& built) const override {
    const IncreLoraOptions o = increlora_options(cfg);
    for (const InjectedAdapter* a : units_of(built)) {
      a->lora->set_active_rank(o.r_init);
      a->lora->set_scaling(cfg.adapters->lora_alpha / o.r_target);
    }
  }
  std::unique_ptr<TrainingHooks> hooks(const HookContext& context) const override {
    return std::make_unique<IncreLoraHooks>(context);
  }
};

}  // namespace

const MethodRuntime* increlora_runtime() {
  static const IncreLoraRuntime kRuntime;
  return &kRuntime;
}

}  // namespace apportion
