// SPDX-License-Identifier: GPL-3.0-or-later
// The weight files of an HF model folder, from their headers only: model.safetensors, or the
// shards named by model.safetensors.index.json (weight_map), cross-checked so that a shard
// listed but missing, a tensor in two shards, or an index that disagrees with the shards is a
// CheckpointError naming the file and tensor. Torch-free (load_pretrained and
// `apportion inspect` share it).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "core/tensor/safetensors_header.h"

namespace apportion {

struct CheckpointFiles {
  std::string dir;
  std::string index_path;                ///< empty for a single model.safetensors
  std::vector<SafetensorsHeader> files;  ///< every weight file, headers validated
  /// tensor name -> (file index, entry index in that file's header)
  std::map<std::string, std::pair<size_t, size_t>> tensors;

  const SafetensorsEntry& entry(const std::string& name) const;
  const std::string& file_of(const std::string& name) const;
};

/// Reads the headers of the folder's weight files. Throws CheckpointError.
CheckpointFiles read_checkpoint_files(const std::string& dir);

}  // namespace apportion
