// SPDX-License-Identifier: GPL-3.0-or-later
// EvalMode: puts a model in eval mode for a scope and restores its training flag on exit (also
// on throw). One guard for every evaluation path (generation, beam search, choice scoring,
// teacher-forced evaluation).
//
// Intended usage:
//   EvalMode eval_mode(model);
//   torch::NoGradGuard no_grad;
//   auto logits = model->forward(ids, mask);
#pragma once

#include "core/model/transformer_lm.h"

namespace apportion {

class EvalMode {
 public:
  explicit EvalMode(TransformerLM& model) : model_(model), was_training_(model->is_training()) {
    model_->eval();
  }
  ~EvalMode() { model_->train(was_training_); }
  EvalMode(const EvalMode&) = delete;
  EvalMode& operator=(const EvalMode&) = delete;

 private:
  TransformerLM& model_;
  bool was_training_;
};

}  // namespace apportion
