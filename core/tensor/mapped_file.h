// SPDX-License-Identifier: GPL-3.0-or-later
// MappedFile: a read-only memory mapping of a whole file (POSIX mmap), unmapped on destruction.
// Checkpoint loading maps each safetensors file only while its tensors are copied into the
// model, so the page cache, not a heap buffer, holds the bytes.
#pragma once

#include <cstdint>
#include <string>

namespace apportion {

class MappedFile {
 public:
  /// Maps `path` read-only. Throws CheckpointError naming the file when it cannot.
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const unsigned char* data() const { return data_; }
  uint64_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  const unsigned char* data_ = nullptr;
  uint64_t size_ = 0;
};

}  // namespace apportion
