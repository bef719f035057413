// SPDX-License-Identifier: GPL-3.0-or-later
// DrLoraOptions: the knobs of the DR-LoRA rank-growth scheduler (METHODS.md §4.4, our design;
// the paper's values are unpublished) and their validation, with errors naming the config path
// `allocation.drlora.<field>`. Torch-free.
//
// Intended usage:
//   DrLoraOptions o;                         // defaults: r_init 2, r_target 8, r_max 32, …
//   o.saliency = saliency_from_string(text, "allocation.drlora.saliency");
//   o.validate();                            // ConfigError "allocation.drlora.r_init: …"
#pragma once

#include <string>

namespace apportion {

struct DrLoraConfig;

/// How routing frequency f̂ and rank importance ĝ (both normalised within the layer) combine.
enum class SaliencyMode {
  Geometric,   ///< f̂^γ · ĝ^(1−γ) (default)
  Product,     ///< f̂ · ĝ
  Sum,         ///< γ f̂ + (1−γ) ĝ
  Frequency,   ///< f̂ only (ablation)
  Importance,  ///< ĝ only (ablation)
};

/// "geometric", "product", "sum", "frequency", "importance".
const char* to_string(SaliencyMode mode);
/// Parses the string form; throws ConfigError "`path`: …" listing the accepted values.
SaliencyMode saliency_from_string(const std::string& text, const std::string& path);

/// DR-LoRA scheduler options (all our design defaults, METHODS.md §4.4).
struct DrLoraOptions {
  int r_init = 2;                                   ///< starting active rank of every expert
  int r_target = 8;                                 ///< mean rank per expert at the end (budget)
  int r_max = 32;                                   ///< allocated rank R; no expert grows beyond
  int delta_r = 2;                                  ///< rank added to an expert per growth event
  int interval = 100;                               ///< optimiser steps between growth events
  double t_warm = 0.05;                             ///< first event at ≥ t_warm · total steps
  double t_stop = 0.70;                             ///< last event at ≤ t_stop · total steps
  double beta_f = 0.9;                              ///< EMA decay of the routing frequency
  double beta_g = 0.85;                             ///< EMA decay of the rank importance
  double gamma = 0.5;                               ///< weight of f̂ in the saliency
  SaliencyMode saliency = SaliencyMode::Geometric;  ///< combination of f̂ and ĝ

  /// Range and cross-field checks; throws ConfigError naming `prefix`.<field>.
  void validate(const std::string& prefix = "allocation.drlora") const;
};

/// The scheduler options of an allocation.drlora config section (the saliency string parsed;
/// ConfigError naming allocation.drlora.saliency for an unknown one).
DrLoraOptions to_drlora_options(const DrLoraConfig& config);

}  // namespace apportion
