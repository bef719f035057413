// SPDX-License-Identifier: GPL-3.0-or-later
// OptimizerStateSnapshot: saves and restores the per-parameter state of a LibTorch optimizer
// (Adam/AdamW moments and step counts, SGD momentum buffers) around the GuiLoMo architect step
// (METHODS.md §3.4), in two flavours:
//  - deep: tensors cloned; restore() puts back bit-identical state (the clean modes);
//  - keys only: restore_like_shallow_state_dict() reproduces what the reference code gets from
//    PyTorch's `before = opt.state_dict(); …; opt.load_state_dict(before)`: state_dict() holds
//    references to the per-parameter state, which AdamW updates in place, so entries that
//    existed keep their *current* values (the unrolled step stays in the moments and the step
//    count); entries created since are dropped (load_state_dict replaces the whole state).
// Parameter groups (learning rates, options) are not touched.
//
// Intended usage:
//   OptimizerStateSnapshot saved(optimizer, OptimizerStateSnapshot::Depth::Deep);
//   … something that may step `optimizer` …
//   saved.restore(optimizer);
#pragma once

#include <memory>

namespace torch::optim {
class Optimizer;
}  // namespace torch::optim

namespace apportion {

class OptimizerStateSnapshot {
 public:
  enum class Depth {
    Deep,      ///< clone every state tensor
    KeysOnly,  ///< remember which parameters have state
  };
  /// Throws apportion::Error for a Deep snapshot of a state type other than Adam, AdamW, SGD.
  OptimizerStateSnapshot(const torch::optim::Optimizer& optimizer, Depth depth);
  ~OptimizerStateSnapshot();
  OptimizerStateSnapshot(const OptimizerStateSnapshot&) = delete;
  OptimizerStateSnapshot& operator=(const OptimizerStateSnapshot&) = delete;

  /// Deep snapshots only: replaces the optimizer's whole state by copies of the saved one.
  void restore(torch::optim::Optimizer& optimizer) const;
  /// Drops the state of every parameter that had none when the snapshot was taken; keeps the
  /// rest as it is now (the reference code's shallow restore, see the file comment).
  void restore_like_shallow_state_dict(torch::optim::Optimizer& optimizer) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace apportion
