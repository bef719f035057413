// SPDX-License-Identifier: GPL-3.0-or-later
// Allocation preview for the experiment editor: reads the backbone's shape (inline
// backbone.config or <workspace>/<backbone.path>/config.json) and asks the config's method
// (core/methods, Method::summarize) for its plan: experts per layer, trainable parameters, the
// rank budget of rank-growing methods and one line of text; then the peak-memory estimate.
// Sparse-MoE folders (Mixtral, OLMoE, Qwen2-MoE config.json) fill ModelShape::backbone_experts
// through the trainer's torch-free ModelConfig parser.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <QDir>
#include <QString>

#include "core/allocation/expert_allocation.h"
#include "core/backbone/model_config.h"
#include "core/config/experiment_config.h"

namespace apportion::ui {

struct AllocationPreview {
  bool ok = false;       ///< false: `text` says why no preview is possible
  bool invalid = false;  ///< the allocation itself failed (the run would fail too)
  QString text;          ///< one line for the dialog
  std::vector<int> expertsPerLayer;
  int64_t trainableParameters = 0;
  /// Parameters held in memory when more than the trainable count (DR-LoRA allocates r_max
  /// columns of every routed expert and trains a budget of them); -1: trainableParameters.
  int64_t allocatedParameters = -1;
  /// Rank-growing methods: Σ active rank at the end (PlanSummary::rank_budget), else 0.
  int64_t rankBudget = 0;
  /// Peak-memory estimate of a run of this config (core/estimate), -1 when unknown, and one
  /// line describing it ("Peak memory ≈ … : … weights + …").
  int64_t peakMemoryBytes = -1;
  QString memoryText;
};

/// The adaptable shape of an HF config.json object, with the sparse-MoE fields filled in (the
/// trainer's ModelConfig parser); ModelError/ConfigError naming `where` for a bad config.
ModelShape shapeFromHfConfig(const nlohmann::json& j, const std::string& where);

/// The config's backbone (inline backbone.config or its folder's config.json); std::nullopt
/// (with `why`) when unknown.
std::optional<ModelConfig> backboneConfig(const ExperimentConfig& cfg,
                                          const QDir& workspace,
                                          QString* why = nullptr);

/// The adaptable shape of the config's backbone; std::nullopt (with `why`) when unknown.
std::optional<ModelShape> backboneShape(const ExperimentConfig& cfg,
                                        const QDir& workspace,
                                        QString* why = nullptr);

/// Experts per layer, trainable parameters and the peak-memory estimate of a validated config.
AllocationPreview previewAllocation(const ExperimentConfig& cfg, const QDir& workspace);

}  // namespace apportion::ui
