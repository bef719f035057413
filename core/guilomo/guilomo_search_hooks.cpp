// SPDX-License-Identifier: GPL-3.0-or-later
// GuiLoMo search hooks: architect step per micro-batch, supernet balance loss, GSV records,
// search cost, and the readout written at the end (see guilomo_search_hooks.h).
#include "core/guilomo/guilomo_search_hooks.h"

#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <optional>

#include "core/allocation/guilomo_allocation_io.h"
#include "core/allocation/guilomo_readout.h"
#include "core/common/clock.h"
#include "core/common/error.h"
#include "core/guilomo/bilevel.h"
#include "core/guilomo/gsv_records.h"
#include "core/train/data_parallel.h"
#include "core/train/model_builder.h"

namespace apportion {
namespace fs = std::filesystem;

at::Tensor supernet_balance_loss(const BuiltModel& built, const BalanceConfig& balance, int top_k) {
  const GsvSupernet* supernet = supernet_of(built);
  if (!supernet || balance.coef == 0.0) return {};
  torch::Tensor total;
  auto add = [&total](const torch::Tensor& t) { total = total.defined() ? total + t : t; };
  for (const auto& [layer, logits] : supernet->router_logits_by_layer()) {
    if (balance.scope == "module") {
      for (const auto& z : logits) add(balance_loss_term(z, top_k, balance.multiply_by_experts));
    } else {
      add(balance_loss_term(torch::cat(logits, /*dim=*/0), top_k, balance.multiply_by_experts));
    }
  }
  return total.defined() ? total * balance.coef : total;
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

GuiLoMoReadoutOptions readout_options(const ExperimentConfig& cfg) {
  GuiLoMoReadoutOptions o;
  o.n_max = cfg.allocation.guilomo.n_max;
  o.r_max = cfg.allocation.guilomo.r_max;
  o.top_k = cfg.adapters->top_k;
  o.min_experts = 2;
  return o;
}

/// Micro-batches per architect round: allocation.guilomo.architect_round, 0 = the world size.
int architect_round_size(const ExperimentConfig& cfg, int world_size) {
  const int k = cfg.allocation.guilomo.architect_round;
  const int round = k > 0 ? k : world_size;
  AP_CHECK(round % world_size == 0 && cfg.train.grad_accum % round == 0, "GuiLoMo architect round ",
           round, " on ", world_size, " ranks, grad_accum ", cfg.train.grad_accum,
           " (checked by data_parallel_problem)");
  return round;
}

ArchitectOptions architect_options(const GuiLoMoConfig& g) {
  ArchitectOptions o;
  o.mode = architect_mode_from_string(g.architect_mode);
  o.lr = g.alpha_lr;
  o.beta1 = g.alpha_beta1;
  o.beta2 = g.alpha_beta2;
  o.eps = g.alpha_eps;
  o.weight_decay = g.alpha_weight_decay;
  o.hvp_r = g.hvp_r;
  o.hvp_same_noise = g.hvp_same_noise;
  return o;
}

/// Forward/backward passes of one architect step (for the cost report).
int architect_passes(ArchitectMode mode) {
  switch (mode) {
    case ArchitectMode::FirstOrder:
      return 1;
    default:
      return 4;  // unrolled/virtual step, validation, w + Rv, w − Rv
  }
}

class GuiLoMoSearchHooks : public TrainingHooks {
 public:
  explicit GuiLoMoSearchHooks(const HookContext& c) : ctx_(c), cfg_(*c.cfg), built_(*c.built) {
    AP_CHECK(supernet_of(built_) && ctx_.optimizer, "GuiLoMo search hooks need the supernet");
    std::vector<torch::Tensor> w, alpha;
    for (const auto& [name, t] : built_.trainable) w.push_back(t);
    for (const auto& [name, t] : built_.upper_level) alpha.push_back(t);
    architect_ = std::make_unique<BilevelArchitect>(w, alpha, *ctx_.optimizer,
                                                    architect_options(cfg_.allocation.guilomo));
    round_ = architect_round_size(cfg_, ctx_.collective->world_size());
  }

  /// The GSVs (restored in place) and their AdamW.
  CheckpointExtras checkpoint_extras() override {
    return {built_.upper_level, {{"alpha", &architect_->alpha_optimizer()}}};
  }

  void before_training(int64_t first_step) override {
    start_ = Clock::now();
    records(first_step);
    ctx_.sink->on_tag({"guilomo/architect_mode", cfg_.allocation.guilomo.architect_mode});
    ctx_.sink->on_tag({"guilomo/split", cfg_.allocation.guilomo.split});
    ctx_.sink->on_tag({"guilomo/architect_round", std::to_string(round_)});
    if (round_ > 1) {
      ctx_.sink->on_log({"info", "GuiLoMo architect rounds of " + std::to_string(round_) +
                                     " micro-batches: their GSV gradients are taken at the GSVs "
                                     "of the round's start, then applied in order"});
    }
  }

  void before_micro_step(int64_t step, int micro, const Batch& batch, double lr) override {
    const auto t0 = Clock::now();
    if (round_ == 1) {
      const Batch val = ctx_.val_batch(step, micro);
      const ArchitectStepResult r =
          architect_->step([&] { return ctx_.loss(batch); }, [&] { return ctx_.loss(val); }, lr);
      supernet_of(built_)->clear_caches();
      val_loss_sum_ += r.val_loss;
      ++architect_steps_;
    } else if (micro % round_ == ctx_.collective->rank()) {
      // This rank's first micro-batch of a round (a rank owns micro-batches m ≡ rank mod W).
      architect_round(step, micro - ctx_.collective->rank(), micro, batch, lr);
    }
    architect_s_ += seconds_since(t0);
    lower_start_ = Clock::now();
  }

  at::Tensor extra_loss() override {
    return supernet_balance_loss(built_, cfg_.adapters->balance, cfg_.adapters->top_k);
  }

  void before_clip(int64_t step) override {
    lower_s_ += seconds_since(lower_start_);
    const TrainConfig& t = cfg_.train;
    if (step % t.log_every == 0 || step == t.steps) {
      metric("guilomo/val_loss", step, val_loss_sum_ / std::max<int64_t>(1, architect_steps_));
      metric("guilomo/architect_s", step, architect_s_);
      metric("guilomo/lower_s", step, lower_s_);
      if (lower_s_ > 0)
        metric("guilomo/search_cost_ratio", step, (architect_s_ + lower_s_) / lower_s_);
      val_loss_sum_ = 0.0;
      architect_steps_ = 0;
    }
  }

  void records(int64_t step) override {
    for (auto& p : gsv_records(supernet_of(built_)->gsv_values(), readout_options(cfg_), step)) {
      ctx_.sink->on_matrix(p);
    }
  }

  void clear_caches() override { supernet_of(built_)->clear_caches(); }

  void finish(int64_t step) override;

 private:
  void metric(const std::string& key, int64_t step, double value) {
    ctx_.sink->on_metric(MetricPoint{key, step, value, now_ms()});
  }
  GuiLoMoAllocation read_out() const;
  void architect_round(int64_t step, int begin, int micro, const Batch& batch, double lr);

  HookContext ctx_;
  const ExperimentConfig& cfg_;
  BuiltModel& built_;
  std::unique_ptr<BilevelArchitect> architect_;
  Clock::time_point start_, lower_start_;
  double architect_s_ = 0.0, lower_s_ = 0.0, val_loss_sum_ = 0.0;
  int64_t architect_steps_ = 0;
  int round_ = 1;  ///< micro-batches per architect round (allocation.guilomo.architect_round)
};

/// One architect round of `round_` micro-batches starting at `begin` (docs/DISTRIBUTED.md): this
/// rank takes the GSV gradient of each of its micro-batches of the round at the current GSVs (in
/// a launched run with the micro-batch's own random stream, so it does not matter which rank
/// runs it), one all-reduce gives every rank every micro-batch's gradient and validation loss
/// (the other rows are zeros, so the sum is exact), and every rank takes the round's α-steps in
/// micro-batch order. In one process the same happens without the all-reduce.
void GuiLoMoSearchHooks::architect_round(
    int64_t step, int begin, int micro, const Batch& batch, double lr) {
  Collective& ranks = *ctx_.collective;
  std::vector<torch::Tensor> alpha;
  int64_t numel = 0;
  for (const auto& [name, t] : built_.upper_level) {
    alpha.push_back(t);
    numel += t.numel();
  }
  const auto device = alpha.front().device();
  torch::Tensor rows =
      torch::zeros({round_, numel + 1}, torch::TensorOptions().dtype(torch::kFloat64));
  for (int m = micro; m < begin + round_; m += ranks.world_size()) {
    const Batch train = m == micro ? batch : ctx_.train_batch(step, m);
    const Batch val = ctx_.val_batch(step, m);
    std::optional<MicroRngScope> rng;
    if (ctx_.micro_seed) rng.emplace(ctx_.micro_seed(step, m) ^ 0x61726368ull, device);
    const ArchitectStepResult r =
        architect_->compute([&] { return ctx_.loss(train); }, [&] { return ctx_.loss(val); }, lr);
    supernet_of(built_)->clear_caches();
    std::vector<torch::Tensor> flat;
    for (const auto& g : r.alpha_grad)
      flat.push_back(g.detach().reshape({-1}).to(torch::kCPU, torch::kFloat64));
    flat.push_back(torch::tensor({r.val_loss}, torch::kFloat64));
    rows[m - begin].copy_(torch::cat(flat));
  }
  rows = rows.to(device);
  ranks.all_reduce_sum(rows, "the GSV gradients of an architect round");
  rows = rows.cpu();
  for (int j = 0; j < round_; ++j) {
    std::vector<torch::Tensor> g;
    int64_t offset = 0;
    for (const auto& a : alpha) {
      g.push_back(
          rows[j].narrow(0, offset, a.numel()).view(a.sizes()).to(a.device(), a.scalar_type()));
      offset += a.numel();
    }
    architect_->apply(g);
    val_loss_sum_ += rows[j][numel].item<double>();
    ++architect_steps_;
  }
}

GuiLoMoAllocation GuiLoMoSearchHooks::read_out() const {
  const GuiLoMoConfig& g = cfg_.allocation.guilomo;
  GuiLoMoAllocation found =
      read_allocation(supernet_of(built_)->gsv_values(), readout_options(cfg_));
  if (g.readout != "budget_matched") return found;
  BudgetMatchOptions b;
  b.max_rank = g.r_max;
  b.with_router = true;
  if (g.budget_parameters > 0) {
    b.target_parameters = static_cast<int64_t>(g.budget_parameters);
  } else {
    AllocationBudget mola = budget_from(cfg_);
    mola.method = "mola";
    mola.preset = g.budget_preset;
    mola.explicit_experts.clear();
    mola.explicit_top_k.clear();
    const ExpertAllocation m = AllocationStrategy::create("mola")->allocate(built_.shape, mola);
    b.target_parameters =
        count_trainable_parameters(built_.shape, m, cfg_.adapters->target_modules, true);
  }
  return budget_matched(found, built_.shape, b);
}

void GuiLoMoSearchHooks::finish(int64_t step) {
  const GuiLoMoAllocation found = read_out();
  const fs::path dir(ctx_.run_dir);
  save_allocation(found, (dir / kGuiLoMoAllocationFile).string());
  save_reference_files(found, dir.string());
  for (const char* name : {"guilomo_allocation.json", "expert.json", "rank.json"}) {
    ctx_.sink->on_artifact(
        ArtifactWritten{"allocation", name, step, static_cast<int64_t>(fs::file_size(dir / name))});
  }
  const int64_t params = count_parameters(found, built_.shape, /*with_router=*/true);
  int64_t experts = 0, rank_sum = 0;
  for (const auto& m : found.modules) {
    experts += m.experts;
    for (int r : m.used_ranks()) rank_sum += r;
  }
  metric("guilomo/found_params", step, static_cast<double>(params));
  ctx_.sink->on_tag({"guilomo/found_params", std::to_string(params)});
  ctx_.sink->on_tag({"guilomo/found_experts", std::to_string(experts)});
  ctx_.sink->on_tag({"guilomo/found_rank_sum", std::to_string(rank_sum)});
  ctx_.sink->on_tag({"guilomo/readout", cfg_.allocation.guilomo.readout});
  ctx_.sink->on_tag({"guilomo/allocation_file", "guilomo_allocation.json"});
  const ArchitectMode mode = architect_mode_from_string(cfg_.allocation.guilomo.architect_mode);
  ctx_.sink->on_tag({"guilomo/passes_per_micro_batch", std::to_string(architect_passes(mode) + 1)});
  if (lower_s_ > 0) {
    char text[64];
    std::snprintf(text, sizeof text, "%.2f", (architect_s_ + lower_s_) / lower_s_);
    ctx_.sink->on_tag({"guilomo/search_cost_ratio", text});
  }
  ctx_.sink->on_log({"info", "GuiLoMo readout (" + cfg_.allocation.guilomo.readout +
                                 "): " + std::to_string(experts) + " experts, rank sum " +
                                 std::to_string(rank_sum) + ", " + std::to_string(params) +
                                 " parameters; wrote guilomo_allocation.json, expert.json, "
                                 "rank.json"});
}

}  // namespace

std::unique_ptr<TrainingHooks> make_guilomo_search_hooks(const HookContext& context) {
  return std::make_unique<GuiLoMoSearchHooks>(context);
}

}  // namespace apportion
