// SPDX-License-Identifier: GPL-3.0-or-later
// BilevelArchitect: one GuiLoMo architect step (the α update of METHODS.md §3.4 and §7) over the
// lower-level parameters w (LoRA A/B/E and routers, with their own optimizer) and the GSVs α
// (their own AdamW: lr 3e-3, betas (0.5, 0.999), eps 1e-8, wd 0). Three α-gradient modes:
//
//  first_order   g_α = ∇_α L_val(w, α) on the held-out batch.
//  second_order  DARTS, clean: virtual SGD step w' = w − η∇_w L_train(w, α); v = ∇_w' L_val(w', α);
//                R = r / ‖v‖ (r = 0.01; R = r when ‖v‖ = 0);
//                g_α = ∇_α L_val(w', α) − η·(∇_α L_train(w + Rv) − ∇_α L_train(w − Rv)) / (2R).
//                Every sub-pass gets its own gradients (no accumulation); w is restored by copy
//                (bit-identical) and the w-optimizer state by a deep snapshot. By default the
//                w ± Rv passes replay the same random numbers (dropout masks), so the finite
//                difference measures the change in w and not a change of masks (our design).
//  reference     the reference code's mixture (mola_trainer_hacked.py, as read; see bilevel.cpp
//                for the step-by-step list): a real step of the w-optimizer as the unrolled step,
//                α-gradients accumulated across all sub-passes and read cumulatively, v including
//                ∇_w L_train(w), w restored by in-place ±Rv arithmetic, and the w-optimizer state
//                restored the way a shallow state_dict() round trip does.
//
// In all modes w.grad (e.g. gradients accumulated by earlier micro-batches) is unchanged
// afterwards, the written α.grad is the step's g_α (zeros where α has no gradient), and the
// α-optimizer takes one step.
//
// Intended usage (per pair of micro-batches, METHODS.md §3.4):
//   BilevelArchitect architect(w_params, gsv_params, w_optimizer, options);
//   auto r = architect.step([&] { return loss_on(b_train); },  // closures: forward + loss
//                           [&] { return loss_on(b_val); }, current_w_lr);
//   log(r.val_loss, r.v_norm);
//   loss_on(b_train).backward();            // the ordinary lower-level step
//   if (accumulated) { clip; w_optimizer.step(); w_optimizer.zero_grad(); }
// Checkpoint architect.alpha_optimizer() next to the w-optimizer.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <ATen/Tensor.h>

namespace torch::optim {
class Optimizer;
class AdamW;
}  // namespace torch::optim

namespace apportion {

/// How the α-gradient is computed.
enum class ArchitectMode {
  FirstOrder,
  SecondOrder,
  Reference,
};

/// "first_order", "second_order", "reference" (config and record strings).
const char* to_string(ArchitectMode mode);
/// Parses the string form; ConfigError naming guilomo.architect_mode otherwise.
ArchitectMode architect_mode_from_string(const std::string& text);

/// Settings of the architect (METHODS.md §3.3/§3.7 defaults).
struct ArchitectOptions {
  ArchitectMode mode = ArchitectMode::SecondOrder;
  double lr = 3e-3;            ///< α AdamW learning rate
  double beta1 = 0.5;          ///< α AdamW betas
  double beta2 = 0.999;        ///<
  double eps = 1e-8;           ///< α AdamW eps
  double weight_decay = 0.0;   ///< α AdamW decay (the reference's effective value)
  double hvp_r = 0.01;         ///< R = hvp_r / ‖v‖ in the finite-difference HVP
  bool hvp_same_noise = true;  ///< second_order: replay the RNG state for the w ± Rv passes
};

/// What one architect step did (for logs and tests).
struct ArchitectStepResult {
  double train_loss = 0.0;             ///< L_train(w) of the first train pass (NaN in first_order)
  double val_loss = 0.0;               ///< L_val at w' (w in first_order)
  double v_norm = 0.0;                 ///< ‖v‖ (0 in first_order)
  double r = 0.0;                      ///< the HVP step R (0 in first_order)
  std::vector<at::Tensor> alpha_grad;  ///< g_α as written into α.grad, one per α tensor
};

/// A loss evaluated at the current parameters on a fixed batch: builds a fresh graph each call.
using LossClosure = std::function<at::Tensor()>;

class BilevelArchitect {
 public:
  /// `w` must be exactly the parameters `w_optimizer` updates; `alpha` the GSVs. All must require
  /// grad, and w and α must be disjoint. The α-AdamW is created here.
  BilevelArchitect(std::vector<at::Tensor> w,
                   std::vector<at::Tensor> alpha,
                   torch::optim::Optimizer& w_optimizer,
                   ArchitectOptions options);
  ~BilevelArchitect();
  BilevelArchitect(const BilevelArchitect&) = delete;
  BilevelArchitect& operator=(const BilevelArchitect&) = delete;

  /// One α update. `eta` is the current w learning rate (the virtual step size and the HVP
  /// factor; the reference passes the scheduler's lr, 0 during the first warm-up step).
  /// first_order ignores `train_loss`.
  ArchitectStepResult step(const LossClosure& train_loss, const LossClosure& val_loss, double eta);
  /// The α-gradient of one step (ArchitectStepResult::alpha_grad) without the α update: step()
  /// is compute() then apply(). An architect round (data parallel) computes the gradients of
  /// several micro-batches at the same α, then applies them in order. The reference mode's side
  /// effects on w and the w-optimizer state happen here.
  ArchitectStepResult compute(const LossClosure& train_loss,
                              const LossClosure& val_loss,
                              double eta);
  /// Writes `g` (one tensor per GSV tensor) into α.grad and takes one α-AdamW step.
  void apply(const std::vector<at::Tensor>& g);

  torch::optim::AdamW& alpha_optimizer();
  const ArchitectOptions& options() const { return options_; }

 private:
  ArchitectStepResult first_order(const LossClosure& val_loss);
  ArchitectStepResult second_order(const LossClosure& train_loss,
                                   const LossClosure& val_loss,
                                   double eta);
  ArchitectStepResult reference(const LossClosure& train_loss,
                                const LossClosure& val_loss,
                                double eta);

  std::vector<at::Tensor> w_;
  std::vector<at::Tensor> alpha_;
  torch::optim::Optimizer& w_optimizer_;
  ArchitectOptions options_;
  std::unique_ptr<torch::optim::AdamW> alpha_optimizer_;
};

}  // namespace apportion
