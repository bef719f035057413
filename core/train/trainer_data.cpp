// SPDX-License-Identifier: GPL-3.0-or-later
// The trainer's data side: the run's tokenizer, the suites (builtin, jsonl, datasets), the
// method's holdout split, train.epochs resolved to steps, the evaluation cadence, and the
// training and upper-level micro-batches (pure functions of the step).
#include <chrono>
#include <cmath>
#include <filesystem>

#include "core/backbone/model_folder_check.h"
#include "core/common/error.h"
#include "core/data/jsonl_dataset.h"
#include "core/data/token_cache.h"
#include "core/distributed/dist_world.h"
#include "core/methods/method_registry.h"
#include "core/store/store_keys.h"
#include "core/tokenizer/builtin_byte_tokenizer.h"
#include "core/train/method_runtime.h"
#include "core/train/trainer_impl.h"

namespace apportion {
namespace fs = std::filesystem;

/// The backbone folder's tokenizer (tokenizer.json / tokenizer.model / the built-in byte
/// tokenizer), or the byte tokenizer for an inline random backbone. Its ids must fit the
/// model's vocabulary.
std::shared_ptr<const Tokenizer> Trainer::Impl::make_run_tokenizer() const {
  std::shared_ptr<const Tokenizer> tok;
  if (!cfg->backbone.path.empty()) {
    tok = load_tokenizer(resolve_workspace_path(opt->workspace_dir, cfg->backbone.path));
  } else {
    tok = std::make_shared<tok::BuiltinByteTokenizer>();
  }
  check_tokenizer_fits_model(*tok, built.model->config(),
                             cfg->backbone.path.empty() ? "backbone" : cfg->backbone.path);
  return tok;
}

void Trainer::Impl::tokenize_training_examples() {
  const DataConfig& d = cfg->data;
  if (!d.token_cache) {
    tokenize_examples(suite.train, *tokenizer);
    return;
  }
  // The key: the data files' contents, every dataset spec, the mixture and its seed, and the
  // tokenizer's files. The cache file itself also checks the texts, so a stale key is harmless.
  std::string material = "apportion-token-cache-v1\n" + std::to_string(d.seed) + "\n" + d.mixture +
                         "\n" + std::to_string(d.add_eos) + "\n";
  for (const DatasetSpec& ds : d.datasets) {
    material += dataset_spec_to_json(ds).dump() + "\n";
    if (!ds.train.empty()) {
      material += sha256_hex_of_file(resolve_dataset_path(d, opt->workspace_dir, ds.train)) + "\n";
    }
  }
  const std::string backbone = cfg->backbone.path.empty()
                                   ? std::string()
                                   : resolve_workspace_path(opt->workspace_dir, cfg->backbone.path);
  material += tokenizer_fingerprint(backbone);
  const std::string dir =
      (fs::path(opt->workspace_dir.empty() ? "." : opt->workspace_dir) / "cache" / "tokens")
          .string();
  const auto start = std::chrono::steady_clock::now();
  const TokenCacheOutcome outcome =
      tokenize_with_cache(suite.train, *tokenizer, dir, sha256_hex(material));
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::string what = outcome == TokenCacheOutcome::kHit       ? "read from the cache"
                           : outcome == TokenCacheOutcome::kWritten ? "tokenised and cached"
                                                                    : "tokenised (the cache "
                                                                      "could not be written)";
  log("info", "data: " + std::to_string(suite.train.size()) + " training examples " + what +
                  " in " + std::to_string(secs) + " s (" + dir + ")");
}

void Trainer::Impl::prepare_data() {
  const DataConfig& d = cfg->data;
  const bool pretrain = cfg->is_pretraining();
  tokenizer = make_run_tokenizer();
  batcher = std::make_unique<Batcher>(tokenizer, d.max_seq_len, pretrain ? true : d.train_on_inputs,
                                      d.add_eos);
  eval_batcher = std::make_unique<Batcher>(tokenizer, d.max_seq_len, false, d.add_eos);
  if (pretrain) {
    auto docs = make_pretraining_corpus(d, d.train_examples + d.eval_examples);
    eval_corpus.assign(docs.end() - d.eval_examples, docs.end());
    docs.resize(static_cast<size_t>(d.train_examples));
    corpus = std::move(docs);
  } else if (d.suite == "datasets") {
    datasets = load_dataset_suite(d, opt->workspace_dir);
    suite.train = std::move(datasets.train);
    for (const auto& line : datasets.summary) log("info", "data: " + line);
    if (d.token_cache || d.bucket_by_length) tokenize_training_examples();
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
  if (!pretrain && d.bucket_by_length) {
    buckets = std::make_unique<LengthBucketSampler>(token_lengths(suite.train, d.add_eos),
                                                    cfg->train.micro_batch_size,
                                                    cfg->train.grad_accum, d.seed ^ cfg->seed);
  }
  resolve_epochs();
}

/// train.epochs → train.steps (in `effective`): an epoch is one pass over the training
/// examples at micro_batch_size × grad_accum examples per step (sample_indices' epochs).
void Trainer::Impl::resolve_epochs() {
  TrainConfig& t = effective.train;
  const auto n = static_cast<int64_t>(cfg->is_pretraining() ? corpus.size() : suite.train.size());
  const int64_t per_step = static_cast<int64_t>(t.micro_batch_size) * t.grad_accum;
  steps_per_epoch = std::max<int64_t>(1, (n + per_step - 1) / per_step);
  if (t.epochs <= 0) return;
  const double steps = std::ceil(t.epochs * static_cast<double>(n) / static_cast<double>(per_step));
  if (steps > 1e8) {
    throw ConfigError("train.epochs: " + std::to_string(t.epochs) + " epochs of " +
                      std::to_string(n) + " examples is " + std::to_string(steps) +
                      " steps; lower train.epochs");
  }
  t.steps = std::max(1, static_cast<int>(steps));
  log("info", "train.epochs " + std::to_string(t.epochs) + ": " + std::to_string(t.steps) +
                  " steps (" + std::to_string(steps_per_epoch) + " per epoch of " +
                  std::to_string(n) + " examples)");
}

/// Whether `step` ends an evaluation period (train.eval_strategy) or the run.
bool Trainer::Impl::eval_due(int64_t step) const {
  const TrainConfig& t = cfg->train;
  if (step == t.steps) return true;
  if (t.eval_strategy == "epoch") return step % steps_per_epoch == 0;
  return step % t.eval_every == 0;
}

/// Moves a seeded share (the method's holdout_fraction, e.g. allocation.guilomo.val_fraction)
/// of the training examples into alpha_examples: the method's upper level learns on them and
/// w never sees them.
void Trainer::Impl::split_holdout(double fraction, const std::string& path) {
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

RunStarted Trainer::Impl::run_started() const {
  RunStarted e;
  e.run_id = opt->run_id;
  e.experiment_name = cfg->name.empty() ? "default" : cfg->name;
  e.run_name = opt->run_name.empty() ? e.experiment_name : opt->run_name;
  e.config_json = opt->config_json;
  e.allocation_method = cfg->is_pretraining() ? kPretrainRunLabel : method_of(*cfg).run_label(*cfg);
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
  e.tags[kEpochStepsTag] = std::to_string(steps_per_epoch);
  e.tags[kTrainExamplesTag] =
      std::to_string(cfg->is_pretraining() ? corpus.size() : suite.train.size());
  if (opt->world != nullptr) {
    // A data-parallel run says so: world size, backend and launcher (docs/DISTRIBUTED.md).
    e.tags["dist/world_size"] = std::to_string(opt->world->world_size());
    e.tags["dist/backend"] = opt->world->backend();
    e.tags["dist/launcher"] = opt->world->env().source;
  }
  e.resumed = opt->resume;
  return e;
}

/// The training micro-batch `micro` of optimiser step `step` (a pure function of both).
Batch Trainer::Impl::train_batch(int64_t step, int micro) const {
  const TrainConfig& t = cfg->train;
  const bool pretrain = cfg->is_pretraining();
  const int64_t n =
      pretrain ? static_cast<int64_t>(corpus.size()) : static_cast<int64_t>(suite.train.size());
  const auto indices = buckets ? buckets->indices(step, micro)
                               : sample_indices(n, t.micro_batch_size, cfg->data.seed ^ cfg->seed,
                                                step, micro, t.grad_accum);
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
Batch Trainer::Impl::val_batch(int64_t step, int micro) const {
  const TrainConfig& t = cfg->train;
  const auto& pool = alpha_examples.empty() ? suite.train : alpha_examples;
  const auto indices =
      sample_indices(static_cast<int64_t>(pool.size()), t.micro_batch_size,
                     (cfg->data.seed ^ cfg->seed) + 0x9e3779b9u, step, micro, t.grad_accum);
  std::vector<const Example*> rows;
  for (auto i : indices) rows.push_back(&pool[static_cast<size_t>(i)]);
  return batcher->make_batch(rows);
}

}  // namespace apportion
