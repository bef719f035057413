// SPDX-License-Identifier: GPL-3.0-or-later
// Tests of the adapters: zero-B identity, router probabilities and renormalised top-k gates,
// stacked two-GEMM LoRA-MoE == per-expert loop (values and gradients), the balance loss on a
// hand-computed example, gradients reaching only adapters, LoRA scaling, routing statistics,
// and an overfit smoke test (loss falls on a repeated batch); the DR-LoRA hooks of plain LoRA
// (active-rank mask, fixed scaling denominator); per-expert LoRA on sparse-MoE backbones
// (Mixtral, Qwen2-MoE) against merged weights; the frozen/trainable backbone router; and the
// backbone's routing statistics against a per-token reference.
// Legend: N tokens, E experts, k top-k, Din/Dout features, R rank.
#include <torch/torch.h>

#include <QtTest>
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <string>

#include "core/adapters/adapter_injector.h"
#include "core/adapters/backbone_routing.h"
#include "core/adapters/lora_adapter.h"
#include "core/adapters/moe_lora_adapter.h"
#include "core/common/error.h"
#include "core/train/model_builder.h"
#include "core/train/train_records.h"
#include "tests/core/test_util.h"

using namespace apportion;
using test::contains;
using test::error_of;

namespace {

/// Fills every lora_B of the adapters with N(0, 0.1) so the deltas are non-zero.
void randomise_b(const AdapterSet& set) {
  torch::NoGradGuard no_grad;
  for (auto& [name, p] : set.named_parameters()) {
    if (contains(name, "lora_B")) p.normal_(0.0, 0.1);
  }
}

/// Layer 0: experts of ranks {2, 4, 3}, top-2; layer 1: {4, 4}, top-1.
ExpertAllocation tiny_allocation() {
  ExpertAllocation a;
  a.ranks = {{2, 4, 3}, {4, 4}};
  a.top_k = {2, 1};
  return a;
}

/// A MoE adapter with Din = E = 3 whose router weight's column d holds the logits of a token
/// one-hot at d, so x = I gives chosen logits.
std::shared_ptr<MoeLoraAdapterImpl> adapter_with_logits(
    const std::vector<std::vector<double>>& probs) {
  auto a = std::make_shared<MoeLoraAdapterImpl>(3, 4, std::vector<int>{2, 2, 2}, 2, 16.0, 0.0);
  torch::NoGradGuard no_grad;
  a->router_weight.zero_();
  for (size_t t = 0; t < probs.size(); ++t) {
    for (int e = 0; e < 3; ++e) a->router_weight[e][t].fill_(std::log(probs[t][e]));
  }
  return a;
}

/// A tiny sparse-MoE backbone: "mixtral" (4 experts, top-2, every layer MoE) or "qwen2_moe"
/// (4 experts of width 24, top-2, a shared expert of width 40, layer 1 dense).
ModelConfig tiny_moe_config(const std::string& arch) {
  nlohmann::json c = {{"vocab_size", 64},         {"hidden_size", 32},
                      {"intermediate_size", 48},  {"num_hidden_layers", 2},
                      {"num_attention_heads", 4}, {"num_key_value_heads", 2},
                      {"rms_norm_eps", 1e-5},     {"max_position_embeddings", 64},
                      {"bos_token_id", 1},        {"eos_token_id", 2},
                      {"num_experts_per_tok", 2}};
  if (arch == "mixtral") {
    c["architectures"] = {"MixtralForCausalLM"};
    c["model_type"] = "mixtral";
    c["num_local_experts"] = 4;
  } else {
    c["architectures"] = {"Qwen2MoeForCausalLM"};
    c["model_type"] = "qwen2_moe";
    c["num_experts"] = 4;
    c["moe_intermediate_size"] = 24;
    c["shared_expert_intermediate_size"] = 40;
    c["mlp_only_layers"] = {1};
    c["norm_topk_prob"] = false;
  }
  return ModelConfig::from_json(c, "tiny " + arch);
}

/// Every projection in target_modules, r = 3, no dropout.
AdapterConfig all_modules_config(const std::string& method) {
  AdapterConfig cfg;
  cfg.method = method;
  cfg.r = 3;
  cfg.lora_dropout = 0.0;
  return cfg;
}

/// Two LoRA-MoE experts of rank 2 per layer, top-1 (2 layers).
ExpertAllocation single_expert_allocation() {
  ExpertAllocation a;
  a.ranks = {{2, 2}, {2, 2}};
  a.top_k = {1, 1};
  return a;
}

}  // namespace

class TestAdapters : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    torch::manual_seed(0);
    torch::set_num_threads(1);
  }

  void zero_b_leaves_base_output() {
    AdaptableLinear lin(16, 24, /*bias=*/true);
    auto x = torch::randn({2, 5, 16});
    auto base = lin(x);
    lin->set_adapter(std::make_shared<LoraAdapterImpl>(16, 24, 4, 8.0, 0.1));
    QVERIFY(torch::equal(lin(x), base));
    lin->set_adapter(
        std::make_shared<MoeLoraAdapterImpl>(16, 24, std::vector<int>{2, 5, 8}, 2, 16.0, 0.1));
    QVERIFY(torch::equal(lin(x), base));
    QVERIFY(lin->named_parameters().contains("adapter.router.weight"));
    QVERIFY(lin->named_parameters().contains("adapter.lora_A"));
    QCOMPARE(lin->named_parameters()["adapter.lora_A"].size(0), int64_t{15});  // ΣR
  }

  void router_probs_and_renormalised_gates() {
    MoeLoraAdapterImpl moe(12, 10, {3, 3, 3, 3, 3}, /*top_k=*/2, 16.0, 0.0);
    auto x = torch::randn({4, 6, 12});
    auto delta = moe.delta(x);
    QCOMPARE(delta.sizes().vec(), (std::vector<int64_t>{4, 6, 10}));
    auto logits = moe.last_router_logits();
    QCOMPARE(logits.sizes().vec(), (std::vector<int64_t>{24, 5}));
    QVERIFY(logits.requires_grad());
    auto p = torch::softmax(logits.to(torch::kFloat32), 1);
    QVERIFY(test::check_close(p.sum(1), torch::ones({24}), 1e-6, "prob sums"));
    auto gates = moe.last_gates();
    QVERIFY(!gates.requires_grad());
    QVERIFY(test::check_close(gates.sum(1), torch::ones({24}), 1e-6, "gate sums"));
    QVERIFY(torch::equal((gates > 0).sum(1), torch::full({24}, 2, torch::kInt64)));
    auto top = p.topk(2, 1);
    auto sel_p = std::get<0>(top);
    auto expected = torch::zeros_like(p).scatter(1, std::get<1>(top), sel_p / sel_p.sum(1, true));
    QVERIFY(test::check_close(gates, expected, 1e-6, "gates"));
    // Every selected gate beats every unselected probability of the same token.
    auto min_sel = p.masked_fill(gates == 0, 2.0).amin(1);
    auto max_unsel = p.masked_fill(gates > 0, -1.0).amax(1);
    QVERIFY((min_sel >= max_unsel).all().item<bool>());
  }

  void stacked_equals_naive_with_grads() {
    MoeLoraAdapterImpl moe(12, 10, {2, 5, 8, 3}, /*top_k=*/2, 16.0, /*dropout=*/0.2);
    moe.eval();  // dropout off: naive has none
    {
      torch::NoGradGuard no_grad;
      moe.lora_B.normal_(0.0, 0.5);
    }
    QCOMPARE(moe.rank_offset(2), int64_t{7});
    QCOMPARE(moe.expert_scaling(1), 16.0 / 5.0);
    auto x0 = torch::randn({3, 7, 12});
    auto w = torch::randn({3, 7, 10});
    auto run = [&](bool naive) {
      for (auto& p : moe.parameters()) p.mutable_grad() = torch::Tensor();
      auto x = x0.clone().requires_grad_(true);
      auto y = naive ? moe_lora_delta_naive(moe, x) : moe.delta(x);
      (y * w).sum().backward();
      return std::vector<torch::Tensor>{y.detach(), moe.lora_A.grad().clone(),
                                        moe.lora_B.grad().clone(), moe.router_weight.grad().clone(),
                                        x.grad().clone()};
    };
    auto fast = run(false), slow = run(true);
    const char* labels[] = {"delta", "grad lora_A", "grad lora_B", "grad router", "grad x"};
    for (size_t i = 0; i < fast.size(); ++i) {
      QVERIFY2(test::check_close(fast[i], slow[i], 1e-5, labels[i]), labels[i]);
      QVERIFY2(fast[i].abs().sum().item<double>() > 0, labels[i]);
    }
  }

  void balance_loss_hand_computed() {
    // Adapter 1 (q_proj), 3 tokens, E = 3, k = 2:
    //   p = [.5 .3 .2], [.1 .2 .7], [.3 .6 .1]; top-2 = {0,1}, {2,1}, {1,0}
    //   counts [2 3 1] / (k·rows = 6) → f = [1/3, 1/2, 1/6]; P̄ = [.9 1.1 1.0] / 3
    //   Σ f P̄ = (2·.9 + 3·1.1 + 1·1.0) / 18 = 6.1/18 = 0.338889; × N=3 → 1.016667
    // Adapter 2 (k_proj, same layer), 1 token: p = [.6 .1 .3], top-2 = {0,2}
    //   f = [1/2 0 1/2], P̄ = p → Σ f P̄ = 0.45; × 3 → 1.35
    // Layer scope, 4 rows: counts [3 3 2] / 8, P̄ = [1.5 1.2 1.3] / 4
    //   Σ f P̄ = (3·1.5 + 3·1.2 + 2·1.3) / 32 = 10.7/32 = 0.334375; × 3 → 1.003125
    auto a1 = adapter_with_logits({{.5, .3, .2}, {.1, .2, .7}, {.3, .6, .1}});
    auto a2 = adapter_with_logits({{.6, .1, .3}});
    a1->delta(torch::eye(3));
    a2->delta(torch::eye(3).narrow(0, 0, 1));
    QVERIFY(test::check_close(
        torch::softmax(a1->last_router_logits(), 1),
        torch::tensor({.5, .3, .2, .1, .2, .7, .3, .6, .1}).reshape({3, 3}).to(torch::kFloat32),
        1e-6, "constructed probs"));
    AdapterSet set;
    set.add({0, "q_proj", "model.layers.0.self_attn.q_proj", a1, nullptr});
    set.add({0, "k_proj", "model.layers.0.self_attn.k_proj", a2, nullptr});
    BalanceConfig cfg;
    cfg.coef = 0.5;
    cfg.scope = "layer";
    auto layer = set.balance_loss(cfg);
    QVERIFY(std::abs(layer.item<double>() - 0.5 * 1.003125) < 1e-6);
    QVERIFY(layer.requires_grad());
    cfg.scope = "module";
    QVERIFY(std::abs(set.balance_loss(cfg).item<double>() - 0.5 * (1.0166667 + 1.35)) < 1e-6);
    cfg.multiply_by_experts = false;
    QVERIFY(std::abs(set.balance_loss(cfg).item<double>() - 0.5 * (0.3388889 + 0.45)) < 1e-6);
    cfg.coef = 0.0;
    QVERIFY(!set.balance_loss(cfg).defined());
    cfg.coef = 1.0;
    cfg.scope = "global";
    QVERIFY(contains(error_of([&] { set.balance_loss(cfg); }), "adapters.balance.scope"));
  }

  void grads_reach_only_adapters() {
    TransformerLM model(test::tiny_llama_config());
    model->freeze_backbone();
    AdapterConfig cfg;
    cfg.lora_dropout = 0.0;
    auto set = inject_adapters(model, cfg, tiny_allocation());
    QCOMPARE(static_cast<int>(set.adapters().size()), 14);
    randomise_b(set);
    auto ids = torch::randint(3, 64, {2, 8}, torch::kInt64);
    auto logits = model->forward(ids);
    auto loss = torch::nn::functional::cross_entropy(logits.reshape({-1, 64}), ids.reshape({-1}));
    BalanceConfig bal;
    (loss + set.balance_loss(bal)).backward();
    int64_t adapter_params = 0;
    for (const auto& item : model->named_parameters()) {
      const auto& g = item.value().grad();
      if (contains(item.key(), ".adapter.")) {
        ++adapter_params;
        QVERIFY2(g.defined() && g.abs().sum().item<double>() > 0, item.key().c_str());
      } else {
        QVERIFY2(!g.defined() || g.abs().sum().item<double>() == 0, item.key().c_str());
      }
    }
    QCOMPARE(adapter_params, static_cast<int64_t>(set.parameters().size()));
    QCOMPARE(static_cast<int>(set.parameters().size()), 14 * 3);
    // Parameter count: router E·Din + ΣR·(Din + Dout) per projection (dims of the tiny model).
    int64_t expected = 0;
    const std::vector<std::pair<int, int>> dims = {{32, 32}, {32, 16}, {32, 16}, {32, 32},
                                                   {32, 64}, {32, 64}, {64, 32}};
    for (const auto& [sum_r, experts] : {std::pair<int, int>{9, 3}, {8, 2}}) {
      for (const auto& [din, dout] : dims) expected += experts * din + sum_r * (din + dout);
    }
    QCOMPARE(set.parameter_count(), expected);
    QVERIFY(contains(set.named_parameters()[0].first, "model.layers.0.self_attn.q_proj.adapter."));
  }

  void routing_stats_shape_and_padding() {
    TransformerLM model(test::tiny_llama_config());
    AdapterConfig cfg;
    cfg.target_modules = {"down_proj", "q_proj", "v_proj"};
    auto set = inject_adapters(model, cfg, tiny_allocation());
    torch::NoGradGuard no_grad;
    model->forward(torch::randint(3, 64, {2, 8}, torch::kInt64));
    auto s = set.routing_stats();
    QCOMPARE(s.layers, 2);
    QCOMPARE(s.modules, 3);
    QCOMPARE(s.max_experts, 3);
    QVERIFY(s.module_names == (std::vector<std::string>{"q_proj", "v_proj", "down_proj"}));
    QCOMPARE(static_cast<int>(s.load_fraction.size()), 2 * 3 * 3);
    for (int l = 0; l < 2; ++l) {
      for (int m = 0; m < 3; ++m) {
        double load = 0, prob = 0;
        for (int e = 0; e < (l == 0 ? 3 : 2); ++e) {
          load += s.load_fraction[(l * 3 + m) * 3 + e];
          prob += s.router_prob_mean[(l * 3 + m) * 3 + e];
        }
        QVERIFY(std::abs(load - 1.0) < 1e-5 && std::abs(prob - 1.0) < 1e-5);
      }
    }
    QVERIFY(std::isnan(s.load_fraction[(1 * 3 + 2) * 3 + 2]));  // layer 1 has 2 experts
    QVERIFY(s.mean_router_entropy > 0 && s.mean_router_entropy <= std::log(3.0) + 1e-6);
    set.clear_caches();
    QVERIFY(!set.adapters()[0].moe->last_router_logits().defined());
  }

  void lora_injection() {
    TransformerLM model(test::tiny_llama_config());
    model->freeze_backbone();
    AdapterConfig cfg;
    cfg.method = "lora";
    cfg.r = 4;
    cfg.target_modules = {"q_proj", "down_proj"};
    auto set = inject_adapters(model, cfg, ExpertAllocation{});  // allocation unused by LoRA
    QCOMPARE(static_cast<int>(set.adapters().size()), 4);
    QVERIFY(set.adapters()[1].lora && !set.adapters()[1].moe);
    QCOMPARE(set.adapters()[1].name, std::string("model.layers.0.mlp.down_proj"));
    QCOMPARE(set.parameter_count(), int64_t{2 * (4 * (32 + 32) + 4 * (64 + 32))});
    QVERIFY(!set.balance_loss(BalanceConfig{}).defined());
    QCOMPARE(set.routing_stats().max_experts, 0);
  }

  void injection_errors() {
    TransformerLM model(test::tiny_llama_config());
    AdapterConfig cfg;
    cfg.target_modules = {"q_proj", "qkv_proj"};
    auto msg = error_of([&] { inject_adapters(model, cfg, tiny_allocation()); });
    QVERIFY2(contains(msg, "adapters.target_modules: unknown module 'qkv_proj'") &&
                 contains(msg, "known: q_proj"),
             msg.c_str());
    cfg.target_modules = {"q_proj"};
    auto alloc = tiny_allocation();
    alloc.ranks.pop_back();
    msg = error_of([&] { inject_adapters(model, cfg, alloc); });
    QVERIFY2(contains(msg, "layers") && contains(msg, "2"), msg.c_str());
  }

  void lora_scaling_data() {
    QTest::addColumn<int>("r");
    QTest::addColumn<double>("alpha");
    QTest::addColumn<double>("scaling");
    QTest::newRow("mola r8 a16") << 8 << 16.0 << 2.0;
    QTest::newRow("r4 a16") << 4 << 16.0 << 4.0;
    QTest::newRow("r16 a8") << 16 << 8.0 << 0.5;
    QTest::newRow("r1 a1") << 1 << 1.0 << 1.0;
  }
  void lora_scaling() {
    QFETCH(int, r);
    QFETCH(double, alpha);
    QFETCH(double, scaling);
    LoraAdapterImpl lora(10, 6, r, alpha, 0.0);
    QCOMPARE(lora.scaling(), scaling);
    QVERIFY(lora.lora_A.abs().max().item<double>() <= 1.0 / std::sqrt(10.0));
    {
      torch::NoGradGuard no_grad;
      lora.lora_B.normal_();
    }
    auto x = torch::randn({5, 10});
    auto expected = scaling * x.matmul(lora.lora_A.t()).matmul(lora.lora_B.t());
    QVERIFY(test::check_close(lora.delta(x), expected, 1e-5, "lora delta"));
    MoeLoraAdapterImpl moe(10, 6, {r, 2 * r}, 1, alpha, 0.0);
    QCOMPARE(moe.expert_scaling(0), scaling);
    QCOMPARE(moe.expert_scaling(1), scaling / 2);
  }

  void lora_active_rank_and_fixed_scaling() {
    // r_max 8 with 3 active columns, s = α / r_target = 16 / 4.
    LoraAdapterImpl lora(10, 6, LoraOptions{8, 16.0, 0.0, 3, 4.0});
    QCOMPARE(lora.scaling(), 4.0);
    QCOMPARE(lora.rank(), 8);
    QCOMPARE(lora.active_rank(), 3);
    auto mask = torch::tensor({1, 1, 1, 0, 0, 0, 0, 0}).to(torch::kFloat);
    QVERIFY(torch::equal(lora.rank_mask(), mask));
    {
      torch::NoGradGuard no_grad;
      lora.lora_B.normal_();
    }
    auto x = torch::randn({5, 10});
    auto w = torch::randn({5, 6});
    // Independent: the full product with the mask on the rank axis.
    auto full = [&](const torch::Tensor& m) {
      return 4.0 * (x.matmul(lora.lora_A.t()) * m).matmul(lora.lora_B.t());
    };
    auto y = lora.delta(x);
    QVERIFY(test::check_close(y, full(mask).detach(), 1e-5, "masked delta"));
    (y * w).sum().backward();
    auto ga = lora.lora_A.grad(), gb = lora.lora_B.grad();
    QVERIFY(torch::equal(ga.narrow(0, 3, 5), torch::zeros({5, 10})));
    QVERIFY(torch::equal(gb.narrow(1, 3, 5), torch::zeros({6, 5})));
    QVERIFY(ga.narrow(0, 0, 3).abs().min().item<double>() > 0);
    QVERIFY(gb.narrow(1, 0, 3).abs().sum().item<double>() > 0);
    // Growing the active rank keeps the scaling: the old columns' contribution is unchanged.
    torch::NoGradGuard no_grad;
    lora.set_active_rank(8);
    QCOMPARE(lora.scaling(), 4.0);
    auto grown = lora.delta(x);
    QVERIFY(test::check_close(grown, full(torch::ones({8})), 1e-5, "grown delta"));
    QVERIFY(test::check_close(grown - y, full(1.0 - mask), 1e-4, "new columns only"));
    lora.set_active_rank(0);
    QVERIFY(torch::equal(lora.delta(x), torch::zeros({5, 6})));
    QVERIFY(contains(error_of([&] { lora.set_active_rank(9); }), "0..8"));
    QCOMPARE(LoraAdapterImpl(10, 6, LoraOptions{}).scaling(), 2.0);  // peft's default
  }

  void moe_backbone_injection() {
    torch::manual_seed(2);
    TransformerLM model(tiny_moe_config("mixtral"));
    model->freeze_backbone();
    auto alloc = single_expert_allocation();
    alloc.expert_ranks = {{1, 2, 3, 4}, {4, 3, 2, 1}};
    auto set = inject_adapters(model, all_modules_config("moe_lora"), alloc);
    QCOMPARE(static_cast<int>(set.adapters().size()), 2 * (4 + 4 * 3));
    int expert_slots = 0;
    for (const auto& a : set.adapters()) {
      if (a.expert >= 0) {
        ++expert_slots;
        QVERIFY2(a.lora && !a.moe, a.name.c_str());
        QCOMPARE(a.lora->rank(), alloc.expert_ranks[a.layer][a.expert]);
        QCOMPARE(a.lora->scaling(), 16.0 / alloc.expert_ranks[a.layer][a.expert]);
        QVERIFY(a.module == "gate_proj" || a.module == "up_proj" || a.module == "down_proj");
        QVERIFY2(contains(a.name, ".block_sparse_moe.experts." + std::to_string(a.expert) + ".w"),
                 a.name.c_str());
      } else {
        QVERIFY2(a.moe && !a.lora, a.name.c_str());
        QVERIFY(contains(a.name, ".self_attn."));
      }
    }
    QCOMPARE(expert_slots, 24);
    // The backbone router stays frozen and is not trained.
    for (const auto& p : model->named_parameters()) {
      if (contains(p.key(), ".gate.weight")) QVERIFY(!p.value().requires_grad());
    }
    for (const auto& [name, t] : set.named_parameters()) QVERIFY(contains(name, ".adapter."));
    QVERIFY(set.backbone_parameters().empty());
    // Without expert_ranks every expert gets adapters.r.
    TransformerLM model2(tiny_moe_config("mixtral"));
    auto set2 = inject_adapters(model2, all_modules_config("lora"), ExpertAllocation{});
    for (const auto& a : set2.adapters()) QCOMPARE(a.lora->rank(), 3);
    // Wrong expert_ranks shapes are config errors.
    alloc.expert_ranks = {{1, 2, 3}, {4, 3, 2, 1}};
    auto msg = error_of([&] { inject_adapters(model2, all_modules_config("lora"), alloc); });
    QVERIFY2(contains(msg, "expert_ranks[0] has 3 ranks") && contains(msg, "4 routed experts"),
             msg.c_str());
  }

  void qwen2_moe_shared_and_dense_layers() {
    TransformerLM model(tiny_moe_config("qwen2_moe"));
    model->freeze_backbone();
    auto alloc = single_expert_allocation();
    alloc.expert_ranks = {{5, 5, 6, 6}, {}};  // layer 1 is dense
    AdapterConfig cfg = all_modules_config("moe_lora");
    cfg.target_modules = {"gate_proj"};
    auto set = inject_adapters(model, cfg, alloc);
    // Layer 0: 4 routed experts (LoRA, own ranks) + the shared expert (LoRA-MoE);
    // layer 1: the dense MLP (LoRA-MoE).
    QCOMPARE(static_cast<int>(set.adapters().size()), 6);
    int shared = 0, routed = 0, dense = 0;
    for (const auto& a : set.adapters()) {
      if (a.expert >= 0) {
        ++routed;
        QCOMPARE(a.lora->rank(), alloc.expert_ranks[0][a.expert]);
      } else if (a.shared_expert) {
        ++shared;
        QVERIFY(a.moe && contains(a.name, "mlp.shared_expert.gate_proj"));
      } else {
        ++dense;
        QVERIFY(a.moe && a.layer == 1 && a.name == "model.layers.1.mlp.gate_proj");
      }
    }
    QVERIFY(routed == 4 && shared == 1 && dense == 1);
  }

  void expert_lora_equals_merged_weights() {
    // Independent reference: the same backbone with each expert's weight replaced by
    // W + s · B A (merged LoRA) must give the same logits as the unmerged adapters.
    torch::manual_seed(11);
    TransformerLM model(tiny_moe_config("mixtral"));
    torch::manual_seed(11);
    TransformerLM merged(tiny_moe_config("mixtral"));
    model->freeze_backbone();
    AdapterConfig cfg = all_modules_config("lora");
    cfg.target_modules = {"gate_proj", "up_proj", "down_proj"};
    ExpertAllocation alloc;
    alloc.expert_ranks = {{1, 2, 3, 4}, {2, 2, 5, 1}};
    auto set = inject_adapters(model, cfg, alloc);
    QCOMPARE(static_cast<int>(set.adapters().size()), 24);
    randomise_b(set);
    std::map<std::string, torch::Tensor> deltas;
    for (const auto& a : set.adapters()) {
      deltas[a.name] = a.lora->scaling() * a.lora->lora_B.matmul(a.lora->lora_A).detach();
    }
    {
      torch::NoGradGuard no_grad;
      for (auto& slot : merged->projections()) {
        if (deltas.count(slot.name)) slot.linear->weight.add_(deltas[slot.name]);
      }
    }
    torch::NoGradGuard no_grad;
    auto ids = torch::randint(3, 64, {2, 7}, torch::kInt64);
    auto a = model->forward(ids), b = merged->forward(ids);
    QVERIFY(test::check_close(a, b, 1e-4, "unmerged vs merged expert LoRA"));
    set.clear_caches();
    for (auto& slot : model->projections()) slot.linear->set_adapter(nullptr);
    QVERIFY((model->forward(ids) - a).abs().max().item<double>() > 1e-3);  // adapters mattered
  }

  void backbone_router_training_flag() {
    TransformerLM model(tiny_moe_config("mixtral"));
    model->freeze_backbone();
    AdapterConfig cfg = all_modules_config("lora");
    cfg.train_backbone_router = true;
    auto set = inject_adapters(model, cfg, ExpertAllocation{});
    QCOMPARE(static_cast<int>(set.backbone_parameters().size()), 2);
    QCOMPARE(set.backbone_parameters()[1].first,
             std::string("model.layers.1.block_sparse_moe.gate.weight"));
    const auto named = set.named_parameters();
    QCOMPARE(named.back().first, std::string("model.layers.1.block_sparse_moe.gate.weight"));
    randomise_b(set);
    auto ids = torch::randint(3, 64, {2, 6}, torch::kInt64);
    auto logits = model->forward(ids);
    torch::nn::functional::cross_entropy(logits.reshape({-1, 64}), ids.reshape({-1})).backward();
    for (const auto& p : model->named_parameters()) {
      const bool trained =
          contains(p.key(), ".adapter.") || contains(p.key(), "block_sparse_moe.gate.weight");
      QCOMPARE(p.value().requires_grad(), trained);
      const auto& g = p.value().grad();
      if (contains(p.key(), "block_sparse_moe.gate.weight")) {
        QVERIFY2(g.defined() && g.abs().sum().item<double>() > 0, p.key().c_str());
      } else if (!trained) {
        QVERIFY2(!g.defined(), p.key().c_str());
      }
    }
    TransformerLM dense(test::tiny_llama_config());
    auto msg = error_of([&] { inject_adapters(dense, cfg, ExpertAllocation{}); });
    QVERIFY2(contains(msg, "adapters.train_backbone_router") && contains(msg, "dense"),
             msg.c_str());
  }

  void backbone_routing_stats_of_model() {
    // Qwen2-MoE with layer 1 dense (NaN row): per-token reference on layer 0's router logits.
    TransformerLM model(tiny_moe_config("qwen2_moe"));
    torch::NoGradGuard no_grad;
    model->forward(torch::randint(3, 64, {3, 5}, torch::kInt64));
    auto s = backbone_routing_stats(*model);
    QCOMPARE(s.layers, 2);
    QCOMPARE(s.max_experts, 4);
    auto z = model->backbone_router_logits()[0].to(torch::kFloat64);  // [15, 4]
    std::vector<double> counts(4, 0.0), prob(4, 0.0);
    for (int64_t t = 0; t < z.size(0); ++t) {
      std::vector<std::pair<double, int>> p;
      double sum = 0;
      for (int e = 0; e < 4; ++e) sum += std::exp(z[t][e].item<double>());
      for (int e = 0; e < 4; ++e) p.push_back({std::exp(z[t][e].item<double>()) / sum, e});
      for (const auto& [v, e] : p) prob[e] += v / 15.0;
      std::sort(p.rbegin(), p.rend());
      for (int j = 0; j < 2; ++j) counts[p[j].second] += 1.0 / 30.0;  // k = 2
    }
    for (int e = 0; e < 4; ++e) {
      QVERIFY(std::abs(s.load_fraction[e] - counts[e]) < 1e-6);
      QVERIFY(std::abs(s.router_prob_mean[e] - prob[e]) < 1e-5);
      QVERIFY(std::isnan(s.load_fraction[4 + e]) && std::isnan(s.router_prob_mean[4 + e]));
    }
    auto records = backbone_routing_records(s, 7);
    QCOMPARE(static_cast<int>(records.size()), 2);
    QCOMPARE(records[1].key, std::string("backbone/router_prob_mean"));
    QVERIFY(records[0].key == "backbone/load_fraction" && records[0].axes == "layer,expert");
    QVERIFY(records[0].shape == (std::vector<int64_t>{2, 4}) && records[0].step == 7);
    QVERIFY(records[0].f32.size() == 8 && records[0].f32[1] == s.load_fraction[1]);
    model->clear_router_cache();
    QCOMPARE(backbone_routing_stats(*model).layers, 0);
    TransformerLM dense(test::tiny_llama_config());
    dense->forward(torch::randint(3, 64, {1, 4}, torch::kInt64));
    QVERIFY(backbone_routing_records(backbone_routing_stats(*dense), 1).empty());
  }

  void loss_falls_on_repeated_batch() {
    torch::manual_seed(1);
    TransformerLM model(test::tiny_llama_config());
    {
      // A "pretrained-scale" backbone: HF's std 0.02 behind a frozen final RMSNorm bounds the
      // logits to about ±0.6, too flat for any adapter to overfit. Use 1/√fan_in instead.
      torch::NoGradGuard no_grad;
      for (auto& p : model->parameters()) {
        if (p.dim() == 2) p.normal_(0.0, 1.0 / std::sqrt(static_cast<double>(p.size(1))));
      }
    }
    model->freeze_backbone();
    AdapterConfig cfg;
    cfg.lora_dropout = 0.0;
    auto set = inject_adapters(model, cfg, tiny_allocation());
    torch::optim::AdamW opt(set.parameters(), torch::optim::AdamWOptions(1e-2).weight_decay(0.0));
    auto ids = torch::randint(3, 64, {4, 16}, torch::kInt64);
    BalanceConfig bal;
    double first = 0, last = 0;
    for (int step = 0; step < 20; ++step) {
      opt.zero_grad();
      auto logits = model->forward(ids);
      auto loss = torch::nn::functional::cross_entropy(logits.narrow(1, 0, 15).reshape({-1, 64}),
                                                       ids.narrow(1, 1, 15).reshape({-1}));
      (loss + set.balance_loss(bal)).backward();
      opt.step();
      set.clear_caches();
      if (step == 0) first = loss.item<double>();
      last = loss.item<double>();
    }
    qInfo("loss %.4f -> %.4f", first, last);
    QVERIFY2(last < 0.7 * first, "loss did not fall by 30 % in 20 AdamW steps");
  }
};

QTEST_APPLESS_MAIN(TestAdapters)
#include "tst_adapters.moc"
