// SPDX-License-Identifier: GPL-3.0-or-later
// DataParallel: the trainer's steps in a data-parallel world of W ranks (docs/DISTRIBUTED.md).
// A step keeps its global batch: micro-batch m of train.grad_accum runs on rank m mod W; after
// the backward passes one flat buffer of every trainable gradient (an undefined one as zeros, with
// a flag so a gradient no rank produced stays undefined) is summed over the ranks before hooks
// and clipping see it, so W ranks compute what one process does up to the order of float sums.
// The step's loss sums and token counts are summed too; the routing statistics of the logged
// micro-batch come from the rank that ran it; a stop flag is agreed (maximum) at every step,
// together with a fingerprint of the weights that catches ranks that drifted apart; rank 0's
// state (after a growth decision, on resume) is broadcast as checkpoint bytes. With one process
// every operation is a no-op.
//
// Intended usage (core/train/trainer.cpp):
//   DataParallel dp;  dp.attach(world.collective(), /*launched=*/true, cfg.seed, cfg);
//   if (dp.agree_to_stop(stop_requested, trainable)) { … }           // top of each step
//   for (micro …) if (dp.owns(micro)) { MicroRngScope rng(dp.micro_seed(step, micro), dev); … }
//   dp.reduce_gradients(trainable);  dp.reduce_tally(tally);         // before hooks' before_clip
#pragma once

#include <ATen/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <string>

#include "core/adapters/adapter_injector.h"
#include "core/adapters/backbone_routing.h"
#include "core/config/experiment_config.h"
#include "core/distributed/collective.h"
#include "core/train/checkpointer.h"

namespace apportion {

/// What one rank's micro-batches of a step add up to (summed over the ranks by reduce_tally).
struct StepTally {
  double loss_sum = 0.0;
  double aux_sum = 0.0;
  int64_t tokens = 0;     ///< real (unpadded) tokens
  int64_t padding = 0;    ///< padding slots
  int64_t slots = 0;      ///< all slots
  int64_t nonfinite = 0;  ///< micro-batches whose loss was NaN or infinite
};

class DataParallel {
 public:
  /// Attaches to a world. `launched`: the process was started by a launcher (even a world of
  /// one), so micro-batches draw their random numbers per (seed, step, micro). Throws
  /// ConfigError when train.grad_accum is not a positive multiple of the world size.
  void attach(Collective& collective, bool launched, int64_t seed, const ExperimentConfig& cfg);
  /// ConfigError naming train.grad_accum unless it is a positive multiple of `world_size`.
  static void check_config(const ExperimentConfig& cfg, int world_size);

  Collective& collective() { return *collective_; }
  bool multi_rank() const { return collective_->multi_rank(); }
  bool is_root() const { return collective_->is_root(); }
  bool launched() const { return launched_; }
  int world_size() const { return collective_->world_size(); }
  /// Whether micro-batch `micro` of a step runs on this rank (m mod W == rank).
  bool owns(int micro) const { return micro % world_size() == collective_->rank(); }
  /// The rank that runs micro-batch `micro`.
  int owner(int micro) const { return micro % world_size(); }
  /// The seed of micro-batch `micro` of `step` (launched runs; the same on every rank).
  uint64_t micro_seed(int64_t step, int micro) const;

  /// Top of a step: true when any rank asks to stop. Throws DistributedError when the ranks'
  /// trainable weights differ (a fingerprint of their bits), which would be a bug.
  bool agree_to_stop(bool stop, const NamedTensors& trainable);
  /// Sums every trainable gradient over the ranks (one flat buffer).
  void reduce_gradients(const NamedTensors& trainable);
  /// Sums the step's tally over the ranks.
  void reduce_tally(StepTally& tally);
  /// The routing statistics of the last micro-batch, from the rank that ran it (`owner`) to all.
  void sync_routing(RoutingStats& adapters, BackboneRoutingStats& backbone, int owner);
  /// Rank 0's trainable tensors, optimiser state, method state (`extras`) and RNG to every rank
  /// (checkpoint bytes). `ok` false on rank 0 tells the others it failed (they throw
  /// CheckpointError naming `what`). Returns rank 0's step.
  int64_t broadcast_state(const NamedTensors& trainable,
                          torch::optim::Optimizer& optimizer,
                          const CheckpointExtras& extras,
                          int64_t step,
                          const std::string& what,
                          bool ok = true);

 private:
  Collective* collective_ = &single_process_collective();
  bool launched_ = false;
  uint64_t seed_ = 0;
};

/// Seeds the CPU generator (and `device`'s CUDA generator) with `seed` for one micro-batch and
/// restores their previous states when it ends, so the run's main stream (growth, the next
/// steps) does not depend on which micro-batches ran here.
class MicroRngScope {
 public:
  MicroRngScope(uint64_t seed, c10::Device device);
  ~MicroRngScope();
  MicroRngScope(const MicroRngScope&) = delete;
  MicroRngScope& operator=(const MicroRngScope&) = delete;

 private:
  at::Tensor cpu_, cuda_;
  c10::Device device_;
};

}  // namespace apportion
