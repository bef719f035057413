// SPDX-License-Identifier: GPL-3.0-or-later
// Training checkpoints: trainable tensors by name, optimiser state, step and the CPU RNG state,
// in one torch archive with a magic number and format version. Written atomically (temp file +
// rename), so a crash mid-write keeps the last good checkpoint.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <ATen/Tensor.h>
#include <torch/optim/optimizer.h>

namespace apportion {

/// Format version written into every checkpoint.
inline constexpr int64_t kCheckpointVersion = 1;

using NamedTensors = std::vector<std::pair<std::string, at::Tensor>>;

/// What an allocation method adds to a checkpoint (training_hooks.h): method state tensors
/// (restored in place, by name) and further optimisers (e.g. GuiLoMo's GSV AdamW), by name.
struct CheckpointExtras {
  NamedTensors state;
  std::vector<std::pair<std::string, torch::optim::Optimizer*>> optimizers;
};

/// Writes `path` (atomically). Returns the file size in bytes.
int64_t save_checkpoint(const std::string& path,
                        const NamedTensors& trainable,
                        torch::optim::Optimizer& optimizer,
                        int64_t step,
                        const CheckpointExtras& extras = {});

/// Restores trainable tensors (in place, by name), the optimiser state and the RNG; returns the
/// step. Throws CheckpointError naming the file and the problem (missing, wrong magic/version,
/// a tensor missing or of another shape).
int64_t load_checkpoint(const std::string& path,
                        const NamedTensors& trainable,
                        torch::optim::Optimizer& optimizer,
                        const CheckpointExtras& extras = {});

/// The checkpoint as bytes in memory (what save_checkpoint writes), e.g. for rank 0 to broadcast
/// its state to the other ranks of a data-parallel run.
std::string checkpoint_bytes(const NamedTensors& trainable,
                             torch::optim::Optimizer& optimizer,
                             int64_t step,
                             const CheckpointExtras& extras = {});

/// load_checkpoint from bytes (checkpoint_bytes or a checkpoint file's contents); `label` names
/// them in errors. Returns the step.
int64_t load_checkpoint_bytes(const std::string& bytes,
                              const std::string& label,
                              const NamedTensors& trainable,
                              torch::optim::Optimizer& optimizer,
                              const CheckpointExtras& extras = {});

}  // namespace apportion
