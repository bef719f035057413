// SPDX-License-Identifier: GPL-3.0-or-later
// Allocation preview for the experiment editor: reads the backbone's shape (inline
// backbone.config or <workspace>/<backbone.path>/config.json) and runs the same torch-free
// allocation strategy the trainer runs, giving experts per layer and trainable parameters.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <QDir>
#include <QString>

#include "core/allocation/expert_allocation.h"
#include "core/config/experiment_config.h"

namespace apportion::ui {

struct AllocationPreview {
  bool ok = false;       ///< false: `text` says why no preview is possible
  bool invalid = false;  ///< the allocation itself failed (the run would fail too)
  QString text;          ///< one line for the dialog
  std::vector<int> expertsPerLayer;
  int64_t trainableParameters = 0;
};

/// The adaptable shape of the config's backbone; std::nullopt (with `why`) when unknown.
std::optional<ModelShape> backboneShape(const ExperimentConfig& cfg,
                                        const QDir& workspace,
                                        QString* why = nullptr);

/// Experts per layer and trainable parameters of a validated config.
AllocationPreview previewAllocation(const ExperimentConfig& cfg, const QDir& workspace);

}  // namespace apportion::ui
