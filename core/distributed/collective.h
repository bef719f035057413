// SPDX-License-Identifier: GPL-3.0-or-later
// Collective: the few collective operations a data-parallel run needs (sum/max all-reduce,
// broadcast from a root, rank 0's solo work announced to the others), as an interface the trainer
// lends its hooks (HookContext::collective). A single process gets single_process_collective(),
// whose operations leave the tensors as they are; a launched world gets the c10d one of
// dist_world.h (Gloo on CPU, NCCL on CUDA).
//
// Intended usage (a hook reducing a signal where it consumes it):
//   Collective& c = *ctx.collective;
//   at::Tensor counts = …;                     // zeros for what this rank did not see
//   c.all_reduce_sum(counts, "the routing counts");
//   if (c.is_root()) sink.on_matrix(…);        // only rank 0 writes
// Every rank must call the same operations in the same order with tensors of the same shape.
// A lost peer (a rank that died, a network that failed) or a timeout throws DistributedError.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <string>

#include "core/common/error.h"

namespace apportion {

/// A data-parallel world lost a rank or timed out; the message names the rank, the world, the
/// operation and the step, and says that the run ended FAILED.
class DistributedError : public Error {
 public:
  using Error::Error;
};

class Collective {
 public:
  virtual ~Collective() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  /// "gloo", "nccl" or "none".
  virtual std::string backend() const = 0;
  bool is_root() const { return rank() == 0; }
  /// More than one process (the tensors actually travel).
  bool multi_rank() const { return world_size() > 1; }

  /// In place: the element-wise sum over the ranks. `what` names it in errors.
  virtual void all_reduce_sum(at::Tensor& tensor, const std::string& what) = 0;
  /// In place: the element-wise maximum over the ranks.
  virtual void all_reduce_max(at::Tensor& tensor, const std::string& what) = 0;
  /// In place: every rank ends with `root`'s tensor (same shape and dtype everywhere).
  virtual void broadcast(at::Tensor& tensor, int root, const std::string& what) = 0;

  /// Rank 0 announces that its solo work `label` (an evaluation, a checkpoint, the outputs) is
  /// done, with a value; the other ranks wait for it without a time limit while rank 0's process
  /// lives (its death ends the wait with DistributedError) and return the value. Rank 0 returns
  /// `value` at once. Labels must be unique within a run.
  virtual std::string root_done(const std::string& label, const std::string& value = "") = 0;

  /// The optimiser step the run is at, named in error messages.
  void set_step(int64_t step) { step_ = step; }
  int64_t step() const { return step_; }

 protected:
  int64_t step_ = 0;
};

/// The world of one: every operation is a no-op (root_done returns its value).
Collective& single_process_collective();

/// `root`'s bytes on every rank (the length travels first). Others pass anything.
std::string broadcast_bytes(Collective& c,
                            const std::string& bytes,
                            int root,
                            const std::string& what);

}  // namespace apportion
