// SPDX-License-Identifier: GPL-3.0-or-later
// Helpers shared by the adapter file formats (adapter_io.cpp, peft_format.cpp,
// lora_moe_format.cpp): projection lookup by HF name, strict JSON field access with errors that
// name the file and key, tensor copies and shape strings. Internal to core/adapters.
#pragma once

#include <map>
#include <string>

#include <ATen/Tensor.h>
#include <nlohmann/json.hpp>

#include "core/adapters/adapter_injector.h"

namespace apportion::adapter_io {

/// The model's projections by HF prefix (model.layers.0.self_attn.q_proj, …).
std::map<std::string, ProjectionSlot> slots_by_name(TransformerLM& model);

/// An InjectedAdapter describing `slot` (no adapter attached yet).
InjectedAdapter injected_for(const ProjectionSlot& slot);

/// Reads a JSON object file; ConfigError naming the file when missing, malformed or not an object.
nlohmann::json read_json_object(const std::string& path);
/// Writes `j` with 2-space indentation and sorted keys.
void write_json(const std::string& path, const nlohmann::json& j);

/// The field `key` of `j`; ConfigError "<file>: missing field \"key\" …" when absent.
const nlohmann::json& require_field(const nlohmann::json& j,
                                    const std::string& key,
                                    const std::string& file);
/// `j[key]` as a positive integer / a number / a string; ConfigError naming file and key.
int positive_int_field(const nlohmann::json& j, const std::string& key, const std::string& file);
double number_field(const nlohmann::json& j, const std::string& key, const std::string& file);
std::string string_field(const nlohmann::json& j, const std::string& key, const std::string& file);

/// A number as JSON: an integer when it is one (peft writes lora_alpha 16, not 16.0).
nlohmann::json json_number(double v);

/// "[4, 32]".
std::string shape_string(at::IntArrayRef sizes);

/// Copies `src` (any float dtype, any device) into the parameter `dst` without autograd.
/// CheckpointError naming `file` and `key` when the shapes differ or src is not floating point.
void copy_checked(const at::Tensor& dst,
                  const at::Tensor& src,
                  const std::string& file,
                  const std::string& key);

/// A contiguous float32 CPU copy (for writing).
at::Tensor cpu_f32(const at::Tensor& t);

}  // namespace apportion::adapter_io
