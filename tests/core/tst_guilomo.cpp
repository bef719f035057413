// SPDX-License-Identifier: GPL-3.0-or-later
// GuiLoMo search-stage tests: the straight-through GSV masks on hand-worked examples, the
// supernet adapter against a per-expert loop and its GSV gradients against finite differences
// of ∂L/∂M and ∂L/∂m, the bilevel architect (second-order hypergradient against a finite
// difference of L_val(w − η∇L_train(w, α), α), bit-identical w and optimizer state in the clean
// modes, the α-AdamW settings, an architect round (compute at the round start, apply in order),
// the reference mode's mixture recomputed by hand), optimizer
// state snapshots, the supernet on a tiny LLaMA and the GSV matrix records.
// Legend: N tokens, E experts, R ranks, Din/Dout features.
#include <torch/torch.h>

#include <QtTest>
#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <type_traits>

#include "core/common/error.h"
#include "core/guilomo/bilevel.h"
#include "core/guilomo/gsv_moe_lora_adapter.h"
#include "core/guilomo/gsv_records.h"
#include "core/guilomo/gsv_supernet.h"
#include "core/guilomo/optimizer_state.h"
#include "core/store/matrix_keys.h"
#include "tests/core/guilomo_tiny.h"
#include "tests/core/test_util.h"

using namespace apportion;
using test::AlphaAdam;
using test::check_close;
using test::kF64;
using test::state_of;
using test::Tiny;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no throw>";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

torch::Tensor vec(std::vector<double> v) { return torch::tensor(v, kF64); }

/// A double-precision supernet adapter without dropout and with well-scaled A/B.
std::shared_ptr<GsvMoeLoraAdapterImpl> make_adapter(int din, int dout, int e, int r, int top_k) {
  GsvMoeLoraOptions o;
  o.num_experts = e;
  o.max_rank = r;
  o.top_k = top_k;
  o.dropout = 0.0;
  o.init_std = 0.5;
  auto a = std::make_shared<GsvMoeLoraAdapterImpl>(din, dout, o);
  a->to(torch::kFloat64);
  torch::NoGradGuard no_grad;
  a->lora_E.uniform_(0.5, 1.5);  // not ones, so the E scaling is exercised
  return a;
}

/// Independent forward in the shape of the reference code: a loop over experts, the tokens
/// each expert was selected for, A_i scaled row-wise by E_i ⊙ m_i.
torch::Tensor naive_delta(GsvMoeLoraAdapterImpl& a,
                          const torch::Tensor& x,
                          const torch::Tensor& M,
                          const torch::Tensor& m) {
  const int64_t e = a.num_experts(), r = a.max_rank();
  auto xf = x.reshape({-1, x.size(-1)});                               // [N, Din]
  auto p = torch::softmax(torch::linear(xf, a.router_weight) + M, 1);  // [N, E]
  auto top = p.topk(a.top_k(), 1);
  auto w = std::get<0>(top) / std::get<0>(top).sum(1, true);              // [N, k]
  auto out = torch::zeros({xf.size(0), a.lora_B.size(0)}, xf.options());  // [N, Dout]
  for (int64_t i = 0; i < e; ++i) {
    auto ai = a.lora_A.narrow(0, i * r, r) * (a.lora_E[i] * m[i]).unsqueeze(1);  // [R, Din]
    auto bi = a.lora_B.narrow(1, i * r, r);                                      // [Dout, R]
    for (int64_t t = 0; t < xf.size(0); ++t) {
      for (int64_t j = 0; j < a.top_k(); ++j) {
        if (std::get<1>(top)[t][j].item<int64_t>() != i) continue;
        out[t] += w[t][j] * a.scaling() * torch::mv(bi, torch::mv(ai, xf[t]));
      }
    }
  }
  auto sizes = x.sizes().vec();
  sizes.back() = a.lora_B.size(0);
  return out.reshape(sizes);
}

}  // namespace

class TestGuiLoMo : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    torch::manual_seed(0);
    torch::set_num_threads(1);
  }

  // g^E = (0, 1, −1): s = σ(g) = (.5, .7310586, .2689414), boundary k = 1, M = (.5, .5, −1e4).
  // Upstream G = (1, 2, 3): ∂L/∂s_1 = .5·1 + .7310586·2 = 1.9621172, others 0;
  // ∂L/∂g_1 = 1.9621172 · s_1(1 − s_1) = 1.9621172 · .1966119 = .3857756.
  // Catches: gradient on all entries (plain STE), a missing s_j weight, a cumsum past k, no
  // forcing of boundary 0 to 1.
  void expert_mask_hand_example() {
    auto g = vec({0.0, 1.0, -1.0}).requires_grad_();
    auto mask = gsv_expert_mask(torch::sigmoid(g), /*min_boundary=*/1);
    QVERIFY(check_close(mask, vec({0.5, 0.5, -1e4}), 0, "mask"));
    mask.backward(vec({1.0, 2.0, 3.0}));
    QVERIFY(check_close(g.grad(), vec({0.0, 0.3857756475351712, 0.0}), 1e-12, "dL/dg"));
    auto s = vec({0.5, 0.7310585786300049, 0.2689414213699951}).requires_grad_();
    gsv_expert_mask(s, 1).backward(vec({1.0, 2.0, 3.0}));
    QVERIFY(check_close(s.grad(), vec({0.0, 1.9621171572600098, 0.0}), 1e-12, "dL/ds"));
    // g^E = (2, 0, 0): argmax 0 is forced to boundary 1 (two experts stay active):
    // ∂L/∂s_1 = .8807971·1 + .5·2 = 1.8807971, ∂L/∂g_1 = 1.8807971 · .25 = .4701993.
    auto g2 = vec({2.0, 0.0, 0.0}).requires_grad_();
    auto mask2 = gsv_expert_mask(torch::sigmoid(g2), 1);
    QVERIFY(check_close(mask2, vec({0.5, 0.5, -1e4}), 0, "forced mask"));
    mask2.backward(vec({1.0, 2.0, 3.0}));
    QVERIFY(check_close(g2.grad(), vec({0.0, 0.47019926949447055, 0.0}), 1e-12, "forced dL/dg"));
  }

  // 3 experts × 3 ranks. Rows of g^R: (0, 1, −1) → k = 1, m = (1, 1, 1e-4);
  // (1, 0, 0) → k = 0 (no forcing for ranks), m = (1, 1e-4, 1e-4); (−1, −1, 2) → k = 2, m = 1.
  // Upstream ∂L/∂m = ((1, 2, 3), (4, 5, 6), (7, 8, 9)); σ'(0) = .25, σ'(±1) = .1966119,
  // σ'(2) = .1049936. Row 0: s-grads (1e-4·1, .5·1 + .7310586·2, 1e-4·3)
  //   → g-grads (2.5e-5, .3857756, 5.898358e-5).
  // Row 1: (.7310586·4, 1e-4·5, 1e-4·6) → (.5749394, 1.25e-4, 1.5e-4).
  // Row 2: boundary .2689414·7 + .2689414·8 + .8807971·9 = 11.961295 → 1.2558593; leaks
  //   1e-4·7·.1966119 = 1.376284e-4, 1e-4·8·.1966119 = 1.572895e-4.
  // Catches: the leak missing or applied at the boundary, rows mixed up, forcing on ranks.
  void rank_mask_hand_example() {
    auto g = torch::tensor({0.0, 1.0, -1.0, 1.0, 0.0, 0.0, -1.0, -1.0, 2.0}, kF64)
                 .reshape({3, 3})
                 .requires_grad_();
    auto m = gsv_rank_mask(torch::sigmoid(g));
    QVERIFY(check_close(m, vec({1, 1, 1e-4, 1, 1e-4, 1e-4, 1, 1, 1}).reshape({3, 3}), 0, "m"));
    m.backward(torch::arange(1, 10, kF64).reshape({3, 3}));
    auto expected =
        vec({2.5e-5, 0.3857756475351712, 5.8983579972444555e-05, 0.5749393618288605, 1.25e-4,
             1.5e-4, 0.0001376283532690373, 0.00015728954659318547, 1.2558592504657344})
            .reshape({3, 3});
    QVERIFY(check_close(g.grad(), expected, 1e-10, "dL/dg^R"));
  }

  // Catches: wrong parameter names (the level split), wrong init of GSVs / E / A / B.
  void init_and_names() {
    GsvMoeLoraOptions o;
    o.num_experts = 4;
    o.max_rank = 8;
    GsvMoeLoraAdapterImpl a(64, 48, o);
    std::vector<std::string> names, gsv;
    for (const auto& p : a.named_parameters()) {
      names.push_back(p.key());
      if (is_gsv_parameter(p.key())) gsv.push_back(p.key());
    }
    std::sort(names.begin(), names.end());
    QCOMPARE(names, (std::vector<std::string>{"expertlora_E_vector", "lora_A", "lora_B", "lora_E",
                                              "router.weight", "router_expert_vector"}));
    QCOMPARE(gsv.size(), size_t{2});
    QCOMPARE(a.lora_A.sizes().vec(), (std::vector<int64_t>{32, 64}));
    QCOMPARE(a.lora_B.sizes().vec(), (std::vector<int64_t>{48, 32}));
    QVERIFY(check_close(a.router_expert_vector.sum(), torch::tensor(1.0f), 1e-6, "gE sum"));
    QVERIFY(check_close(a.expertlora_E_vector.sum(1), torch::ones({4}), 1e-6, "gR sums"));
    QVERIFY(a.expertlora_E_vector.min().item<float>() > 0);
    QVERIFY(torch::equal(a.lora_E, torch::ones({4, 8})));
    for (const auto& t : {a.lora_A, a.lora_B}) {
      QVERIFY(std::abs(t.std().item<double>() - 0.02) < 0.002);
      QVERIFY(std::abs(t.mean().item<double>()) < 0.002);
    }
    QVERIFY(a.delta(torch::randn({3, 64})).abs().sum().item<double>() > 0);  // B is not zero
  }

  // Catches: stacked-GEMM indexing (columns vs experts), E/m applied to the wrong rows, masked
  // experts still selected, scaling ≠ α / r_max.
  void forward_matches_per_expert_loop() {
    auto a = make_adapter(6, 5, 4, 3, 2);
    {
      torch::NoGradGuard no_grad;
      a->router_expert_vector.copy_(vec({0.1, 0.2, 0.9, 0.3}));  // boundary 2: expert 3 off
      a->expertlora_E_vector.copy_(
          vec({0.9, 0, 0, 0, 0.9, 0, 0, 0, 0.9, 0, 0.9, 0}).reshape({4, 3}));
    }
    auto x = torch::randn({2, 7, 6}, kF64);
    auto y = a->delta(x);
    auto M = a->expert_mask(), m = a->rank_mask();
    QVERIFY(check_close(M, vec({0.5, 0.5, 0.5, -1e4}), 0, "M"));
    QVERIFY(check_close(m, vec({1, 1e-4, 1e-4, 1, 1, 1e-4, 1, 1, 1, 1, 1, 1e-4}).reshape({4, 3}), 0,
                        "m"));
    QVERIFY(check_close(y, naive_delta(*a, x, M, m), 1e-12, "stacked vs loop"));
    QVERIFY(a->last_gates().select(1, 3).abs().max().item<double>() == 0.0);
    QCOMPARE(a->last_router_logits().sizes().vec(), (std::vector<int64_t>{14, 4}));
    QCOMPARE(a->scaling(), 16.0 / 3.0);
  }

  // The STE gradients of the adapter against the rule applied to independently measured
  // G_j = ∂L/∂M_j and ∂L/∂m (central finite differences of the loss with explicit masks).
  // Catches: the mask functions not wired into the forward, G taken from the wrong tensor
  // (e.g. per token instead of summed), rank gradient through the wrong rows.
  void ste_gradients_match_finite_differences() {
    for (const auto& ge : {vec({0.1, 0.3, 0.9}), vec({0.1, 0.9, 0.3})}) {
      auto a = make_adapter(4, 3, 3, 3, 2);
      {
        torch::NoGradGuard no_grad;
        a->router_expert_vector.copy_(ge);
      }
      auto x = torch::randn({9, 4}, kF64), c = torch::randn({9, 3}, kF64);
      auto loss = [&](const torch::Tensor& d) { return (d * c).sum() + 0.5 * d.pow(2).sum(); };
      loss(a->delta(x)).backward();
      torch::NoGradGuard no_grad;
      const auto M0 = a->expert_mask().detach(), m0 = a->rank_mask().detach();
      const double h = 1e-6;
      auto fd = [&](const torch::Tensor& base, bool expert) {
        auto out = torch::zeros_like(base);
        for (int64_t i = 0; i < base.numel(); ++i) {
          auto plus = base.clone(), minus = base.clone();
          plus.view({-1})[i] += h;
          minus.view({-1})[i] -= h;
          auto lp =
              loss(expert ? a->delta_with_masks(x, plus, m0) : a->delta_with_masks(x, M0, plus));
          auto lm =
              loss(expert ? a->delta_with_masks(x, minus, m0) : a->delta_with_masks(x, M0, minus));
          out.view({-1})[i] = (lp - lm) / (2 * h);
        }
        return out;
      };
      const auto G = fd(M0, true), Gm = fd(m0, false);  // [E], [E, R]
      // Expert rule: boundary k = max(argmax s, 1) gets Σ_{j≤k} s_j G_j, times σ'.
      auto s = torch::sigmoid(a->router_expert_vector);
      const int64_t k = std::max<int64_t>(s.argmax().item<int64_t>(), 1);
      auto expected = torch::zeros_like(s);
      expected[k] = (s.narrow(0, 0, k + 1) * G.narrow(0, 0, k + 1)).sum() * s[k] * (1 - s[k]);
      QVERIFY(expected.abs().max().item<double>() > 1e-4);  // the check is not vacuous
      QVERIFY(check_close(a->router_expert_vector.grad(), expected, 1e-6, "expert GSV grad"));
      // Rank rule, row by row.
      auto sr = torch::sigmoid(a->expertlora_E_vector);
      auto expected_r = Gm * 1e-4 * sr * (1 - sr);
      for (int64_t i = 0; i < 3; ++i) {
        const int64_t ki = sr[i].argmax().item<int64_t>();
        expected_r[i][ki] = (sr[i].narrow(0, 0, ki + 1) * Gm[i].narrow(0, 0, ki + 1)).sum() *
                            sr[i][ki] * (1 - sr[i][ki]);
      }
      QVERIFY(check_close(a->expertlora_E_vector.grad(), expected_r, 1e-6, "rank GSV grad"));
    }
  }

  // Catches: accessors disagreeing with what the forward masks (σ vs raw, boundary forcing).
  void accessors_match_masks() {
    auto a = make_adapter(4, 3, 4, 5, 2);
    {
      torch::NoGradGuard no_grad;
      a->router_expert_vector.copy_(vec({3.0, 0.1, 0.2, 0.3}));  // argmax 0 → 2 active
    }
    const auto v = a->gsv_values("model.layers.1.mlp.up_proj", 1, "up_proj");
    QCOMPARE(v.expert.size(), size_t{4});
    QCOMPARE(v.rank.size(), size_t{4});
    QCOMPARE(v.rank[2].size(), size_t{5});
    QVERIFY(std::abs(v.expert[0] - 1.0 / (1.0 + std::exp(-3.0))) < 1e-6);
    QCOMPARE(a->current_experts(), 2);
    QCOMPARE(static_cast<int>((a->expert_mask() > 0).sum().item<int64_t>()), 2);
    const auto ranks = a->current_ranks();
    auto on = (a->rank_mask() == 1.0).sum(1);
    for (int i = 0; i < 4; ++i) QCOMPARE(static_cast<int64_t>(ranks[i]), on[i].item<int64_t>());
    GuiLoMoReadoutOptions o;
    o.n_max = 4;
    o.r_max = 5;
    const auto m = read_module(v, o);
    QCOMPARE(m.experts, a->current_experts());
    QCOMPARE(m.ranks, ranks);
  }

  // dF/dα of F(α) = L_val(w − η ∇_w L_train(w, α), α) by central differences and by double
  // backward; the second-order mode must match both (up to the O(R²) error of its HVP).
  // Catches: a sign error or a missing η in the implicit term, v taken at w instead of w',
  // the HVP around w' instead of w, accumulated α-gradients.
  void second_order_matches_hypergradient() {
    Tiny t;
    const double eta = 1.0;
    auto F = [&](const torch::Tensor& a) {
      auto g = t.grads(t.W, t.b, a, true);
      return Tiny::loss(t.W - eta * g[0], t.b - eta * g[1], a, t.xv, t.yv).item<double>();
    };
    auto fd = torch::zeros({3}, kF64);
    for (int i = 0; i < 3; ++i) {
      auto ap = t.a.detach().clone(), am = t.a.detach().clone();
      ap[i] += 1e-5;
      am[i] -= 1e-5;
      fd[i] = (F(ap) - F(am)) / 2e-5;
    }
    // Exact hypergradient by double backward.
    auto al = t.a.detach().clone().requires_grad_();
    auto gw = torch::autograd::grad({Tiny::loss(t.W, t.b, al, t.xt, t.yt)}, {t.W, t.b}, {}, true,
                                    /*create_graph=*/true);
    auto fv = Tiny::loss(t.W - eta * gw[0], t.b - eta * gw[1], al, t.xv, t.yv);
    auto exact = torch::autograd::grad({fv}, {al})[0];
    QVERIFY(check_close(fd, exact, 1e-7, "finite difference vs double backward"));
    // The implicit term is far above the tolerance below, so dropping it would fail the test.
    auto g1 = t.grads(t.W - eta * gw[0].detach(), t.b - eta * gw[1].detach(), t.a, false)[2];
    QVERIFY((g1 - exact).abs().max().item<double>() > 5e-3);
    torch::optim::AdamW opt(t.w(), torch::optim::AdamWOptions(1e-2));
    ArchitectOptions o;
    o.mode = ArchitectMode::SecondOrder;
    BilevelArchitect arch(t.w(), {t.a}, opt, o);
    auto r = arch.step([&] { return t.train(); }, [&] { return t.val(); }, eta);
    QVERIFY(check_close(r.alpha_grad.at(0), exact, 1e-4, "second_order vs hypergradient"));
    QVERIFY(std::abs(r.r * r.v_norm - 0.01) < 1e-12);
  }

  // Catches: the clean modes leaking into w, w.grad (accumulated micro-batch gradients) or the
  // w-optimizer's moments and step counts; first_order not being ∇_α L_val(w).
  void clean_modes_leave_w_and_state_bit_identical() {
    for (auto mode : {ArchitectMode::FirstOrder, ArchitectMode::SecondOrder}) {
      Tiny t;
      torch::optim::AdamW opt(t.w(), torch::optim::AdamWOptions(1e-2).weight_decay(0.01));
      for (int i = 0; i < 2; ++i) {
        opt.zero_grad();
        t.train().backward();
        opt.step();
      }
      opt.zero_grad();
      t.val().backward();  // an "accumulated" gradient that must survive
      std::vector<torch::Tensor> before;
      for (auto& p : t.w()) {
        before.push_back(p.detach().clone());
        before.push_back(p.grad().clone());
        auto& s = state_of<torch::optim::AdamWParamState>(opt, p);
        before.push_back(s.exp_avg().clone());
        before.push_back(s.exp_avg_sq().clone());
        before.push_back(torch::tensor(s.step()));
      }
      const auto expected_g = t.grads(t.W, t.b, t.a, false)[2];
      const auto a0 = t.a.detach().clone();
      ArchitectOptions o;
      o.mode = mode;
      BilevelArchitect arch(t.w(), {t.a}, opt, o);
      auto r = arch.step([&] { return t.train(); }, [&] { return t.val(); }, 0.2);
      size_t k = 0;
      for (auto& p : t.w()) {
        auto& s = state_of<torch::optim::AdamWParamState>(opt, p);
        QVERIFY(torch::equal(p.detach(), before[k++]));
        QVERIFY(torch::equal(p.grad(), before[k++]));
        QVERIFY(torch::equal(s.exp_avg(), before[k++]));
        QVERIFY(torch::equal(s.exp_avg_sq(), before[k++]));
        QVERIFY(torch::equal(torch::tensor(s.step()), before[k++]));
      }
      QVERIFY(!torch::equal(t.a.detach(), a0));
      if (mode == ArchitectMode::FirstOrder) {
        QVERIFY(check_close(r.alpha_grad[0], expected_g, 1e-12, "first_order"));
      }
    }
  }

  // Two α-AdamW steps recomputed by hand with lr 3e-3, betas (0.5, 0.999), eps 1e-8, wd 0.
  // Catches: default AdamW settings (betas 0.9, wd 1e-2) instead of the reference's.
  void alpha_optimizer_settings() {
    Tiny t;
    torch::optim::AdamW opt(t.w(), torch::optim::AdamWOptions(1e-2));
    ArchitectOptions o;
    o.mode = ArchitectMode::FirstOrder;
    BilevelArchitect arch(t.w(), {t.a}, opt, o);
    AlphaAdam adam(t.a.detach());
    for (int step = 1; step <= 2; ++step) {
      adam.step(arch.step(
                        nullptr, [&] { return t.val(); }, 0.0)
                    .alpha_grad[0]);
      QVERIFY(check_close(t.a.detach(), adam.a, 1e-12, "alpha after step " + std::to_string(step)));
    }
  }

  // An architect round of two micro-batches (allocation.guilomo.architect_round 2, the data-
  // parallel search): compute() leaves α, w and the optimiser untouched and returns ∇_α L_val at
  // the round's α for each micro-batch (checked against autograd at explicit values), and two
  // apply() calls are two α-AdamW steps with those gradients in order (checked by hand). The
  // sequential search's second gradient (at α after the first step) differs.
  // Catches: compute() stepping α, a round taking its second gradient at the moved α.
  void architect_round_computes_at_the_round_start() {
    Tiny t;
    torch::optim::AdamW opt(t.w(), torch::optim::AdamWOptions(1e-2));
    ArchitectOptions o;
    o.mode = ArchitectMode::FirstOrder;
    BilevelArchitect arch(t.w(), {t.a}, opt, o);
    const auto a0 = t.a.detach().clone(), W0 = t.W.detach().clone();
    auto val2 = [&] { return Tiny::loss(t.W, t.b, t.a, t.xt, t.yt); };  // another held-out batch
    const auto g1 = arch.compute(
                            nullptr, [&] { return t.val(); }, 0.0)
                        .alpha_grad[0];
    const auto g2 = arch.compute(nullptr, val2, 0.0).alpha_grad[0];
    QVERIFY(torch::equal(t.a.detach(), a0));
    QVERIFY(torch::equal(t.W.detach(), W0));
    QVERIFY(opt.state().empty());
    QVERIFY(check_close(g1, t.grads(t.W, t.b, a0, /*on_train=*/false)[2], 1e-12, "g1 at a0"));
    QVERIFY(check_close(g2, t.grads(t.W, t.b, a0, /*on_train=*/true)[2], 1e-12, "g2 at a0"));
    arch.apply({g1});
    const auto a1 = t.a.detach().clone();
    const auto g2_sequential = t.grads(t.W, t.b, a1, /*on_train=*/true)[2];
    arch.apply({g2});
    AlphaAdam adam(a0);
    adam.step(g1);
    adam.step(g2);
    QVERIFY(check_close(t.a.detach(), adam.a, 1e-12, "alpha after the round"));
    QVERIFY((g2_sequential - g2).abs().max().item<double>() > 1e-9);
    QVERIFY(contains(error_of([&] { arch.apply({g1, g2}); }), "2 GSV gradients for 1"));
  }

  // The reference mode's g_α recomputed by hand: a real AdamW step (the optimizer had one step
  // of state: moments m0, v0, step 1), v = ∇_w L_train(w) + ∇_w' L_val(w'), and
  // g_α = ∇_α L_train(w) + ∇_α L_val(w') + η/(2R)·∇_α L_train(w − Rv). Afterwards the Adam
  // state holds the unrolled step (step 2), w.grad is restored, w is back up to rounding.
  // Catches: the reference mode silently computing the clean formula, a deep state restore.
  void reference_mode_reproduces_the_mixture() {
    Tiny t;
    const double lr = 0.05, wd = 0.01, eta = 0.05;
    torch::optim::AdamW opt(t.w(), torch::optim::AdamWOptions(lr).weight_decay(wd));
    opt.zero_grad();
    t.train().backward();
    opt.step();
    opt.zero_grad();
    t.val().backward();
    const auto W0 = t.W.detach().clone(), b0 = t.b.detach().clone(), a0 = t.a.detach().clone();
    const auto gradW0 = t.W.grad().clone();
    std::vector<torch::Tensor> m, v, w1;
    auto gtr = t.grads(W0, b0, a0, true);
    size_t i = 0;
    for (auto& p : t.w()) {
      auto& s = state_of<torch::optim::AdamWParamState>(opt, p);
      m.push_back(0.9 * s.exp_avg() + 0.1 * gtr[i]);
      v.push_back(0.999 * s.exp_avg_sq() + 0.001 * gtr[i] * gtr[i]);
      const double bc1 = 1 - 0.9 * 0.9, bc2 = 1 - 0.999 * 0.999;
      w1.push_back(p.detach() * (1 - lr * wd) -
                   (lr / bc1) * m[i] / (v[i].sqrt() / std::sqrt(bc2) + 1e-8));
      ++i;
    }
    auto gval = t.grads(w1[0], w1[1], a0, false);
    auto vW = gtr[0] + gval[0], vb = gtr[1] + gval[1];
    const double R = 0.01 / torch::cat({vW.reshape(-1), vb}).norm().item<double>();
    auto gminus = t.grads(W0 - R * vW, b0 - R * vb, a0, true);
    auto expected = gtr[2] + gval[2] + (eta / (2 * R)) * gminus[2];
    ArchitectOptions o;
    o.mode = ArchitectMode::Reference;
    BilevelArchitect arch(t.w(), {t.a}, opt, o);
    auto r = arch.step([&] { return t.train(); }, [&] { return t.val(); }, eta);
    QVERIFY(check_close(r.alpha_grad[0], expected, 1e-9, "reference g_alpha"));
    QVERIFY(std::abs(r.r - R) < 1e-12 * R);
    QVERIFY(check_close(t.W.detach(), W0, 1e-12, "w restored up to rounding"));
    QVERIFY(torch::equal(t.W.grad(), gradW0));
    i = 0;
    for (auto& p : t.w()) {
      auto& s = state_of<torch::optim::AdamWParamState>(opt, p);
      QCOMPARE(s.step(), int64_t{2});
      QVERIFY(check_close(s.exp_avg(), m[i], 1e-12, "exp_avg keeps the unrolled step"));
      QVERIFY(check_close(s.exp_avg_sq(), v[i], 1e-12, "exp_avg_sq keeps the unrolled step"));
      ++i;
    }
    // At the very first step the optimizer had no state, and the restore empties it again.
    Tiny fresh;
    torch::optim::AdamW opt2(fresh.w(), torch::optim::AdamWOptions(lr));
    BilevelArchitect arch2(fresh.w(), {fresh.a}, opt2, o);
    arch2.step([&] { return fresh.train(); }, [&] { return fresh.val(); }, eta);
    QVERIFY(opt2.state().empty());
  }

  // With hvp_same_noise the w ± Rv passes see the same random numbers (dropout masks); the
  // closure records one draw per call: its second and third calls are the two HVP passes.
  void hvp_passes_replay_random_numbers() {
    for (bool same : {true, false}) {
      Tiny t;
      std::vector<double> draws;
      auto train = [&] {
        draws.push_back(torch::rand({1}).item<double>());
        return t.train();
      };
      torch::optim::AdamW opt(t.w(), torch::optim::AdamWOptions(1e-2));
      ArchitectOptions o;
      o.hvp_same_noise = same;
      BilevelArchitect(t.w(), {t.a}, opt, o)
          .step(
              train, [&] { return t.val(); }, 0.1);
      QCOMPARE(draws.size(), size_t{3});
      QCOMPARE(draws[1] == draws[2], same);
    }
  }

  // Catches: wiring mistakes (GSVs in the w-optimizer), unknown mode strings.
  void architect_checks_and_mode_strings() {
    Tiny t;
    torch::optim::AdamW both({t.W, t.b, t.a}, torch::optim::AdamWOptions(1e-2));
    QVERIFY(contains(error_of([&] { BilevelArchitect(t.w(), {t.a}, both, {}); }),
                     "keep the GSVs out of it"));
    for (auto m : {ArchitectMode::FirstOrder, ArchitectMode::SecondOrder, ArchitectMode::Reference})
      QVERIFY(architect_mode_from_string(to_string(m)) == m);
    QVERIFY(contains(error_of([] { architect_mode_from_string("darts"); }),
                     "guilomo.architect_mode: unknown mode \"darts\""));
  }

  // Catches: shallow "deep" copies (restored state aliasing the live one), unsupported types.
  void optimizer_state_snapshot() {
    auto p = torch::randn({4}, kF64).requires_grad_();
    torch::optim::SGD sgd({p}, torch::optim::SGDOptions(0.1).momentum(0.9));
    p.mutable_grad() = torch::ones_like(p);
    sgd.step();
    OptimizerStateSnapshot saved(sgd, OptimizerStateSnapshot::Depth::Deep);
    const auto buf = state_of<torch::optim::SGDParamState>(sgd, p).momentum_buffer().clone();
    sgd.step();
    QVERIFY(!torch::equal(state_of<torch::optim::SGDParamState>(sgd, p).momentum_buffer(), buf));
    saved.restore(sgd);
    QVERIFY(torch::equal(state_of<torch::optim::SGDParamState>(sgd, p).momentum_buffer(), buf));
    torch::optim::RMSprop rms({p}, torch::optim::RMSpropOptions(0.1));
    rms.step();
    QVERIFY(contains(
        error_of([&] { OptimizerStateSnapshot(rms, OptimizerStateSnapshot::Depth::Deep); }),
        "unsupported optimizer state type"));
  }

  // The supernet on the tiny LLaMA: level split, STE gradients on the boundary entries only,
  // router logits per layer, GSV records shaped [layer, module, expert(, rank)].
  void supernet_on_tiny_llama() {
    TransformerLM model(test::tiny_llama_config());
    model->freeze_backbone();
    GsvMoeLoraOptions o;
    o.num_experts = 4;
    o.max_rank = 4;
    o.dropout = 0.0;
    auto net = inject_gsv_adapters(model, {"q_proj", "v_proj", "down_proj"}, o);
    QCOMPARE(net.slots().size(), size_t{6});
    QCOMPARE(net.gsv_parameters().size(), size_t{12});
    QCOMPARE(net.lower_parameters().size(), size_t{24});
    const auto named = net.named_parameters();  // full paths, as in the reference's state dict
    QVERIFY(std::any_of(named.begin(), named.end(), [](const auto& n) {
      return n.first == "model.layers.1.mlp.down_proj.adapter.expertlora_E_vector";
    }));
    auto logits = model->forward(torch::randint(3, 64, {2, 5}, torch::kInt64));
    logits.pow(2).mean().backward();
    for (const auto& s : net.slots()) {
      auto g = s.adapter->router_expert_vector.grad();
      QVERIFY(g.defined());
      QCOMPARE((g != 0).sum().item<int64_t>(), int64_t{1});
      QCOMPARE(g.abs().argmax().item<int64_t>(), int64_t{s.adapter->current_experts() - 1});
    }
    const auto by_layer = net.router_logits_by_layer();
    QCOMPARE(by_layer.size(), size_t{2});
    QCOMPARE(by_layer.at(1).size(), size_t{3});
    QCOMPARE(by_layer.at(1)[0].sizes().vec(), (std::vector<int64_t>{10, 4}));
    GuiLoMoReadoutOptions ro;
    ro.n_max = 4;
    ro.r_max = 4;
    const auto values = net.gsv_values();
    const auto records = gsv_records(values, ro, 7);
    QCOMPARE(records.size(), size_t{4});
    QCOMPARE(records[0].key, std::string(matrix_keys::kGsvExpert));
    QCOMPARE(records[0].shape, (std::vector<int64_t>{2, 3, 4}));
    QCOMPARE(records[1].shape, (std::vector<int64_t>{2, 3, 4, 4}));
    QCOMPARE(records[2].shape, (std::vector<int64_t>{2, 3}));
    QCOMPARE(records[3].shape, (std::vector<int64_t>{2, 3, 4}));
    // Layer 1, down_proj (module index 2): values and the argmax readout.
    const auto& s = net.slots()[5];
    QCOMPARE(s.module, std::string("down_proj"));
    QCOMPARE(records[0].f32[(1 * 3 + 2) * 4 + 3], values[5].expert[3]);
    QCOMPARE(records[1].f32[((1 * 3 + 2) * 4 + 1) * 4 + 2], values[5].rank[1][2]);
    QCOMPARE(records[2].i32[1 * 3 + 2], s.adapter->current_experts());
    const auto ranks = s.adapter->current_ranks();
    for (int e = 0; e < 4; ++e) {
      QCOMPARE(records[3].i32[(1 * 3 + 2) * 4 + e],
               e < s.adapter->current_experts() ? ranks[e] : -1);
    }
    net.clear_caches();
    QVERIFY(net.router_logits_by_layer().empty());
  }
};

QTEST_APPLESS_MAIN(TestGuiLoMo)
#include "tst_guilomo.moc"
