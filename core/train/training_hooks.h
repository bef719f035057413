// SPDX-License-Identifier: GPL-3.0-or-later
// TrainingHooks: what an allocation method adds to the ordinary training loop of trainer.cpp —
// GuiLoMo's architect step and GSV records (core/guilomo/guilomo_search_hooks.h), DR-LoRA's
// signals and growth events and the static-frequency calibration (core/drlora/drlora_hooks.h),
// IncreLoRA's growth, AlphaLoRA's spectrum records. The method's runtime row creates them
// (method_runtime.h). The loop calls them at fixed points; the default does nothing.
//
// Loop order per optimiser step s (1-based) and micro-batch m:
//   before_micro_step(s, m, batch, lr) → forward → loss + extra_loss() → after_forward(batch)
//   → backward … (all micro-batches) → before_clip(s) → clip → optimizer.step()
//   → after_optimizer_step(s, optimizer) → records(s) at the matrix-logging interval
// and once: before_training(first step) after the model and data are ready, finish(last step)
// before the adapters are written.
// In a data-parallel run (docs/DISTRIBUTED.md) each rank sees only its own micro-batches
// (m mod W == rank) in before_micro_step/after_forward; the gradients are already summed over
// the ranks when before_clip runs; a hook sums its own per-micro-batch signals through
// HookContext::collective; when decided_at(s) is true the trainer broadcasts rank 0's state
// (checkpoint_extras, weights, optimiser) to the others after after_optimizer_step and calls
// restore(). Only rank 0's sink and files reach anyone (finish runs on rank 0 only).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include <ATen/Tensor.h>

#include "core/config/experiment_config.h"
#include "core/data/batcher.h"
#include "core/distributed/collective.h"
#include "core/events/event_sink.h"
#include "core/train/checkpointer.h"

namespace torch::optim {
class Optimizer;
}  // namespace torch::optim

namespace apportion {

struct BuiltModel;

/// What the trainer lends its hooks.
struct HookContext {
  const ExperimentConfig* cfg = nullptr;
  BuiltModel* built = nullptr;
  EventSink* sink = nullptr;
  torch::optim::Optimizer* optimizer = nullptr;  ///< the w optimiser (adapters)
  std::string run_dir;
  /// The training micro-batch m of step s (what w trains on).
  std::function<Batch(int64_t step, int micro)> train_batch;
  /// The held-out micro-batch m of step s (GuiLoMo's upper level; see Trainer).
  std::function<Batch(int64_t step, int micro)> val_batch;
  /// Forward + LM loss + every balance loss on a batch, in the graph (fresh each call).
  std::function<at::Tensor(const Batch&)> loss;
  /// The run's ranks (single_process_collective() outside a data-parallel run; never null).
  Collective* collective = &single_process_collective();
  /// A launched run's seed of micro-batch m of step s (DataParallel::micro_seed, the same on
  /// every rank); empty in a plain process, whose random numbers come from one stream.
  std::function<uint64_t(int64_t step, int micro)> micro_seed;
};

class TrainingHooks {
 public:
  virtual ~TrainingHooks() = default;
  virtual void before_training(int64_t /*first_step*/) {}
  virtual void before_micro_step(int64_t /*step*/,
                                 int /*micro*/,
                                 const Batch& /*batch*/,
                                 double /*lr*/) {}
  /// Extra loss terms of the forward just run (e.g. the supernet's balance loss), or undefined.
  virtual at::Tensor extra_loss() { return {}; }
  virtual void after_forward(const Batch& /*batch*/) {}
  virtual void before_clip(int64_t /*step*/) {}
  virtual void after_optimizer_step(int64_t /*step*/, torch::optim::Optimizer& /*optimizer*/) {}
  virtual void records(int64_t /*step*/) {}
  virtual void finish(int64_t /*step*/) {}
  /// The method's state for checkpoints: tensors (current values; load_checkpoint restores
  /// into them in place) and further optimisers. Called for every checkpoint and on resume.
  virtual CheckpointExtras checkpoint_extras() { return {}; }
  /// After a resume filled `loaded` (what checkpoint_extras() returned): apply it.
  virtual void restore(const CheckpointExtras& /*loaded*/) {}
  /// Forgets per-forward caches (called after every micro-batch).
  virtual void clear_caches() {}
  /// True when after_optimizer_step(step) made a decision that changed the method's state (a
  /// growth event): a data-parallel run then gives every rank rank 0's state.
  virtual bool decided_at(int64_t /*step*/) const { return false; }
};

/// The hooks of cfg's allocation method (a no-op object for methods without any).
std::unique_ptr<TrainingHooks> make_training_hooks(const HookContext& context);

}  // namespace apportion
