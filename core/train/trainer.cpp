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
#include <set>

#include "core/common/clock.h"
#include "core/common/error.h"
#include "core/data/batcher.h"
#include "core/data/jsonl_dataset.h"
#include "core/methods/method_registry.h"
#include "core/store/store_keys.h"
#include "core/tensor/safetensors.h"
#include "core/tokenizer/builtin_byte_tokenizer.h"
#include "core/train/blas_threads.h"
#include "core/train/device_setup.h"
#include "core/train/evaluator.h"
#include "core/train/generate_eval.h"
#include "core/train/lr_schedule.h"
#include "core/train/method_runtime.h"
#include "core/train/model_builder.h"
#include "core/train/train_records.h"
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

struct Trainer::Impl {
  const ExperimentConfig* cfg = nullptr;
  const TrainOptions* opt = nullptr;
  EventSink* sink = nullptr;
  StopToken stop;
  int64_t resumed_step = 0;
  BuiltModel built;
  std::unique_ptr<torch::optim::AdamW> optimizer;
  TaskSuite suite;                  // fine-tuning data
  std::vector<std::string> corpus;  // pretraining data
  std::vector<std::string> eval_corpus;
  std::shared_ptr<const Tokenizer> tokenizer;
  std::unique_ptr<Batcher> batcher;
  std::unique_ptr<Batcher> eval_batcher;
  std::unique_ptr<TrainingHooks> hooks;
  /// Training examples held out for a method's upper level only (GuiLoMo's GSVs, split "holdout").
  std::vector<Example> alpha_examples;
  std::vector<std::string> modules;  // module axis of the records
  std::string checkpoint_path;
  c10::Device device{c10::kCPU};
  c10::ScalarType base_dtype = c10::kFloat;

  /// Moves the model to the run's device and casts the frozen backbone to train.dtype; adapters
  /// (and everything when pretraining) stay float32.
  void place_model() {
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
  torch::Tensor forward(const Batch& batch) {
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

  void metric(const std::string& key, int64_t step, double value) {
    sink->on_metric(MetricPoint{key, step, value, now_ms()});
  }
  void log(const std::string& level, const std::string& text) {
    sink->on_log(LogLine{level, text});
  }

  /// The backbone folder's tokenizer (tokenizer.json / tokenizer.model / the built-in byte
  /// tokenizer), or the byte tokenizer for an inline random backbone. Its ids must fit the
  /// model's vocabulary.
  std::shared_ptr<const Tokenizer> make_run_tokenizer() const {
    std::shared_ptr<const Tokenizer> tok;
    if (!cfg->backbone.path.empty()) {
      tok = load_tokenizer(resolve_workspace_path(opt->workspace_dir, cfg->backbone.path));
    } else {
      tok = std::make_shared<tok::BuiltinByteTokenizer>();
    }
    const int64_t model_vocab = built.model->config().vocab_size;
    if (tok->vocab_size() > model_vocab) {
      throw ModelError("backbone: the tokenizer (" + tok->kind() + ") has " +
                       std::to_string(tok->vocab_size()) +
                       " tokens but the model's vocab_size is " + std::to_string(model_vocab) +
                       "; the tokenizer does not belong to this model");
    }
    return tok;
  }

  void prepare_data() {
    const DataConfig& d = cfg->data;
    const bool pretrain = cfg->is_pretraining();
    tokenizer = make_run_tokenizer();
    batcher = std::make_unique<Batcher>(tokenizer, d.max_seq_len,
                                        pretrain ? true : d.train_on_inputs, d.add_eos);
    eval_batcher = std::make_unique<Batcher>(tokenizer, d.max_seq_len, false, d.add_eos);
    if (pretrain) {
      auto docs = make_pretraining_corpus(d, d.train_examples + d.eval_examples);
      eval_corpus.assign(docs.end() - d.eval_examples, docs.end());
      docs.resize(static_cast<size_t>(d.train_examples));
      corpus = std::move(docs);
    } else if (d.suite == "jsonl") {
      const std::string ws = opt->workspace_dir;
      suite = make_jsonl_suite(d, resolve_workspace_path(ws, d.train_file),
                               resolve_workspace_path(ws, d.eval_file));
      log("info", "data: " + std::to_string(suite.train.size()) + " train / " +
                      std::to_string(suite.eval.size()) + " eval examples from " + d.train_file);
    } else {
      suite = make_task_suite(d);
    }
    if (!pretrain) {
      const auto [fraction, path] = runtime_of(*cfg).holdout_fraction(*cfg);
      if (fraction > 0.0) split_holdout(fraction, path);
    }
  }

  /// Moves a seeded share (the method's holdout_fraction, e.g. allocation.guilomo.val_fraction)
  /// of the training examples into alpha_examples: the method's upper level learns on them and
  /// w never sees them.
  void split_holdout(double fraction, const std::string& path) {
    const auto n = static_cast<int64_t>(suite.train.size());
    const auto held = static_cast<int64_t>(n * fraction);
    if (held < 1 || held >= n) {
      throw ConfigError(path + ": holds out " + std::to_string(held) + " of " + std::to_string(n) +
                        " training examples; both splits need at least one (raise "
                        "data.train_examples or change the fraction)");
    }
    auto order = sample_indices(n, static_cast<int>(n), cfg->data.seed ^ 0x5a17u, 0, 0, 1);
    std::vector<Example> train;
    for (int64_t i = 0; i < n; ++i) {
      auto& ex = suite.train[static_cast<size_t>(order[static_cast<size_t>(i)])];
      (i < n - held ? train : alpha_examples).push_back(std::move(ex));
    }
    suite.train = std::move(train);
    log("info", "holdout split: " + std::to_string(suite.train.size()) + " examples for w, " +
                    std::to_string(alpha_examples.size()) + " for the method's upper level");
  }

  RunStarted run_started() const {
    RunStarted e;
    e.run_id = opt->run_id;
    e.experiment_name = cfg->name.empty() ? "default" : cfg->name;
    e.run_name = opt->run_name.empty() ? e.experiment_name : opt->run_name;
    e.config_json = opt->config_json;
    e.allocation_method =
        cfg->is_pretraining() ? kPretrainRunLabel : method_of(*cfg).run_label(*cfg);
    e.seed = cfg->seed;
    e.device = cfg->train.device;
    e.tags["dtype"] = cfg->train.dtype;
    e.tags["autocast"] = cfg->train.autocast ? "on" : "off";
    e.torch_version = torch_version_string();
    e.params = flatten_json(nlohmann::json::parse(opt->config_json));
    e.tags[kKindTag] = cfg->is_pretraining() ? kPretrainRunLabel : "finetune";
    e.tags[kTrainableParamsTag] = std::to_string(built.trainable_count);
    e.tags[kTotalParamsTag] = std::to_string(built.total_count);
    e.tags[kModulesTag] = [&] {
      std::string s;
      for (const auto& m : modules) s += (s.empty() ? "" : ",") + m;
      return s;
    }();
    e.tags[kTotalStepsTag] = std::to_string(cfg->train.steps);
    e.resumed = opt->resume;
    return e;
  }

  /// The training micro-batch `micro` of optimiser step `step` (a pure function of both).
  Batch train_batch(int64_t step, int micro) const {
    const TrainConfig& t = cfg->train;
    const bool pretrain = cfg->is_pretraining();
    const int64_t n =
        pretrain ? static_cast<int64_t>(corpus.size()) : static_cast<int64_t>(suite.train.size());
    const auto indices = sample_indices(n, t.micro_batch_size, cfg->data.seed ^ cfg->seed, step,
                                        micro, t.grad_accum);
    if (pretrain) {
      std::vector<const std::string*> rows;
      for (auto i : indices) rows.push_back(&corpus[static_cast<size_t>(i)]);
      return batcher->make_text_batch(rows);
    }
    std::vector<const Example*> rows;
    for (auto i : indices) rows.push_back(&suite.train[static_cast<size_t>(i)]);
    return batcher->make_batch(rows);
  }

  /// GuiLoMo's upper-level micro-batch: from the held-out split ("holdout"), or another stream of
  /// the training set ("alternate", the reference's odd batches).
  Batch val_batch(int64_t step, int micro) const {
    const TrainConfig& t = cfg->train;
    const auto& pool = alpha_examples.empty() ? suite.train : alpha_examples;
    const auto indices =
        sample_indices(static_cast<int64_t>(pool.size()), t.micro_batch_size,
                       (cfg->data.seed ^ cfg->seed) + 0x9e3779b9u, step, micro, t.grad_accum);
    std::vector<const Example*> rows;
    for (auto i : indices) rows.push_back(&pool[static_cast<size_t>(i)]);
    return batcher->make_batch(rows);
  }

  /// Forward + LM loss and the balance losses on a batch: {lm loss, balance loss (or undefined)}.
  std::pair<torch::Tensor, torch::Tensor> losses_on(const Batch& batch) {
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

  /// One micro-batch forward + backward; returns (lm loss, balance loss) values.
  std::pair<double, double> micro_step(int64_t step, int micro, double lr, int64_t* tokens) {
    const TrainConfig& t = cfg->train;
    const Batch batch = train_batch(step, micro);
    *tokens += batch.attention_mask.sum().item<int64_t>();
    if (hooks) hooks->before_micro_step(step, micro, batch, lr);
    auto [loss, aux] = losses_on(batch);
    if (hooks) hooks->after_forward(batch);
    torch::Tensor total = aux.defined() ? loss + aux : loss;
    const double aux_value = aux.defined() ? aux.item<double>() : 0.0;
    const double loss_value = loss.item<double>();
    if (std::isfinite(loss_value)) (total / t.grad_accum).backward();
    return {loss_value, aux_value};
  }

  /// Logs the eval metrics at `step` and returns them (loss, mean and per-task accuracy; loss
  /// only when pretraining). Uses no random numbers: fixed example order, dropout off, greedy
  /// decoding, so an evaluation never shifts the training stream.
  EvalResult evaluate(int64_t step) {
    const int batch = cfg->train.micro_batch_size * 2;
    EvalResult out;
    if (cfg->is_pretraining()) {
      out.loss = evaluate_documents(built.model, eval_corpus, *eval_batcher, batch);
      metric(kMetricEvalLoss, step, out.loss);
      return out;
    }
    out = evaluate_examples(built.model, suite.eval, *eval_batcher, batch);
    metric(kMetricEvalLoss, step, out.loss);
    if (cfg->data.eval_mode != "generate") {
      metric(kMetricEvalAcc, step, out.accuracy);
      for (const auto& [task, acc] : out.task_accuracy) {
        metric(kMetricEvalAccPrefix + task, step, acc);
      }
      return out;
    }
    // Accuracy by greedy generation + answer extraction; predictions kept for auditing.
    GenerateEvalOptions g;
    g.answer_pattern = cfg->data.answer_pattern;
    g.max_new_tokens = cfg->data.max_new_tokens;
    g.max_seq_len = cfg->data.max_seq_len;
    g.batch_size = batch;
    const GenerateEvalResult gr = evaluate_generate(built.model, *tokenizer, suite.eval, g);
    out.accuracy = gr.accuracy;
    out.task_accuracy = gr.task_accuracy;
    metric(kMetricEvalAcc, step, gr.accuracy);
    for (const auto& [task, acc] : gr.task_accuracy) metric(kMetricEvalAccPrefix + task, step, acc);
    const std::string name = "predictions-step" + std::to_string(step) + ".jsonl";
    const fs::path path = fs::path(opt->run_dir) / name;
    {
      std::ofstream out_file(path, std::ios::binary | std::ios::trunc);
      for (const Prediction& p : gr.predictions) {
        out_file << nlohmann::json{{"task", p.task},     {"prompt", p.prompt},
                                   {"output", p.output}, {"extracted", p.extracted},
                                   {"gold", p.gold},     {"correct", p.correct}}
                        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                 << "\n";
      }
    }
    sink->on_artifact(
        ArtifactWritten{"predictions", name, step, static_cast<int64_t>(fs::file_size(path))});
    return out;
  }

  /// The step-0 baseline of a fresh fine-tuning run (store_keys.h): the periodic evaluation at
  /// step 0, before any optimiser step, plus its baseline/* copies. The adapters are at their
  /// initial state: LoRA and LoRA-MoE experts start with B = 0 (lora_adapter.cpp,
  /// moe_lora_adapter.cpp), so their output is exactly zero and this is the untouched backbone
  /// (GuiLoMo retrains, MoLA, uniform, plain LoRA, DR-LoRA and its static baseline alike). The
  /// GuiLoMo search supernet is the exception: its A and B both start ~ N(0, init_std)
  /// (gsv_moe_lora_adapter.cpp, the reference's stage-1 init), so its baseline is the backbone
  /// plus a small random adapter output, the point the search starts from.
  void evaluate_baseline() {
    const auto step = static_cast<int64_t>(kBaselineStep);
    const EvalResult r = evaluate(step);
    metric(kMetricBaselineLoss, step, r.loss);
    metric(kMetricBaselineAccuracy, step, r.accuracy);
    for (const auto& [task, acc] : r.task_accuracy) {
      metric(kMetricBaselineAccPrefix + task, step, acc);
    }
    // Forget the eval forwards' router logits, so nothing of them reaches the first step.
    if (built.adapters) built.adapters->clear_caches();
    hooks->clear_caches();
    built.model->clear_router_cache();
  }

  void checkpoint(int64_t step) {
    const int64_t bytes = save_checkpoint(checkpoint_path, built.trainable, *optimizer, step,
                                          hooks->checkpoint_extras());
    sink->on_artifact(ArtifactWritten{"checkpoint", "checkpoint.pt", step, bytes});
  }

  void write_outputs(int64_t step);
  TrainResult loop();
};

void Trainer::Impl::write_outputs(int64_t step) {
  if (cfg->is_pretraining()) {
    const std::string out = resolve_workspace_path(opt->workspace_dir, cfg->backbone.output);
    save_pretrained(built.model, out);
    log("info", "wrote the pretrained backbone to " + out);
    sink->on_artifact(
        ArtifactWritten{"backbone", out, step,
                        static_cast<int64_t>(fs::file_size(fs::path(out) / "model.safetensors"))});
    return;
  }
  hooks->finish(step);
  std::map<std::string, at::Tensor> tensors;
  for (const auto& [name, t] : built.trainable) tensors[name] = t.detach();
  for (const auto& [name, t] : built.upper_level) tensors[name] = t.detach();
  const fs::path path = fs::path(opt->run_dir) / "adapters.safetensors";
  save_safetensors(path.string(), tensors,
                   {{"format", "apportion-moe-lora"},
                    {"method", cfg->adapters->method},
                    {"config", opt->config_json}});
  sink->on_artifact(ArtifactWritten{"adapter", "adapters.safetensors", step,
                                    static_cast<int64_t>(fs::file_size(path))});
}

TrainResult Trainer::Impl::loop() {
  const TrainConfig& t = cfg->train;
  int64_t step = resumed_step;
  sink->on_run_started(run_started());
  // alloc/* describe the dense projections' experts; runs that adapt only routed backbone
  // experts (DR-LoRA) record drlora/* instead, and a search records its argmax (gsv records).
  const bool dense_adapters =
      built.adapters &&
      std::any_of(built.adapters->adapters().begin(), built.adapters->adapters().end(),
                  [](const InjectedAdapter& a) { return a.expert < 0; });
  if (!cfg->is_pretraining()) {
    const MethodRuntime& method = runtime_of(*cfg);
    if (dense_adapters && method.records_planned_allocation(*cfg)) {
      for (auto& m : allocation_records(built.allocation, modules, step)) sink->on_matrix(m);
    }
    for (const auto& [key, value] : method.start_tags(*cfg)) sink->on_tag({key, value});
  }
  // Fresh fine-tuning runs only: a resumed run wrote its baseline when it started. Before
  // before_training, so a GuiLoMo search's cost clock does not count it.
  if (!opt->resume && !cfg->is_pretraining()) evaluate_baseline();
  built.model->train();
  hooks->before_training(step);
  const auto start = std::chrono::steady_clock::now();
  int64_t tokens_since_log = 0;
  auto log_clock = start;
  const int64_t first_step = step;
  while (step < t.steps) {
    if (stop.stop_requested() || (opt->stop_after_step >= 0 && step >= opt->stop_after_step)) {
      checkpoint(step);
      return {RunStatus::Killed, "stopped on request at step " + std::to_string(step), step};
    }
    ++step;
    const double lr = learning_rate_at(t, step);
    for (auto& group : optimizer->param_groups()) {
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
    }
    optimizer->zero_grad();
    double loss_sum = 0.0, aux_sum = 0.0;
    const bool log_matrices =
        built.adapters && (step % t.log_matrices_every == 0 || step == t.steps);
    for (int micro = 0; micro < t.grad_accum; ++micro) {
      const auto [loss, aux] = micro_step(step, micro, lr, &tokens_since_log);
      loss_sum += loss;
      aux_sum += aux;
      if (!std::isfinite(loss)) {
        return {RunStatus::Failed,
                "loss became " + std::to_string(loss) + " at step " + std::to_string(step) +
                    "; the last good checkpoint is kept. Try a lower train.lr or enable "
                    "train.max_grad_norm",
                step - 1};
      }
      if (log_matrices && micro == t.grad_accum - 1) {
        for (auto& m : routing_records(built.adapters->routing_stats(), step)) sink->on_matrix(m);
        for (auto& m : backbone_routing_records(backbone_routing_stats(*built.model), step)) {
          sink->on_matrix(m);
        }
      }
      if (built.adapters) built.adapters->clear_caches();
      hooks->clear_caches();
      built.model->clear_router_cache();
    }
    hooks->before_clip(step);
    std::vector<torch::Tensor> params;
    for (const auto& [name, p] : built.trainable) params.push_back(p);
    const double grad_norm =
        torch::nn::utils::clip_grad_norm_(params, t.max_grad_norm > 0 ? t.max_grad_norm : 1e30);
    optimizer->step();
    hooks->after_optimizer_step(step, *optimizer);
    if (log_matrices) hooks->records(step);

    const double loss = loss_sum / t.grad_accum;
    if (step % t.log_every == 0 || step == t.steps) {
      const auto now = std::chrono::steady_clock::now();
      const double secs = std::chrono::duration<double>(now - log_clock).count();
      metric(kMetricTrainLoss, step, loss);
      metric(kMetricTrainLr, step, lr);
      metric(kMetricGradNorm, step, grad_norm);
      if (built.adapters) metric(kMetricBalanceLoss, step, aux_sum / t.grad_accum);
      if (secs > 0) metric(kMetricTokensPerS, step, static_cast<double>(tokens_since_log) / secs);
      metric(kMetricPeakMemoryMb, step,
             static_cast<double>(peak_memory_bytes(device)) / (1024.0 * 1024.0));
      tokens_since_log = 0;
      log_clock = now;
    }
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    sink->on_progress(ProgressPoint{step, t.steps, elapsed, step - first_step, loss});
    if (step % t.eval_every == 0 || step == t.steps) evaluate(step);
    if (step % t.checkpoint_every == 0 || step == t.steps) checkpoint(step);
  }
  write_outputs(step);
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
  s.cfg = &cfg;
  s.opt = &options;
  s.sink = &sink;
  s.stop = stop;
  s.device = resolve_device(cfg.train.device);
  s.base_dtype = resolve_dtype(cfg.train.dtype);
  fs::create_directories(options.run_dir);
  s.checkpoint_path = (fs::path(options.run_dir) / "checkpoint.pt").string();
  s.built = build_model(cfg, options.workspace_dir);
  s.place_model();
  s.built.model->set_gradient_checkpointing(cfg.train.gradient_checkpointing);
  // Small models: one BLAS thread per torch thread (see blas_threads.h); large GEMMs keep
  // OpenBLAS's own parallelism.
  if (s.built.shape.hidden_size < 1024) set_blas_threads(1);
  if (cfg.adapters) s.modules = canonical_module_order(cfg.adapters->target_modules);
  s.prepare_data();
  std::vector<torch::Tensor> params;
  for (const auto& [name, p] : s.built.trainable) params.push_back(p);
  s.optimizer = std::make_unique<torch::optim::AdamW>(
      params, torch::optim::AdamWOptions(cfg.train.lr)
                  .betas({cfg.train.adam_beta1, cfg.train.adam_beta2})
                  .eps(cfg.train.adam_eps)
                  .weight_decay(cfg.train.weight_decay));
  HookContext context;
  context.cfg = &cfg;
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
  s.hooks = make_training_hooks(context);
  if (options.resume) {
    // Before the run row is touched: a bad checkpoint is an error, not a FAILED run.
    const CheckpointExtras extras = s.hooks->checkpoint_extras();
    s.resumed_step = load_checkpoint(s.checkpoint_path, s.built.trainable, *s.optimizer, extras);
    s.hooks->restore(extras);
    s.log("info", "resuming from step " + std::to_string(s.resumed_step));
  }
  if (cfg.train.gradient_checkpointing && cfg.adapters && cfg.adapters->method == "moe_lora" &&
      cfg.adapters->balance.coef > 0) {
    s.log("warning",
          "train.gradient_checkpointing: the balance loss is computed from router logits of the "
          "no-grad forward, so it is logged but does not train the routers; set "
          "adapters.balance.coef=0 to make that explicit, or turn checkpointing off");
  }
  TrainResult result;
  try {
    result = s.loop();
  } catch (const c10::Error& e) {
    result = {RunStatus::Failed, e.msg(), 0};
  } catch (const std::exception& e) {
    result = {RunStatus::Failed, e.what(), 0};
  }
  sink.on_run_finished(RunFinished{result.status, result.message, result.last_step});
  sink.flush();
  return result;
}

}  // namespace apportion
