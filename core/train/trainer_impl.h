// SPDX-License-Identifier: GPL-3.0-or-later
// The trainer's private state and steps (Trainer::Impl), shared by trainer.cpp (the loop),
// trainer_data.cpp (data, batches, epochs), trainer_eval.cpp (evaluation, reported numbers,
// outputs) and trainer_dist.cpp (joining a data-parallel world, resume, the agreed end). Not a
// public header: only those four files include it.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "core/common/clock.h"
#include "core/data/batcher.h"
#include "core/data/dataset_suite.h"
#include "core/data/length_buckets.h"
#include "core/events/event_sink.h"
#include "core/tokenizer/tokenizer.h"
#include "core/train/data_parallel.h"
#include "core/train/eval_report.h"
#include "core/train/evaluator.h"
#include "core/train/model_builder.h"
#include "core/train/suite_evaluator.h"
#include "core/train/trainer.h"
#include "core/train/training_hooks.h"

namespace apportion {

struct Trainer::Impl {
  /// The run's config with train.steps resolved from train.epochs (what hooks and the loop see).
  ExperimentConfig effective;
  const ExperimentConfig* cfg = nullptr;
  const TrainOptions* opt = nullptr;
  EventSink* sink = nullptr;
  StopToken stop;
  int64_t resumed_step = 0;
  BuiltModel built;
  std::unique_ptr<torch::optim::AdamW> optimizer;
  TaskSuite suite;        // fine-tuning data
  DatasetSuite datasets;  // data.suite "datasets": eval splits, few-shot pools
  std::unique_ptr<SuiteEvaluator> suite_evaluator;
  std::unique_ptr<EvalReport> report;
  int64_t steps_per_epoch = 0;
  std::unique_ptr<LengthBucketSampler> buckets;  // data.bucket_by_length
  int64_t padding_since_log = 0, slots_since_log = 0;
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
  /// The run's ranks (data_parallel.h); a single process's no-op world by default.
  DataParallel dp;

  /// Moves the model to the run's device and casts the frozen backbone to train.dtype; adapters
  /// (and everything when pretraining) stay float32.
  void place_model();

  /// Forward pass on the run's device (autocast when asked and on CUDA); logits in float32.
  torch::Tensor forward(const Batch& batch);

  void metric(const std::string& key, int64_t step, double value) {
    sink->on_metric(MetricPoint{key, step, value, now_ms()});
  }
  void log(const std::string& level, const std::string& text) {
    sink->on_log(LogLine{level, text});
  }

  /// The backbone folder's tokenizer (tokenizer.json / tokenizer.model / the built-in byte
  /// tokenizer), or the byte tokenizer for an inline random backbone. Its ids must fit the
  /// model's vocabulary.
  std::shared_ptr<const Tokenizer> make_run_tokenizer() const;

  void prepare_data();
  /// Fills the training examples' token ids (the token cache, data.token_cache) for batching
  /// from ids and for the length buckets.
  void tokenize_training_examples();

  /// train.epochs → train.steps (in `effective`): an epoch is one pass over the training
  /// examples at micro_batch_size × grad_accum examples per step (sample_indices' epochs).
  void resolve_epochs();

  /// Whether `step` ends an evaluation period (train.eval_strategy) or the run.
  bool eval_due(int64_t step) const;

  /// Moves a seeded share (the method's holdout_fraction, e.g. allocation.guilomo.val_fraction)
  /// of the training examples into alpha_examples: the method's upper level learns on them and
  /// w never sees them.
  void split_holdout(double fraction, const std::string& path);

  RunStarted run_started() const;

  /// The training micro-batch `micro` of optimiser step `step` (a pure function of both).
  Batch train_batch(int64_t step, int micro) const;

  /// GuiLoMo's upper-level micro-batch: from the held-out split ("holdout"), or another stream of
  /// the training set ("alternate", the reference's odd batches).
  Batch val_batch(int64_t step, int micro) const;

  /// Forward + LM loss and the balance losses on a batch: {lm loss, balance loss (or undefined)}.
  std::pair<torch::Tensor, torch::Tensor> losses_on(const Batch& batch);

  /// One micro-batch forward + backward; adds its losses and token counts to `tally` and returns
  /// its LM loss.
  double micro_step(int64_t step, int micro, double lr, StepTally& tally);

  /// Connects to opt->world (when set): the process group for the run's device, the checks a
  /// data-parallel run needs, the micro-batch ownership.
  void join_world();
  /// Resume: loads the checkpoint (rank 0 from the file, the others from rank 0's bytes).
  void resume_from_checkpoint();
  /// A data-parallel end: rank 0 announces its status; the others wait for it and adopt it.
  TrainResult agree_on_end(TrainResult result, bool agreed);

  /// Logs the eval metrics at `step` and returns them (loss, mean and per-task accuracy; loss
  /// only when pretraining). Uses no random numbers: fixed example order, dropout off, greedy
  /// decoding, so an evaluation never shifts the training stream.
  EvalResult evaluate(int64_t step);

  /// The jsonl and builtin suites' evaluation: one eval list, teacher-forced or greedy
  /// generation + first regex match (data.eval_mode).
  EvalResult evaluate_single_split(int64_t step, int batch);

  /// The step-0 baseline of a fresh fine-tuning run (store_keys.h): the periodic evaluation at
  /// step 0, before any optimiser step, plus its baseline/* copies. The adapters are at their
  /// initial state: LoRA and LoRA-MoE experts start with B = 0 (lora_adapter.cpp,
  /// moe_lora_adapter.cpp), so their output is exactly zero and this is the untouched backbone
  /// (GuiLoMo retrains, MoLA, uniform, plain LoRA, DR-LoRA and its static baseline alike). The
  /// GuiLoMo search supernet is the exception: its A and B both start ~ N(0, init_std)
  /// (gsv_moe_lora_adapter.cpp, the reference's stage-1 init), so its baseline is the backbone
  /// plus a small random adapter output, the point the search starts from.
  void evaluate_baseline();

  /// protocol/<task> and split/<task> of every reported task (store_keys.h).
  void tag_protocols();

  void checkpoint(int64_t step);

  void write_outputs(int64_t step);
  void save_adapters(const std::string& name, const std::string& kind, int64_t step);
  TrainResult loop();
};

}  // namespace apportion
