// SPDX-License-Identifier: GPL-3.0-or-later
// Well-known tag and metric keys, shared by writers (run store, trainer) and readers (GUI, CLI).
#pragma once

namespace apportion {

/// Tag holding the message given to RunStore::finish_run (error text, kill reason).
constexpr const char* kStatusMessageTag = "status_message";

/// The allocation_method recorded for pretraining runs (a run kind, not an allocation method).
constexpr const char* kPretrainRunLabel = "pretrain";

// Tags every run gets when it starts (trainer.cpp), read by the GUI and the CLI.

/// "pretrain" or "finetune".
constexpr const char* kKindTag = "kind";
/// Trainable (adapter) and total parameters of the built model.
constexpr const char* kTrainableParamsTag = "trainable_params";
constexpr const char* kTotalParamsTag = "total_params";
/// Adapted projections, comma-separated ("q_proj,v_proj").
constexpr const char* kModulesTag = "modules";
/// train.steps of the run.
constexpr const char* kTotalStepsTag = "total_steps";
/// Trainable parameters in use when fewer than trainable_params (rank-growing methods).
constexpr const char* kActiveParamsTag = "active_params";
/// Rank-growing methods (DR-LoRA, its static baseline, IncreLoRA): the Σ active rank the run
/// ends at (its budget).
constexpr const char* kRankBudgetTag = "rank_budget";
/// Set on both runs of a multi-stage method's pipeline, with the method's name as its value.
constexpr const char* kPipelineTag = "pipeline";

/// Experiment name used when a run starts without one.
constexpr const char* kDefaultExperimentName = "default";

// Training metrics, logged every train.log_every steps (trainer.cpp).

/// Mean training loss (LM loss, without the balance term) since the last row.
constexpr const char* kMetricTrainLoss = "train/loss";
/// Learning rate of the step.
constexpr const char* kMetricTrainLr = "train/lr";
/// Gradient norm before clipping.
constexpr const char* kMetricGradNorm = "train/grad_norm";
/// Mean LoRA-MoE balance loss (λ-weighted) since the last row.
constexpr const char* kMetricBalanceLoss = "moe/balance_loss";
/// Training throughput and the device's peak memory.
constexpr const char* kMetricTokensPerS = "perf/tokens_per_s";
constexpr const char* kMetricPeakMemoryMb = "perf/peak_memory_mb";

// Evaluation metrics of fine-tuning runs (and eval/loss of pretraining), logged every
// train.eval_every steps, at the last step and, for fine-tuning, at step 0 (the baseline).

/// Mean answer-token cross-entropy on the eval split.
constexpr const char* kMetricEvalLoss = "eval/loss";
/// Mean of the per-task accuracies.
constexpr const char* kMetricEvalAcc = "eval/acc";
/// Per-task accuracy: kMetricEvalAccPrefix + task ("eval/acc/lookup").
constexpr const char* kMetricEvalAccPrefix = "eval/acc/";

// The step-0 baseline of a fine-tuning run: the same evaluation before the first optimiser
// step, with the adapters at their initial state (LoRA B = 0: the untouched backbone; the
// GuiLoMo search supernet starts with a small random B, see trainer.cpp). Written once, at
// step 0, on a fresh start only (never on --resume), so latest_metrics holds it directly.

/// Baseline of kMetricEvalAcc (mean of the per-task accuracies).
constexpr const char* kMetricBaselineAccuracy = "baseline/accuracy";
/// Baseline of kMetricEvalLoss.
constexpr const char* kMetricBaselineLoss = "baseline/loss";
/// Per-task baseline accuracy: kMetricBaselineAccPrefix + task ("baseline/acc/lookup").
constexpr const char* kMetricBaselineAccPrefix = "baseline/acc/";
/// Step of the baseline rows (and of the step-0 eval/* rows).
constexpr long long kBaselineStep = 0;

}  // namespace apportion
