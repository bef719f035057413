// SPDX-License-Identifier: GPL-3.0-or-later
// Fixtures of the GuiLoMo architect tests (tst_guilomo.cpp): a tiny smooth bilevel problem, the
// α-AdamW recomputed by hand, and access to an optimizer's per-parameter state.
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace apportion::test {

inline const auto kF64 = torch::TensorOptions().dtype(torch::kFloat64);

/// The optimizer state of parameter p (the state map's key type differs between LibTorch 1.x,
/// a printed TensorImpl pointer, and 2.x, the pointer itself).
template <typename Key>
Key state_key(const torch::Tensor& p) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream out;
    out << p.unsafeGetTensorImpl();
    return out.str();
  } else {
    return static_cast<Key>(p.unsafeGetTensorImpl());
  }
}

template <typename State>
State& state_of(torch::optim::Optimizer& opt, const torch::Tensor& p) {
  using Key = typename std::decay_t<decltype(opt.state())>::key_type;
  return static_cast<State&>(*opt.state().at(state_key<Key>(p)));
}

/// The tiny bilevel problem: w = {W [2, 3], b [2]}, α = {a [3]}, smooth in both,
/// L = mean((tanh((x ⊙ e^a) Wᵀ + b) − y)²) + 0.05·|a|²·|W|².
struct Tiny {
  torch::Tensor W = (torch::randn({2, 3}, kF64) * 0.7).requires_grad_();
  torch::Tensor b = (torch::randn({2}, kF64) * 0.3).requires_grad_();
  torch::Tensor a = (torch::randn({3}, kF64) * 0.3).requires_grad_();
  torch::Tensor xt = torch::randn({6, 3}, kF64), yt = torch::randn({6, 2}, kF64) * 0.5;
  torch::Tensor xv = torch::randn({5, 3}, kF64), yv = torch::randn({5, 2}, kF64) * 0.5;

  static torch::Tensor loss(const torch::Tensor& W,
                            const torch::Tensor& b,
                            const torch::Tensor& a,
                            const torch::Tensor& x,
                            const torch::Tensor& y) {
    auto h = torch::tanh(torch::linear(x * torch::exp(a), W, b));
    return (h - y).pow(2).mean() + 0.05 * a.pow(2).sum() * W.pow(2).sum();
  }
  torch::Tensor train() { return loss(W, b, a, xt, yt); }
  torch::Tensor val() { return loss(W, b, a, xv, yv); }
  std::vector<torch::Tensor> w() { return {W, b}; }
  /// ∇ of a loss at explicit values (fresh leaves), w.r.t. (W, b, a).
  std::vector<torch::Tensor> grads(const torch::Tensor& W0,
                                   const torch::Tensor& b0,
                                   const torch::Tensor& a0,
                                   bool on_train) {
    auto Wl = W0.detach().clone().requires_grad_(), bl = b0.detach().clone().requires_grad_();
    auto al = a0.detach().clone().requires_grad_();
    auto l = on_train ? loss(Wl, bl, al, xt, yt) : loss(Wl, bl, al, xv, yv);
    return torch::autograd::grad({l}, {Wl, bl, al});
  }
};

/// The α-AdamW of METHODS.md §3.3 by hand (lr 3e-3, betas (0.5, 0.999), eps 1e-8, no decay).
struct AlphaAdam {
  explicit AlphaAdam(const torch::Tensor& start)
      : a(start.clone()), m(torch::zeros_like(start)), v(torch::zeros_like(start)) {}
  void step(const torch::Tensor& g) {
    ++t;
    m = 0.5 * m + 0.5 * g;
    v = 0.999 * v + 0.001 * g * g;
    const double bc1 = 1 - std::pow(0.5, t), bc2 = 1 - std::pow(0.999, t);
    a = a - (3e-3 / bc1) * m / (v.sqrt() / std::sqrt(bc2) + 1e-8);
  }
  torch::Tensor a, m, v;
  int t = 0;
};

}  // namespace apportion::test
