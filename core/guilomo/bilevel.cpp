// SPDX-License-Identifier: GPL-3.0-or-later
// The GuiLoMo architect step (METHODS.md §3.4, §7) in its three modes. The clean modes take
// every gradient with torch::autograd::grad, so no sub-pass touches any .grad and nothing
// accumulates between sub-passes. The reference mode reproduces, step by step, the
// accumulation of mola_trainer_hacked.py (training_step → architect_step →
// _compute_unrolled_model → _hessian_vector_product), as we read that code:
//
//   (a) before = opt.state_dict()   (shallow)  ; α.grad ← 0 ; save w and w.grad
//   (b) w.grad ← 0 ; L_train(w).backward() ; opt.step()   (real AdamW step → w', no clipping)
//       α.grad = ∇_α L_train(w)
//   (c) L_val(w').backward() without zeroing w.grad:
//       v = w.grad = ∇_w L_train(w) + ∇_w' L_val(w')    (METHODS.md §3.4 reads ∇_w' L_val alone)
//       dα = α.grad = ∇_α L_train(w) + ∇_α L_val(w')
//   (d) w ← saved values, w.grad ← saved gradients
//   (e) R = 0.01 / ‖v‖ (0.01 if ‖v‖ = 0); in place: w += R·v; α.grad += ∇_α L_train; gp = α.grad;
//       w −= 2R·v; α.grad += ∇_α L_train; gn = α.grad; w += R·v   (w is not re-copied, so it
//       carries the rounding of these three in-place updates)
//       implicit = (gp − gn) / (2R) = −∇_α L_train(w − Rv) / (2R)
//   (f) g_α = dα − η·implicit = ∇_α L_train(w) + ∇_α L_val(w') + η/(2R)·∇_α L_train(w − Rv)
//   (g) α.grad ← g_α ; α-AdamW step ; w.grad ← saved gradients
//   (h) opt.load_state_dict(before): parameters that had state keep the state the unrolled step
//       left (moments and step count advanced by one step on ∇_w L_train(w)); parameters whose
//       state the unrolled step created lose it (at the very first step the state is empty again).
// R is computed in double from ‖v‖ (the reference divides in float32; the difference is
// rounding). The HVP passes see fresh dropout masks, as in the reference.
#include "core/guilomo/bilevel.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <mutex>
#include <optional>
#include <set>

#include "core/common/error.h"
#include "core/guilomo/optimizer_state.h"

namespace apportion {
namespace {

/// Gradients of a scalar loss w.r.t. `inputs` without touching any .grad; zeros where unused.
std::vector<torch::Tensor> grads_of(const torch::Tensor& loss,
                                    const std::vector<torch::Tensor>& inputs) {
  AP_CHECK(loss.defined() && loss.numel() == 1,
           "GuiLoMo architect: the loss closure must return a scalar tensor");
  auto g = torch::autograd::grad({loss}, inputs, /*grad_outputs=*/{}, /*retain_graph=*/false,
                                 /*create_graph=*/false, /*allow_unused=*/true);
  for (size_t i = 0; i < g.size(); ++i) {
    if (!g[i].defined()) g[i] = torch::zeros_like(inputs[i]);
  }
  return g;
}

std::vector<torch::Tensor> concat(const std::vector<torch::Tensor>& a,
                                  const std::vector<torch::Tensor>& b) {
  auto out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

/// ‖v‖ over all tensors.
double global_norm(const std::vector<torch::Tensor>& v) {
  double sq = 0.0;
  for (const auto& t : v) {
    const double n = t.norm().item<double>();
    sq += n * n;
  }
  return std::sqrt(sq);
}

/// Saves w and w.grad; restores both on destruction unless dismissed (also on exceptions).
class WeightGuard {
 public:
  explicit WeightGuard(const std::vector<torch::Tensor>& w) : w_(w) {
    torch::NoGradGuard no_grad;
    for (const auto& p : w_) {
      values_.push_back(p.detach().clone());
      grads_.push_back(p.grad().defined() ? p.grad().detach().clone() : torch::Tensor());
    }
  }
  ~WeightGuard() {
    if (dismissed_) return;
    try {
      restore_values();
      restore_grads();
    } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw
    }
  }
  /// w ← saved + scale·v (scale 0: the saved values, bit-identical).
  void set(const std::vector<torch::Tensor>& v, double scale) {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < w_.size(); ++i) {
      w_[i].copy_(values_[i]);
      if (scale != 0.0) w_[i].add_(v[i], scale);
    }
  }
  void restore_values() { set({}, 0.0); }
  void restore_grads() {
    for (size_t i = 0; i < w_.size(); ++i) {
      w_[i].mutable_grad() = grads_[i].defined() ? grads_[i].clone() : torch::Tensor();
    }
  }
  void dismiss() { dismissed_ = true; }

 private:
  std::vector<torch::Tensor> w_;
  std::vector<torch::Tensor> values_, grads_;
  bool dismissed_ = false;
};

/// Saves the default generator state of a device so that passes can replay the same random
/// numbers (dropout masks).
class RngReplay {
 public:
  explicit RngReplay(const torch::Device& device)
      : generator_(at::globalContext().defaultGenerator(device)) {
    std::lock_guard<std::mutex> lock(generator_.mutex());
    state_ = generator_.get_state();
  }
  void rewind() {
    std::lock_guard<std::mutex> lock(generator_.mutex());
    generator_.set_state(state_);
  }

 private:
  at::Generator generator_;
  torch::Tensor state_;
};

}  // namespace

const char* to_string(ArchitectMode mode) {
  switch (mode) {
    case ArchitectMode::FirstOrder:
      return "first_order";
    case ArchitectMode::SecondOrder:
      return "second_order";
    case ArchitectMode::Reference:
      return "reference";
  }
  return "?";
}

ArchitectMode architect_mode_from_string(const std::string& text) {
  for (auto m : {ArchitectMode::FirstOrder, ArchitectMode::SecondOrder, ArchitectMode::Reference}) {
    if (text == to_string(m)) return m;
  }
  throw ConfigError("guilomo.architect_mode: unknown mode \"" + text +
                    "\" (known: first_order, second_order, reference)");
}

BilevelArchitect::BilevelArchitect(std::vector<torch::Tensor> w,
                                   std::vector<torch::Tensor> alpha,
                                   torch::optim::Optimizer& w_optimizer,
                                   ArchitectOptions options)
    : w_(std::move(w)), alpha_(std::move(alpha)), w_optimizer_(w_optimizer), options_(options) {
  AP_CHECK(!w_.empty() && !alpha_.empty(),
           "GuiLoMo architect needs lower-level parameters and GSVs, got ", w_.size(), " and ",
           alpha_.size());
  std::set<const void*> w_set, opt_set;
  for (const auto& p : w_) {
    AP_CHECK(p.requires_grad(), "GuiLoMo architect: a lower-level parameter does not require grad");
    w_set.insert(p.unsafeGetTensorImpl());
  }
  for (const auto& p : alpha_) {
    AP_CHECK(p.requires_grad(), "GuiLoMo architect: a GSV parameter does not require grad");
    AP_CHECK(w_set.count(p.unsafeGetTensorImpl()) == 0,
             "GuiLoMo architect: a GSV is also listed as a lower-level parameter; split the "
             "parameters with is_gsv_parameter");
  }
  for (const auto& group : w_optimizer_.param_groups()) {
    for (const auto& p : group.params()) opt_set.insert(p.unsafeGetTensorImpl());
  }
  AP_CHECK(opt_set == w_set,
           "GuiLoMo architect: the w-optimizer must hold exactly the lower-level parameters (it "
           "holds ",
           opt_set.size(), ", w has ", w_set.size(), "); keep the GSVs out of it");
  AP_CHECK(options_.hvp_r > 0.0, "GuiLoMo architect: hvp_r must be > 0, got ", options_.hvp_r);
  alpha_optimizer_ = std::make_unique<torch::optim::AdamW>(
      alpha_, torch::optim::AdamWOptions(options_.lr)
                  .betas(std::make_tuple(options_.beta1, options_.beta2))
                  .eps(options_.eps)
                  .weight_decay(options_.weight_decay));
}

BilevelArchitect::~BilevelArchitect() = default;

torch::optim::AdamW& BilevelArchitect::alpha_optimizer() { return *alpha_optimizer_; }

ArchitectStepResult BilevelArchitect::step(const LossClosure& train_loss,
                                           const LossClosure& val_loss,
                                           double eta) {
  ArchitectStepResult r = compute(train_loss, val_loss, eta);
  apply(r.alpha_grad);
  return r;
}

ArchitectStepResult BilevelArchitect::compute(const LossClosure& train_loss,
                                              const LossClosure& val_loss,
                                              double eta) {
  AP_CHECK(val_loss != nullptr, "GuiLoMo architect: no validation loss closure");
  AP_CHECK(options_.mode == ArchitectMode::FirstOrder || train_loss != nullptr,
           "GuiLoMo architect: ", to_string(options_.mode), " needs a training loss closure");
  AP_CHECK(std::isfinite(eta) && eta >= 0.0, "GuiLoMo architect: eta must be >= 0, got ", eta);
  torch::AutoGradMode enable_grad(true);
  switch (options_.mode) {
    case ArchitectMode::FirstOrder:
      return first_order(val_loss);
    case ArchitectMode::SecondOrder:
      return second_order(train_loss, val_loss, eta);
    case ArchitectMode::Reference:
      return reference(train_loss, val_loss, eta);
  }
  return {};
}

void BilevelArchitect::apply(const std::vector<torch::Tensor>& g) {
  AP_CHECK(g.size() == alpha_.size(), "GuiLoMo architect: ", g.size(), " GSV gradients for ",
           alpha_.size(), " GSV tensors");
  for (size_t i = 0; i < alpha_.size(); ++i) alpha_[i].mutable_grad() = g[i].detach();
  alpha_optimizer_->step();
}

ArchitectStepResult BilevelArchitect::first_order(const LossClosure& val_loss) {
  ArchitectStepResult r;
  r.train_loss = std::numeric_limits<double>::quiet_NaN();
  auto loss = val_loss();
  r.val_loss = loss.item<double>();
  r.alpha_grad = grads_of(loss, alpha_);
  return r;
}

ArchitectStepResult BilevelArchitect::second_order(const LossClosure& train_loss,
                                                   const LossClosure& val_loss,
                                                   double eta) {
  const OptimizerStateSnapshot saved_state(w_optimizer_, OptimizerStateSnapshot::Depth::Deep);
  WeightGuard guard(w_);
  ArchitectStepResult r;
  const size_t nw = w_.size(), na = alpha_.size();
  // Virtual SGD step w' = w − η ∇_w L_train(w, α).
  auto loss = train_loss();
  r.train_loss = loss.item<double>();
  const auto gw = grads_of(loss, w_);
  guard.set(gw, -eta);
  // v = ∇_w' L_val(w', α), dα = ∇_α L_val(w', α).
  loss = val_loss();
  r.val_loss = loss.item<double>();
  const auto g_val = grads_of(loss, concat(w_, alpha_));
  const std::vector<torch::Tensor> v(g_val.begin(), g_val.begin() + static_cast<ptrdiff_t>(nw));
  // Finite-difference HVP around the original w.
  r.v_norm = global_norm(v);
  r.r = r.v_norm > 0.0 ? options_.hvp_r / r.v_norm : options_.hvp_r;
  std::optional<RngReplay> rng;
  if (options_.hvp_same_noise) rng.emplace(w_.front().device());
  guard.set(v, r.r);
  const auto g_plus = grads_of(train_loss(), alpha_);
  if (rng) rng->rewind();
  guard.set(v, -r.r);
  const auto g_minus = grads_of(train_loss(), alpha_);
  guard.restore_values();
  guard.dismiss();  // w.grad was never touched
  for (size_t i = 0; i < na; ++i) {
    r.alpha_grad.push_back(g_val[nw + i] - (g_plus[i] - g_minus[i]) * (eta / (2.0 * r.r)));
  }
  saved_state.restore(w_optimizer_);
  return r;
}

ArchitectStepResult BilevelArchitect::reference(const LossClosure& train_loss,
                                                const LossClosure& val_loss,
                                                double eta) {
  // (a)
  const OptimizerStateSnapshot before(w_optimizer_, OptimizerStateSnapshot::Depth::KeysOnly);
  WeightGuard guard(w_);
  ArchitectStepResult r;
  const size_t nw = w_.size(), na = alpha_.size();
  std::vector<torch::Tensor> acc;  // α.grad of the reference, accumulated across sub-passes
  for (const auto& a : alpha_) acc.push_back(torch::zeros_like(a));
  // (b) real unrolled step of the w-optimizer.
  auto loss = train_loss();
  r.train_loss = loss.item<double>();
  const auto g_train = grads_of(loss, concat(w_, alpha_));
  for (size_t i = 0; i < nw; ++i) w_[i].mutable_grad() = g_train[i].clone();
  for (size_t i = 0; i < na; ++i) acc[i] += g_train[nw + i];
  w_optimizer_.step();
  // (c) validation at w', gradients accumulating on top of (b).
  loss = val_loss();
  r.val_loss = loss.item<double>();
  const auto g_val = grads_of(loss, concat(w_, alpha_));
  std::vector<torch::Tensor> v;
  for (size_t i = 0; i < nw; ++i) v.push_back(w_[i].grad() + g_val[i]);
  for (size_t i = 0; i < na; ++i) acc[i] += g_val[nw + i];
  std::vector<torch::Tensor> d_alpha;
  for (const auto& a : acc) d_alpha.push_back(a.clone());
  // (d)
  guard.restore_values();
  guard.restore_grads();
  // (e) in-place finite differences, cumulative reads.
  r.v_norm = global_norm(v);
  r.r = r.v_norm > 0.0 ? options_.hvp_r / r.v_norm : options_.hvp_r;
  auto shift = [&](double scale) {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < nw; ++i) w_[i].add_(v[i], scale);
  };
  std::vector<torch::Tensor> grads_p, grads_n;
  shift(r.r);
  auto g = grads_of(train_loss(), alpha_);
  for (size_t i = 0; i < na; ++i) {
    acc[i] += g[i];
    grads_p.push_back(acc[i].clone());
  }
  shift(-2.0 * r.r);
  g = grads_of(train_loss(), alpha_);
  for (size_t i = 0; i < na; ++i) {
    acc[i] += g[i];
    grads_n.push_back(acc[i].clone());
  }
  shift(r.r);
  // (f), (g)
  for (size_t i = 0; i < na; ++i) {
    const auto implicit = (grads_p[i] - grads_n[i]) / (2.0 * r.r);
    r.alpha_grad.push_back(d_alpha[i] - implicit * eta);
  }
  guard.restore_grads();
  guard.dismiss();  // w keeps the in-place ±Rv arithmetic, as in the reference
  // (h)
  before.restore_like_shallow_state_dict(w_optimizer_);
  return r;
}

}  // namespace apportion
