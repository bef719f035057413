// SPDX-License-Identifier: GPL-3.0-or-later
// IncreLoRA's config section, allocation.increlora (torch-free; the torch row reads it too), and
// the keys of what it records.
//
// Intended usage:
//   IncreLoraOptions o = increlora_options(cfg);   // defaults when the section is absent
//   o.validate();                                   // ConfigError naming allocation.increlora.*
#pragma once

#include <nlohmann/json.hpp>

#include "core/config/experiment_config.h"

namespace apportion {

/// Rank growth of plain LoRAs (Zhang et al., "IncreLoRA: Incremental Parameter Allocation
/// Method for Parameter-Efficient Fine-tuning", 2023), the non-MoE ablation of DR-LoRA: every
/// adapted projection's LoRA is allocated at r_max and starts at r_init active components; at
/// growth events the LoRAs with the highest AdaLoRA-style importance get delta_r more, until the
/// budget (units × r_target active components) is spent. Events as DR-LoRA's schedule.
struct IncreLoraOptions {
  int r_init = 2;        ///< active rank of every LoRA at the start
  int r_target = 8;      ///< mean active rank at the end (the budget); scaling α / r_target
  int r_max = 16;        ///< allocated rank; no LoRA grows beyond
  int delta_r = 2;       ///< rank added to a LoRA per growth
  int interval = 100;    ///< optimiser steps between growth events
  double t_warm = 0.05;  ///< growth window start (share of train.steps)
  double t_stop = 0.70;  ///< growth window end
  double beta1 = 0.85;   ///< AdaLoRA's sensitivity EMA
  double beta2 = 0.85;   ///< AdaLoRA's uncertainty EMA
  void validate() const;
};

IncreLoraOptions parse_increlora_options(const nlohmann::json& j);
nlohmann::json increlora_options_json(const IncreLoraOptions& o);
IncreLoraOptions increlora_options(const ExperimentConfig& cfg);

constexpr const char* kIncreLoraSection = "increlora";
/// i32 [layer, module]: active rank of each LoRA (routed experts: their mean, rounded down).
constexpr const char* kIncreLoraRank = "increlora/rank";
/// f32 [layer, module]: importance score Ī·Ū (mean over the active components).
constexpr const char* kIncreLoraScore = "increlora/score";

}  // namespace apportion
