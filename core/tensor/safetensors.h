// SPDX-License-Identifier: GPL-3.0-or-later
// A strict safetensors reader/writer (the Hugging Face format: u64 little-endian header size,
// JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then raw data).
// Every header size, dtype, shape and offset is bounds-checked; errors are CheckpointErrors
// naming the file, the tensor and what is wrong.
#pragma once

#include <map>
#include <string>

#include <ATen/Tensor.h>

namespace apportion {

/// Tensors by name plus the free-form string metadata.
struct SafetensorsFile {
  std::map<std::string, at::Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

/// Reads a whole file (F32, F16, BF16, I64, I32 supported). Throws CheckpointError.
SafetensorsFile load_safetensors(const std::string& path);
/// Writes contiguous CPU copies of the tensors (sorted by name, 8-byte aligned header).
void save_safetensors(const std::string& path,
                      const std::map<std::string, at::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace apportion
