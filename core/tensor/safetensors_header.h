// SPDX-License-Identifier: GPL-3.0-or-later
// The header of a safetensors file, read and validated without touching the tensor data (so a
// model can be inspected, or a load planned, from headers alone). Torch-free.
// Layout: u64 little-endian header length n, n bytes of JSON {name: {dtype, shape,
// data_offsets: [begin, end]}, "__metadata__": {str: str}}, then the data section; offsets are
// relative to the start of the data section. Every size, dtype, shape and offset is checked
// (bytes = numel · itemsize, offsets inside the data section, no overlaps); failures are
// CheckpointErrors naming the file and the tensor.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace apportion {

/// One validated tensor entry of a safetensors header.
struct SafetensorsEntry {
  std::string name;
  std::string dtype;           ///< "F32", "F16", "BF16", "I64" or "I32"
  int64_t itemsize = 0;        ///< bytes per element
  std::vector<int64_t> shape;  ///< may be empty (a scalar)
  uint64_t begin = 0;          ///< byte range in the data section
  uint64_t end = 0;
  /// Number of elements (1 for a scalar).
  int64_t numel() const;
};

/// A parsed header plus where the data section lies in the file.
struct SafetensorsHeader {
  std::string path;
  uint64_t file_size = 0;
  uint64_t data_start = 0;                ///< 8 + header length
  std::vector<SafetensorsEntry> entries;  ///< sorted by name
  std::map<std::string, std::string> metadata;
  /// The entry called `name`, or nullptr.
  const SafetensorsEntry* find(const std::string& name) const;
};

/// Reads and validates the header of `path`. Throws CheckpointError naming the file/tensor.
SafetensorsHeader read_safetensors_header(const std::string& path);

/// The dtype names read_safetensors_header accepts.
const std::vector<std::string>& safetensors_dtype_names();
/// Bytes per element of a supported dtype name, 0 when unsupported.
int64_t safetensors_itemsize(const std::string& dtype);

}  // namespace apportion
