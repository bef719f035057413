// SPDX-License-Identifier: GPL-3.0-or-later
// Adapter files: export and import of trained adapters in two folder formats, plus the run's own
// adapters.safetensors.
//   PEFT (plain LoRA): adapter_model.safetensors with peft's key names
//     (base_model.model.<module>.lora_A.weight [r, in], .lora_B.weight [out, r]) and an
//     adapter_config.json as peft writes it; loadable with PeftModel.from_pretrained.
//   LoRA-MoE layout (docs/ADAPTER_FORMAT.md): adapter_model.safetensors with unstacked experts
//     (<module>.router.weight, <module>.experts.<i>.lora_A.weight, …), apportion_adapter.json
//     (format, method, α, dropout, top-k, scaling mode) and allocation.json (ranks per expert).
// Imports are strict: every tensor must map to an existing projection with the expected shape,
// nothing may be left over, and errors (CheckpointError for weights, ConfigError for JSON) name
// the file and the key.
//
// Intended usage:
//   save_peft_adapter(model, adapters, "out/peft", export_options_from(*cfg.adapters, path));
//   TransformerLM fresh = load_pretrained(backbone_dir);
//   LoadedAdapter a = load_adapter(fresh, "out/peft");   // detects the format
//   std::cout << adapter_summary(a).dump(2);
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/adapters/adapter_injector.h"

namespace apportion {

/// Folder format of an exported adapter.
enum class AdapterFormat {
  Peft,     ///< adapter_config.json (peft LoRA)
  LoraMoe,  ///< apportion_adapter.json + allocation.json
};

/// Version of the LoRA-MoE layout written by save_lora_moe_adapter.
inline constexpr int kLoraMoeFormatVersion = 1;

/// What the exported config files record beyond the tensors.
struct AdapterExportOptions {
  std::string base_model_name_or_path;      ///< written as is; null when empty
  std::string method = "lora";              ///< "lora" or "moe_lora" (the run's adapters.method)
  std::vector<std::string> target_modules;  ///< normalised names (q_proj … down_proj)
  int r = 8;                                ///< the config's rank (adapters.r)
  double lora_alpha = 16.0;
  double lora_dropout = 0.0;
};

/// Export options from a run's adapter config and its backbone path.
AdapterExportOptions export_options_from(const AdapterConfig& cfg,
                                         const std::string& base_model_name_or_path);

/// Writes `dir`/adapter_model.safetensors + adapter_config.json. Only plain LoRA adapters (a
/// LoRA-MoE adapter is a ConfigError); per-module ranks and scalings that differ from the most
/// common ones go into rank_pattern / alpha_pattern; only the active rank columns are written;
/// trained backbone routers go into modules_to_save.
void save_peft_adapter(TransformerLM& model,
                       const AdapterSet& set,
                       const std::string& dir,
                       const AdapterExportOptions& options);

/// Writes the LoRA-MoE layout (any mix of LoRA-MoE and plain LoRA adapters) into `dir`.
void save_lora_moe_adapter(TransformerLM& model,
                           const AdapterSet& set,
                           const std::string& dir,
                           const AdapterExportOptions& options);

/// An adapter folder loaded onto a model.
struct LoadedAdapter {
  AdapterFormat format = AdapterFormat::Peft;
  std::string method;  ///< "lora" or "moe_lora"
  std::string base_model_name_or_path;
  AdapterSet set;  ///< the adapters, now set on the model's projections
};

/// Loads a PEFT LoRA folder onto `model` (replacing adapters on the projections it names).
LoadedAdapter load_peft_adapter(TransformerLM& model, const std::string& dir);
/// Loads a LoRA-MoE layout folder onto `model`.
LoadedAdapter load_lora_moe_adapter(TransformerLM& model, const std::string& dir);
/// Detects the format (adapter_config.json or apportion_adapter.json) and loads it.
LoadedAdapter load_adapter(TransformerLM& model, const std::string& dir);

/// Copies a run's adapters.safetensors (keys as AdapterSet::named_parameters) into the set's
/// tensors. CheckpointError naming the file and key on a missing, extra or mis-shaped tensor.
void load_adapter_weights(const AdapterSet& set, const std::string& path);

/// "lora" when every adapter is plain LoRA, else "moe_lora".
std::string adapter_method(const AdapterSet& set);

/// A JSON summary: projections, normalised modules, LoRA / LoRA-MoE counts, experts, distinct
/// ranks, parameter count, trained backbone parameters.
nlohmann::json adapter_summary(const AdapterSet& set);

}  // namespace apportion
