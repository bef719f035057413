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
/// What resumes with --set changed: "key: old → new; …", one " | "-separated entry per resume.
constexpr const char* kResumeChangedTag = "resume/changed";
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

/// Per-task parse failures of a generation protocol (no match, or more than one for
/// mola_regex), counted wrong: kMetricEvalParseFailPrefix + task (a count).
constexpr const char* kMetricEvalParseFailPrefix = "eval/parse_failures/";
/// mc_loglik's length-normalised accuracy per task: kMetricEvalAccNormPrefix + task.
constexpr const char* kMetricEvalAccNormPrefix = "eval/acc_norm/";
/// Validation splits (role "validation", data.suite "datasets"): mean and per-task accuracy.
constexpr const char* kMetricValAcc = "val/acc";
constexpr const char* kMetricValAccPrefix = "val/acc/";
/// The evaluation protocol id of each task's test split: kProtocolTagPrefix + task
/// (core/scoring/protocol.h); each predictions line repeats it.
constexpr const char* kProtocolTagPrefix = "protocol/";
/// The split each task's reported numbers come from: kEvalSplitTagPrefix + task ("test").
constexpr const char* kEvalSplitTagPrefix = "split/";

// The reported numbers (train.checkpoint_rule), written once when the run finishes: the test
// splits' accuracies at the chosen evaluation.

/// The rule: "last", "best_validation" or "best_test" (the latter only with
/// train.allow_best_on_test, and then also tagged kBestOnTestTag = "true").
constexpr const char* kReportRuleTag = "report/rule";
constexpr const char* kBestOnTestTag = "report/best_on_test";
/// The step whose evaluation is reported.
constexpr const char* kReportStepTag = "report/step";
/// Mean and per-task reported accuracy (and acc_norm for mc_loglik tasks).
constexpr const char* kMetricReportAcc = "report/acc";
constexpr const char* kMetricReportAccPrefix = "report/acc/";
constexpr const char* kMetricReportAccNormPrefix = "report/acc_norm/";

// Data metrics.

/// Share of padding tokens in the training micro-batches since the last row.
constexpr const char* kMetricPaddingFraction = "data/padding_fraction";
/// train.epochs resolved to steps, and the examples one epoch has.
constexpr const char* kEpochStepsTag = "steps_per_epoch";
constexpr const char* kTrainExamplesTag = "train_examples";

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
