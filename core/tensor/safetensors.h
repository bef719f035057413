// SPDX-License-Identifier: GPL-3.0-or-later
// A strict safetensors reader/writer (the Hugging Face format; the header is validated by
// safetensors_header.h: header size, dtype, shape × dtype size == byte range, offsets inside the
// file, no overlaps). Reading memory-maps the file: SafetensorsReader hands out tensors that
// alias the mapping (from_blob), valid while the reader lives, so a checkpoint is copied once,
// straight into the model's parameters. Errors are CheckpointErrors naming the file and tensor.
#pragma once

#include <map>
#include <memory>
#include <string>

#include <ATen/Tensor.h>

#include "core/tensor/safetensors_header.h"

namespace apportion {

class MappedFile;

/// Tensors by name plus the free-form string metadata.
struct SafetensorsFile {
  std::map<std::string, at::Tensor> tensors;
  std::map<std::string, std::string> metadata;
};

/// A validated, memory-mapped safetensors file.
class SafetensorsReader {
 public:
  /// Reads the header and maps the file. Throws CheckpointError.
  explicit SafetensorsReader(const std::string& path);
  ~SafetensorsReader();
  SafetensorsReader(const SafetensorsReader&) = delete;
  SafetensorsReader& operator=(const SafetensorsReader&) = delete;

  const SafetensorsHeader& header() const { return header_; }
  /// CPU tensor over the mapped bytes of `entry` (read-only: never write into it), or an aligned
  /// copy when the bytes are not aligned to the element size. Valid while the reader lives.
  at::Tensor view(const SafetensorsEntry& entry) const;
  /// view() by name; CheckpointError naming the file when the tensor is absent.
  at::Tensor view(const std::string& name) const;

 private:
  SafetensorsHeader header_;
  std::unique_ptr<MappedFile> map_;
};

/// Reads a whole file into owning tensors (F32, F16, BF16, I64, I32). Throws CheckpointError.
SafetensorsFile load_safetensors(const std::string& path);
/// Writes contiguous CPU copies of the tensors (sorted by name, 8-byte aligned header).
void save_safetensors(const std::string& path,
                      const std::map<std::string, at::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace apportion
