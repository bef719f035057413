// SPDX-License-Identifier: GPL-3.0-or-later
// The training loop: data → forward → loss (+ balance loss) → backward (accumulated) → clip →
// AdamW step; scalar and matrix logging, evaluation, checkpoints, stop and NaN handling.
#include "core/train/trainer.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>

#include "core/common/clock.h"
#include "core/common/error.h"
#include "core/common/malloc_policy.h"
#include "core/data/batcher.h"
#include "core/data/dataset_suite.h"
#include "core/data/jsonl_dataset.h"
#include "core/methods/method_registry.h"
#include "core/store/store_keys.h"
#include "core/tensor/safetensors.h"
#include "core/tokenizer/builtin_byte_tokenizer.h"
#include "core/train/blas_threads.h"
#include "core/train/device_setup.h"
#include "core/train/eval_report.h"
#include "core/train/evaluator.h"
#include "core/train/generate_eval.h"
#include "core/train/lr_schedule.h"
#include "core/train/method_runtime.h"
#include "core/train/model_builder.h"
#include "core/train/suite_evaluator.h"
#include "core/train/train_records.h"
#include "core/train/trainer_impl.h"
#include "core/train/training_hooks.h"

namespace apportion {
namespace fs = std::filesystem;

std::string torch_version_string() {
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
}

std::string resolve_workspace_path(const std::string& workspace_dir, const std::string& path) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(workspace_dir.empty() ? "." : workspace_dir) / path).lexically_normal().string();
}

/// Moves the model to the run's device and casts the frozen backbone to train.dtype; adapters
/// (and everything when pretraining) stay float32.
void Trainer::Impl::place_model() {
  built.model->to(device);
  if (base_dtype == c10::kFloat) return;
  std::set<const void*> trainable;
  for (const auto& [name, t] : built.trainable) trainable.insert(t.unsafeGetTensorImpl());
  torch::NoGradGuard no_grad;
  for (auto& p : built.model->parameters()) {
    if (trainable.count(p.unsafeGetTensorImpl()) == 0 && p.is_floating_point()) {
      p.set_data(p.to(base_dtype));
    }
  }
}

/// Forward pass on the run's device (autocast when asked and on CUDA); logits in float32.
torch::Tensor Trainer::Impl::forward(const Batch& batch) {
  const bool autocast = cfg->train.autocast && device.is_cuda();
  if (autocast) {
    set_cuda_autocast(true, base_dtype == c10::kHalf ? c10::kHalf : c10::kBFloat16);
  }
  auto logits = built.model->forward(batch.input_ids.to(device), batch.attention_mask.to(device));
  if (autocast) {
    set_cuda_autocast(false, c10::kBFloat16);
    at::autocast::clear_cache();
  }
  return logits.to(torch::kFloat32);
}

/// Forward + LM loss and the balance losses on a batch: {lm loss, balance loss (or undefined)}.
std::pair<torch::Tensor, torch::Tensor> Trainer::Impl::losses_on(const Batch& batch) {
  auto logits = forward(batch);  // [B, T, V]
  auto loss = torch::nn::functional::cross_entropy(
      logits.reshape({-1, logits.size(-1)}), batch.labels.to(device).reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(kIgnoreIndex));
  torch::Tensor aux;
  if (built.adapters) aux = built.adapters->balance_loss(cfg->adapters->balance);
  if (hooks) {
    auto extra = hooks->extra_loss();
    if (extra.defined()) aux = aux.defined() ? aux + extra : extra;
  }
  return {loss, aux};
}

/// One micro-batch forward + backward; adds its losses and token counts to `tally` and returns
/// its LM loss. A launched (data-parallel) run draws the micro-batch's random numbers from a
/// generator seeded by (seed, step, micro), so they do not depend on the rank that runs it.
double Trainer::Impl::micro_step(int64_t step, int micro, double lr, StepTally& tally) {
  const TrainConfig& t = cfg->train;
  const Batch batch = train_batch(step, micro);
  std::optional<MicroRngScope> rng;
  if (dp.launched()) rng.emplace(dp.micro_seed(step, micro), device);
  const int64_t real = batch.attention_mask.sum().item<int64_t>();
  tally.tokens += real;
  tally.padding += batch.attention_mask.numel() - real;
  tally.slots += batch.attention_mask.numel();
  if (hooks) hooks->before_micro_step(step, micro, batch, lr);
  auto [loss, aux] = losses_on(batch);
  if (hooks) hooks->after_forward(batch);
  torch::Tensor total = aux.defined() ? loss + aux : loss;
  const double aux_value = aux.defined() ? aux.item<double>() : 0.0;
  const double loss_value = loss.item<double>();
  if (std::isfinite(loss_value)) {
    (total / t.grad_accum).backward();
  } else {
    ++tally.nonfinite;
  }
  tally.loss_sum += loss_value;
  tally.aux_sum += aux_value;
  return loss_value;
}

void Trainer::Impl::checkpoint(int64_t step) {
  const int64_t bytes = save_checkpoint(checkpoint_path, built.trainable, *optimizer, step,
                                        hooks->checkpoint_extras());
  sink->on_artifact(ArtifactWritten{"checkpoint", "checkpoint.pt", step, bytes});
}

namespace {

TrainResult non_finite_loss(double loss, int64_t step) {
  return {RunStatus::Failed,
          "loss became " + std::to_string(loss) + " at step " + std::to_string(step) +
              "; the last good checkpoint is kept. Try a lower train.lr or enable "
              "train.max_grad_norm",
          step - 1};
}

}  // namespace

TrainResult Trainer::Impl::loop() {
  const TrainConfig& t = cfg->train;
  Collective& ranks = dp.collective();
  int64_t step = resumed_step;
  // alloc/* describe the dense projections' experts; runs that adapt only routed backbone
  // experts (DR-LoRA) record drlora/* instead, and a search records its argmax (gsv records).
  const bool dense_adapters =
      built.adapters &&
      std::any_of(built.adapters->adapters().begin(), built.adapters->adapters().end(),
                  [](const InjectedAdapter& a) { return a.expert < 0; });
  // How this process's malloc treats freed memory: it moves perf/peak_memory_mb (malloc_policy.h).
  sink->on_tag({"perf/malloc", malloc_policy()});
  if (!cfg->is_pretraining()) {
    const MethodRuntime& method = runtime_of(*cfg);
    if (dense_adapters && method.records_planned_allocation(*cfg)) {
      for (auto& m : allocation_records(built.allocation, modules, step)) sink->on_matrix(m);
    }
    for (const auto& [key, value] : method.start_tags(*cfg)) sink->on_tag({key, value});
    tag_protocols();
  }
  // Fresh fine-tuning runs only: a resumed run wrote its baseline when it started. Before
  // before_training, so a GuiLoMo search's cost clock does not count it. Rank 0 evaluates alone
  // (here and below); the other ranks wait for it.
  if (!opt->resume && !cfg->is_pretraining()) {
    if (dp.is_root()) evaluate_baseline();
    ranks.root_done("baseline");
  }
  built.model->train();
  hooks->before_training(step);
  const auto start = std::chrono::steady_clock::now();
  int64_t tokens_since_log = 0;
  auto log_clock = start;
  const int64_t first_step = step;
  // The ranks' fingerprint covers the upper level too (GuiLoMo's GSVs, stepped on every rank).
  NamedTensors fingerprinted = built.trainable;
  fingerprinted.insert(fingerprinted.end(), built.upper_level.begin(), built.upper_level.end());
  while (step < t.steps) {
    ranks.set_step(step);
    const bool stop_here =
        stop.stop_requested() || (opt->stop_after_step >= 0 && step >= opt->stop_after_step);
    if (dp.agree_to_stop(stop_here, fingerprinted)) {
      if (dp.is_root()) checkpoint(step);
      ranks.root_done("stop/" + std::to_string(step));
      return {RunStatus::Killed, "stopped on request at step " + std::to_string(step), step};
    }
    ++step;
    ranks.set_step(step);
    const double lr = learning_rate_at(t, step);
    for (auto& group : optimizer->param_groups()) {
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    }
    optimizer->zero_grad();
    StepTally tally;
    const bool log_matrices =
        built.adapters && (step % t.log_matrices_every == 0 || step == t.steps);
    RoutingStats routing;
    BackboneRoutingStats backbone_routing;
    for (int micro = 0; micro < t.grad_accum; ++micro) {
      if (!dp.owns(micro)) continue;  // another rank's share of the global batch
      const double loss = micro_step(step, micro, lr, tally);
      // One process stops at the first bad micro-batch; ranks agree after the tally's sum.
      if (!std::isfinite(loss) && !dp.multi_rank()) return non_finite_loss(loss, step);
      if (log_matrices && micro == t.grad_accum - 1) {
        routing = built.adapters->routing_stats();
        backbone_routing = backbone_routing_stats(*built.model);
      }
      if (built.adapters) built.adapters->clear_caches();
      hooks->clear_caches();
      built.model->clear_router_cache();
    }
    dp.reduce_gradients(built.trainable);
    dp.reduce_tally(tally);
    if (tally.nonfinite > 0) return non_finite_loss(tally.loss_sum, step);
    if (log_matrices) {
      dp.sync_routing(routing, backbone_routing, dp.owner(t.grad_accum - 1));
      for (auto& m : routing_records(routing, step)) sink->on_matrix(m);
      for (auto& m : backbone_routing_records(backbone_routing, step)) sink->on_matrix(m);
    }
    tokens_since_log += tally.tokens;
    padding_since_log += tally.padding;
    slots_since_log += tally.slots;
    hooks->before_clip(step);
    std::vector<torch::Tensor> params;
    for (const auto& [name, p] : built.trainable) params.push_back(p);
    const double grad_norm =
        torch::nn::utils::clip_grad_norm_(params, t.max_grad_norm > 0 ? t.max_grad_norm : 1e30);
    optimizer->step();
    hooks->after_optimizer_step(step, *optimizer);
    if (dp.multi_rank() && hooks->decided_at(step)) {
      // Rank 0's decision (e.g. a growth event) is everybody's: its state to every rank.
      const CheckpointExtras extras = hooks->checkpoint_extras();
      dp.broadcast_state(built.trainable, *optimizer, extras, step,
                         "state after step " + std::to_string(step));
      if (!dp.is_root()) hooks->restore(extras);
    }
    if (log_matrices) hooks->records(step);

    const double loss = tally.loss_sum / t.grad_accum;
    if (step % t.log_every == 0 || step == t.steps) {
      const auto now = std::chrono::steady_clock::now();
      const double secs = std::chrono::duration<double>(now - log_clock).count();
      metric(kMetricTrainLoss, step, loss);
      metric(kMetricTrainLr, step, lr);
      metric(kMetricGradNorm, step, grad_norm);
      if (built.adapters) metric(kMetricBalanceLoss, step, tally.aux_sum / t.grad_accum);
      if (secs > 0) metric(kMetricTokensPerS, step, static_cast<double>(tokens_since_log) / secs);
      if (slots_since_log > 0) {
        metric(kMetricPaddingFraction, step,
               static_cast<double>(padding_since_log) / static_cast<double>(slots_since_log));
      }
      padding_since_log = slots_since_log = 0;
      metric(kMetricPeakMemoryMb, step,
             static_cast<double>(peak_memory_bytes(device)) / (1024.0 * 1024.0));
      tokens_since_log = 0;
      log_clock = now;
    }
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    sink->on_progress(ProgressPoint{step, t.steps, elapsed, step - first_step, loss});
    if (eval_due(step)) {
      if (dp.is_root()) evaluate(step);
      ranks.root_done("eval/" + std::to_string(step));
    }
    if (step % t.checkpoint_every == 0 || step == t.steps) {
      if (dp.is_root()) checkpoint(step);
      ranks.root_done("checkpoint/" + std::to_string(step));
    }
  }
  if (dp.is_root()) write_outputs(step);
  return {RunStatus::Finished, "", step};
}

Trainer::Trainer() : impl_(std::make_unique<Impl>()) {}
Trainer::~Trainer() = default;

TrainResult Trainer::run(const ExperimentConfig& cfg,
                         const TrainOptions& options,
                         EventSink& sink,
                         StopToken stop) {
  if (options.threads > 0) torch::set_num_threads(options.threads);
  Impl& s = *impl_;
  s.effective = cfg;
  s.cfg = &s.effective;
  s.opt = &options;
  s.sink = &sink;
  s.stop = stop;
  s.device = resolve_device(cfg.train.device);
  s.base_dtype = resolve_dtype(cfg.train.dtype);
  s.join_world();
  if (s.dp.is_root()) fs::create_directories(options.run_dir);
  s.checkpoint_path = (fs::path(options.run_dir) / "checkpoint.pt").string();
  s.built = build_model(cfg, options.workspace_dir);
  s.place_model();
  s.built.model->set_gradient_checkpointing(cfg.train.gradient_checkpointing);
  // Small models: one BLAS thread per torch thread (see blas_threads.h); large GEMMs keep
  // OpenBLAS's own parallelism.
  if (s.built.shape.hidden_size < 1024) set_blas_threads(1);
  if (cfg.adapters) s.modules = canonical_module_order(cfg.adapters->target_modules);
  s.prepare_data();
  s.report = std::make_unique<EvalReport>(s.effective.train, options.run_dir);
  if (!s.datasets.evals.empty()) {
    SuiteEvalOptions eo;
    eo.batch_size = cfg.train.micro_batch_size * 2;
    eo.max_seq_len = cfg.data.max_seq_len;
    eo.fewshot_seed = cfg.data.seed;
    eo.run_dir = options.run_dir;
    s.suite_evaluator =
        std::make_unique<SuiteEvaluator>(s.datasets, *s.tokenizer, *s.eval_batcher, eo, sink);
  }
  std::vector<torch::Tensor> params;
  for (const auto& [name, p] : s.built.trainable) params.push_back(p);
  s.optimizer = std::make_unique<torch::optim::AdamW>(
      params, torch::optim::AdamWOptions(cfg.train.lr)
                  .betas({cfg.train.adam_beta1, cfg.train.adam_beta2})
                  .eps(cfg.train.adam_eps)
                  .weight_decay(cfg.train.weight_decay));
  HookContext context;
  context.cfg = &s.effective;
  context.built = &s.built;
  context.sink = &sink;
  context.optimizer = s.optimizer.get();
  context.run_dir = options.run_dir;
  context.train_batch = [&s](int64_t step, int micro) { return s.train_batch(step, micro); };
  context.val_batch = [&s](int64_t step, int micro) { return s.val_batch(step, micro); };
  context.loss = [&s](const Batch& batch) {
    auto [loss, aux] = s.losses_on(batch);
    return aux.defined() ? loss + aux : loss;
  };
  context.collective = &s.dp.collective();
  if (s.dp.launched()) {
    context.micro_seed = [&s](int64_t step, int micro) { return s.dp.micro_seed(step, micro); };
  }
  s.hooks = make_training_hooks(context);
  // Before the run row is touched: a bad checkpoint is an error, not a FAILED run.
  if (options.resume) s.resume_from_checkpoint();
  if (cfg.train.gradient_checkpointing && cfg.adapters && cfg.adapters->method == "moe_lora" &&
      cfg.adapters->balance.coef > 0) {
    s.log("warning",
          "train.gradient_checkpointing: the balance loss is computed from router logits of the "
          "no-grad forward, so it is logged but does not train the routers; set "
          "adapters.balance.coef=0 to make that explicit, or turn checkpointing off");
  }
  // Outside the try: when the store refuses the run (a resume that another process took over a
  // moment ago), nothing of this process is in the run, so it must not be finished as FAILED.
  sink.on_run_started(s.run_started());
  TrainResult result;
  bool agreed = false;  // ended where every rank ends (finished, stopped, a non-finite loss)
  try {
    result = s.loop();
    agreed = true;
  } catch (const c10::Error& e) {
    result = {RunStatus::Failed, e.msg(), 0};
  } catch (const std::exception& e) {
    result = {RunStatus::Failed, e.what(), 0};
  }
  result = s.agree_on_end(result, agreed);
  sink.on_run_finished(RunFinished{result.status, result.message, result.last_step});
  sink.flush();
  return result;
}

}  // namespace apportion
