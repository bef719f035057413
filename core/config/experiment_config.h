// SPDX-License-Identifier: GPL-3.0-or-later
// ExperimentConfig: the one experiment JSON (backbone, adapters, allocation, data, train, seed)
// as plain structs, with a strict parser (unknown keys, wrong types and out-of-range values are
// ConfigErrors naming the JSON path), cross-field validation and `--set key=value` overrides.
//
// Intended usage:
//   nlohmann::json j = load_json_file(path);              // ConfigError names the file/offset
//   apply_overrides(j, {"train.lr=3e-4"});                 // patches JSON before parsing
//   ExperimentConfig cfg = ExperimentConfig::from_json(j); // strict parse + validate()
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/datasets/dataset_spec.h"

namespace apportion {

/// Where the frozen backbone comes from.
struct BackboneConfig {
  /// Folder with config.json + model.safetensors (HF layout). Relative paths are resolved
  /// against the workspace (the folder holding the run database). Empty when `config` is set.
  std::string path;
  /// Inline HF-style config.json for a randomly initialised backbone (pretraining, tests).
  nlohmann::json config;  // null when `path` is used
  /// Pretraining only: folder the trained backbone is written to (relative to the workspace).
  std::string output;
};

/// Load-balancing auxiliary loss of the LoRA-MoE layers (METHODS.md §1.4).
struct BalanceConfig {
  double coef = 1e-3;               ///< λ; 0 disables the loss
  std::string scope = "layer";      ///< "layer" (MoLA) or "module" (GuiLoMo stage 2)
  bool multiply_by_experts = true;  ///< multiply each term by N (MoLA) or not
};

/// Adapter family and its hyperparameters (peft names where they exist).
struct AdapterConfig {
  std::string method = "moe_lora";  ///< "lora" (plain LoRA baseline) or "moe_lora"
  std::vector<std::string> target_modules = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                             "gate_proj", "up_proj", "down_proj"};
  int r = 8;                   ///< rank of each expert (default for all)
  double lora_alpha = 16.0;    ///< scaling numerator: scale = lora_alpha / r_i
  double lora_dropout = 0.05;  ///< dropout on the adapter input
  int num_experts = 4;         ///< experts per layer when allocation.method == uniform
  int top_k = 2;               ///< experts per token (≤ experts of every layer)
  BalanceConfig balance;
  /// Sparse-MoE backbones: train the pretrained router (`…gate.weight`) alongside the adapters
  /// (METHODS.md §4.4; default frozen).
  bool train_backbone_router = false;
  /// peft's layers_to_transform: the decoder layers (0-based, no duplicates) that get adapters;
  /// the others keep their frozen base projections (and router) and get 0 experts in the
  /// allocation. Empty = every layer (JSON: the key omitted; an empty list is an error).
  /// Uniform, MoLA and plain LoRA only (validate() rejects it for guilomo, drlora and
  /// static_frequency).
  std::vector<int> layers_to_transform;
  /// True when decoder layer `layer` gets adapters (layers_to_transform empty or listing it).
  bool adapts_layer(int layer) const;
  /// True for plain LoRA adapters (adapters.method "lora": one rank-r adapter, no router).
  bool plain_lora() const { return method == "lora"; }
};

/// ConfigError "adapters.layers_to_transform[i]: layer L out of range (the backbone has N
/// layers)" unless every listed layer is below `num_layers` (checked at validation when the
/// inline backbone.config gives num_hidden_layers, else when the model is built).
void check_layers_to_transform(const std::vector<int>& layers, int num_layers);

/// GuiLoMo (METHODS.md §3): the stage-1 GSV search, the readout and the stage-2 retrain.
/// JSON: allocation.guilomo.
struct GuiLoMoConfig {
  /// "pipeline" (search, then retrain with the found allocation: two linked runs), "search"
  /// (stage 1 only) or "retrain" (stage 2 only, from allocation_file).
  std::string stage = "pipeline";
  int n_max = 8;                                ///< expert slots per module in the supernet
  int r_max = 8;                                ///< rank slots per expert in the supernet
  int search_steps = 0;                         ///< optimiser steps of the search; 0 = train.steps
  std::string architect_mode = "second_order";  ///< "first_order", "second_order", "reference"
  /// Data of the upper level: "holdout" (val_fraction of the training examples are held out
  /// for the GSVs; w never sees them) or "alternate" (the reference: alternate mini-batches of
  /// the same training set).
  std::string split = "holdout";
  double val_fraction = 0.2;        ///< holdout: share of the training examples held out
  double alpha_lr = 3e-3;           ///< GSV AdamW (METHODS.md §3.3)
  double alpha_beta1 = 0.5;         ///<
  double alpha_beta2 = 0.999;       ///<
  double alpha_eps = 1e-8;          ///<
  double alpha_weight_decay = 0.0;  ///<
  double hvp_r = 0.01;              ///< R = hvp_r / ‖v‖ of the finite-difference HVP
  bool hvp_same_noise = true;       ///< second_order: the w ± Rv passes replay the dropout masks
  /// Micro-batches per architect round (docs/DISTRIBUTED.md): the GSV gradients of a round's K
  /// micro-batches are all taken at the GSVs of the round's start, then applied as K α-steps in
  /// micro-batch order. 1: the sequential search (one α-step before each micro-batch); 0: the
  /// number of data-parallel ranks (1 in one process). Must divide train.grad_accum.
  int architect_round = 0;
  double init_std = 0.02;  ///< stage-1 A, B ~ N(0, init_std)
  /// "argmax" (N = max(2, argmax + 1), r = argmax + 1) or "budget_matched" (ranks rescaled to
  /// a trainable-parameter target, our design).
  std::string readout = "argmax";
  std::string budget_preset;       ///< budget_matched: match this MoLA preset's parameter count
  uint64_t budget_parameters = 0;  ///< budget_matched: explicit target (wins over the preset)
  /// Stage-2 scaling: "per_expert" (α / r_i) or "reference" (α / rank of the module's last
  /// expert for all its experts, METHODS.md §3.6).
  std::string scaling = "per_expert";
  /// Retrain: the allocation, as our guilomo_allocation.json or a folder holding the reference
  /// code's expert.json + rank.json (relative paths: to the workspace).
  std::string allocation_file;
  std::string search_run;  ///< retrain: id of the search run it came from (a link, optional)
};

/// DR-LoRA (METHODS.md §4.4) and its static-frequency baseline. JSON: allocation.drlora.
struct DrLoraConfig {
  int r_init = 2;                      ///< starting active rank of every expert
  int r_target = 8;                    ///< mean rank per expert at the end: budget L·N·r_target
  int r_max = 32;                      ///< allocated rank; no expert grows beyond
  int delta_r = 2;                     ///< rank added per growth
  int interval = 100;                  ///< optimiser steps between growth events
  double t_warm = 0.05;                ///< growth window start (share of train.steps)
  double t_stop = 0.70;                ///< growth window end
  double beta_f = 0.9;                 ///< routing-frequency EMA decay
  double beta_g = 0.85;                ///< rank-importance EMA decay
  double gamma = 0.5;                  ///< weight of the frequency in the saliency
  std::string saliency = "geometric";  ///< geometric, product, sum, frequency, importance
  int calibration_batches = 8;         ///< static_frequency: batches of the calibration pass
};

/// How many experts each layer gets (MoLA presets, explicit lists) or which allocation method
/// decides it while training (GuiLoMo, DR-LoRA).
struct AllocationConfig {
  /// "uniform", "mola", "guilomo", "drlora" or "static_frequency" (DR-LoRA's baseline).
  std::string method = "uniform";
  std::string preset;                  ///< mola: "2468", "8642", "diamond", "uniform"
  std::vector<int> experts_per_layer;  ///< explicit per-layer counts (overrides preset)
  std::vector<int> top_k_per_layer;    ///< optional per-layer top-k (else adapters.top_k)
  GuiLoMoConfig guilomo;
  DrLoraConfig drlora;
  /// The sections of methods that keep their settings to themselves (core/methods/<method>/),
  /// by section key, as those methods normalised them (every default written out).
  std::map<std::string, nlohmann::json> sections;
};

/// The data a run trains on: the embedded task suite, the pretraining corpus, or instruction
/// data from JSON Lines files (Alpaca fields instruction/input/output[/answer]).
struct DataConfig {
  std::string suite = "builtin";  ///< "builtin" (generated tasks) or "jsonl" (files)
  std::vector<std::string> tasks = {"lookup", "arithmetic", "facts"};
  int train_examples = 2000;     ///< training examples (builtin: spread over tasks; jsonl: at most)
  int eval_examples = 150;       ///< evaluation examples (builtin: spread; jsonl: at most)
  int max_seq_len = 96;          ///< cutoff length in tokens (incl. BOS/EOS)
  bool train_on_inputs = false;  ///< include the prompt in the loss (MoLA: true)
  uint64_t seed = 1;             ///< seed of the generated suite (facts, splits)
  // jsonl suite
  std::string train_file;                ///< JSON Lines training file (relative: to the workspace)
  std::string eval_file;                 ///< JSON Lines eval file; empty: hold out eval_examples
  std::string task;                      ///< task name for per-task metrics (default: file stem)
  std::string template_name = "alpaca";  ///< prompt template: "alpaca" or "none" (JSON: template)
  bool add_eos = true;                   ///< append the tokenizer's EOS to every example
  // evaluation
  std::string eval_mode = "teacher_forced";  ///< "teacher_forced" or "generate" (regex extraction)
  std::string answer_pattern = "The answer is ([A-Z])";  ///< regex, group 1 is the answer
  int max_new_tokens = 32;                               ///< generate mode: tokens per answer
  // datasets suite (core/datasets/dataset_spec.h)
  std::vector<DatasetSpec> datasets;
  std::string root;                ///< folder dataset paths are relative to (empty: workspace)
  std::string mixture = "concat";  ///< "concat" (all examples) or "weighted" (by weight)
  bool bucket_by_length = false;   ///< build training micro-batches from length buckets
  bool token_cache = true;         ///< cache tokenised datasets under <workspace>/cache/tokens
};

/// Optimiser, schedule and logging cadence.
struct TrainConfig {
  int steps = 200;    ///< optimiser steps (unless epochs > 0)
  double epochs = 0;  ///< > 0: passes over the training data, resolved to steps at start
  int micro_batch_size = 16;
  int grad_accum = 1;  ///< micro-batches per optimiser step
  double lr = 2e-3;
  double weight_decay = 0.0;
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_eps = 1e-8;
  int warmup_steps = 10;
  std::string schedule = "cosine";      ///< "cosine", "linear" or "constant"
  double min_lr_ratio = 0.1;            ///< final lr = lr * min_lr_ratio (cosine/linear)
  double max_grad_norm = 1.0;           ///< ≤ 0 disables clipping
  int eval_every = 50;                  ///< steps between evaluations (and at the end)
  std::string eval_strategy = "steps";  ///< "steps" (eval_every) or "epoch" (end of each)
  /// Which evaluation the reported numbers come from: "last", "best_validation" (best mean
  /// validation accuracy; needs a validation split) or "best_test" (refused unless
  /// allow_best_on_test, and tagged).
  std::string checkpoint_rule = "last";
  bool allow_best_on_test = false;
  int log_every = 5;                    ///< steps between scalar metric rows
  int log_matrices_every = 20;          ///< steps between matrix records (routing load, …)
  int checkpoint_every = 100;           ///< steps between checkpoints (and at stop/end)
  std::string device = "cpu";           ///< "cpu" or "cuda[:N]"
  std::string dtype = "float32";        ///< base weights: "float32", "bfloat16" or "float16"
  bool autocast = false;                ///< mixed precision (CUDA autocast) around the forward
  bool gradient_checkpointing = false;  ///< recompute each decoder layer in the backward
};

/// A whole experiment.
struct ExperimentConfig {
  int schema_version = 1;
  std::string name;  ///< experiment name (groups runs in the store)
  std::string description;
  BackboneConfig backbone;
  std::optional<AdapterConfig> adapters;  ///< absent for pretraining
  AllocationConfig allocation;
  DataConfig data;
  TrainConfig train;
  uint64_t seed = 0;

  /// Strict parse followed by validate(). Throws ConfigError naming the JSON path.
  static ExperimentConfig from_json(const nlohmann::json& j);
  /// Cross-field checks (top_k ≤ experts, r > 0, …). Throws ConfigError naming the path.
  void validate() const;
  /// Full JSON with every default written out (what the run stores).
  nlohmann::json to_json() const;
  /// True when this config describes pretraining (no adapters, backbone.output set).
  bool is_pretraining() const { return !adapters.has_value(); }
};

/// Reads and parses a JSON file; ConfigError names the file, line and column on syntax errors.
nlohmann::json load_json_file(const std::string& path);

/// Applies `key=value` overrides (dotted paths; value parsed as JSON, else taken as a string).
/// Throws ConfigError for a malformed override or a path through a non-object.
void apply_overrides(nlohmann::json& j, const std::vector<std::string>& overrides);

/// Flattens a JSON tree into dotted-path → compact JSON text (the run store's params).
std::map<std::string, std::string> flatten_json(const nlohmann::json& j);

}  // namespace apportion
