// SPDX-License-Identifier: GPL-3.0-or-later
// DR-LoRA building blocks (core/drlora/): options, signals and saliency against hand values, the
// schedule, budget invariants, function-preserving growth on a tiny Qwen2-MoE (layers 1 and 3
// sparse, 0 and 2 dense) after real AdamW steps, the static frequency baseline, records and
// determinism.
// Legend: N tokens, E experts, R allocated rank, k active rank, L adapted MoE layers.
#include <torch/torch.h>

#include <QtTest>
#include <cmath>
#include <functional>
#include <numeric>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "core/adapters/lora_adapter.h"
#include "core/common/error.h"
#include "core/drlora/drlora_scheduler.h"
#include "core/drlora/drlora_signals.h"
#include "core/drlora/growth_schedule.h"
#include "core/drlora/rank_growth.h"
#include "core/drlora/static_frequency_ranks.h"
#include "core/methods/drlora/drlora_options.h"
#include "core/model/transformer_lm.h"
#include "core/store/matrix_keys.h"
#include "tests/core/test_util.h"

using namespace apportion;
using nlohmann::json;

namespace {

/// The apportion::Error message `f` throws ("<no throw>" when it does not).
std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "<no throw>";
}

bool has(const std::string& s, const std::string& p) { return s.find(p) != std::string::npos; }

/// 4 layers, MoE at 1 and 3 (decoder_sparse_step 2), 4 experts top-2, no renormalisation.
ModelConfig tiny_moe_config() {
  return ModelConfig::from_json(json::parse(R"({
    "architectures": ["Qwen2MoeForCausalLM"], "model_type": "qwen2_moe", "vocab_size": 260,
    "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 4,
    "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 64,
    "bos_token_id": 257, "eos_token_id": 258, "pad_token_id": 256, "num_experts": 4,
    "num_experts_per_tok": 2, "moe_intermediate_size": 32, "shared_expert_intermediate_size": 64,
    "decoder_sparse_step": 2, "norm_topk_prob": false})"),
                                "tiny-qwen2-moe");
}

/// A tiny MoE model with a LoRA (R = r_max, k = r_init, s = α / r_target) on every routed
/// expert's gate/up/down projection, and the list of LoRA parameters.
struct TinyMoe {
  TransformerLM model{nullptr};
  std::vector<ProjectionSlot> slots;
  std::vector<std::shared_ptr<LoraAdapterImpl>> loras;
  std::vector<torch::Tensor> params;
};

TinyMoe make_tiny_moe(const DrLoraOptions& o, uint64_t seed, int lora_rank = -1) {
  torch::manual_seed(seed);
  TinyMoe t;
  t.model = TransformerLM(tiny_moe_config());
  t.model->freeze_backbone();
  t.slots = t.model->projections();
  for (auto& s : t.slots) {
    if (s.expert < 0 || s.shared_expert) continue;
    const int r = lora_rank > 0 ? lora_rank : o.r_max;
    const LoraOptions lo{r, /*alpha=*/16.0, /*dropout=*/0.0, std::min(o.r_init, r),
                         1.0 * o.r_target};
    auto lora =
        std::make_shared<LoraAdapterImpl>(s.linear->in_features(), s.linear->out_features(), lo);
    s.linear->set_adapter(lora);
    t.loras.push_back(lora);
    t.params.insert(t.params.end(), {lora->lora_A, lora->lora_B});
  }
  return t;
}

/// Every element of `t` equals `v`.
bool all_eq(const torch::Tensor& t, double v) { return t.eq(v).all().item<bool>(); }

/// Router logits [1, 4] whose softmax is `probs` (up to rounding).
torch::Tensor logits_of(const std::vector<float>& probs) {
  return torch::tensor(probs).log().unsqueeze(0);  // [1, E]
}

/// Options whose events fall on every step of a run of `total` steps.
DrLoraOptions every_step_options() {
  DrLoraOptions o;
  o.interval = 1;
  o.t_warm = 0.0;
  o.t_stop = 1.0;
  return o;
}

/// One forward/backward/step of the tiny model on a random batch; returns the loss.
double train_step(TinyMoe& t,
                  DrLoraScheduler& dr,
                  torch::optim::Optimizer& opt,
                  const torch::Tensor& ids) {
  opt.zero_grad();
  auto logits = t.model->forward(ids);  // [B, T, V]
  dr.observe_routing(t.model->backbone_router_logits(), 2, false);
  auto loss = torch::nn::functional::cross_entropy(
      logits.narrow(1, 0, ids.size(1) - 1).reshape({-1, logits.size(2)}),
      ids.narrow(1, 1, ids.size(1) - 1).reshape({-1}));
  loss.backward();
  dr.observe_gradients();
  opt.step();
  return loss.item<double>();
}

using StateMap = std::decay_t<decltype(std::declval<torch::optim::Optimizer&>().state())>;

/// LibTorch's optimizer-state key of `p`: 1.13 the printed TensorImpl*, 2.x the pointer.
template <typename Key>
Key state_key(const torch::Tensor& p) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream s;
    s << static_cast<const void*>(p.unsafeGetTensorImpl());
    return s.str();
  } else {
    return static_cast<Key>(p.unsafeGetTensorImpl());
  }
}

/// The AdamW state of `p`, nullptr when there is none yet.
torch::optim::AdamWParamState* adamw_state(torch::optim::Optimizer& opt, const torch::Tensor& p) {
  auto it = opt.state().find(state_key<StateMap::key_type>(p));
  if (it == opt.state().end()) return nullptr;
  return dynamic_cast<torch::optim::AdamWParamState*>(it->second.get());
}

torch::optim::AdamW make_adamw(const TinyMoe& t) {
  return torch::optim::AdamW(t.params, torch::optim::AdamWOptions(1e-2).weight_decay(0.01));
}

/// Σ R over the MoE layers 1 and 3.
int64_t sum_ranks(const std::vector<std::vector<int>>& r) {
  return std::accumulate(r[1].begin(), r[1].end(), 0) +
         std::accumulate(r[3].begin(), r[3].end(), 0);
}

/// Everything an event reports, flattened for comparison.
std::vector<int64_t> flatten(const DrLoraGrowthEvent& e) {
  std::vector<int64_t> v = {e.step, e.planned, e.total_rank_before, e.total_rank_after};
  for (const auto& g : e.grown) {
    v.insert(v.end(), {g.layer, g.expert, g.rank_before, g.rank_after});
  }
  return v;
}

/// One option set of the budget-invariant loop and the Σ R it must end with.
struct BudgetRow {
  const char* name;
  int r_init, r_target, r_max, delta_r, interval;
  int64_t total;
  const char* saliency;
  int64_t final_total;
};

/// Runs a scheduler over random routing and gradients, checking the invariants at every event.
void check_budget_row(const BudgetRow& row) {
  DrLoraOptions o;
  o.r_init = row.r_init;
  o.r_target = row.r_target;
  o.r_max = row.r_max;
  o.delta_r = row.delta_r;
  o.interval = row.interval;
  o.saliency = saliency_from_string(row.saliency, "saliency");
  auto t = make_tiny_moe(o, 3);
  DrLoraScheduler dr(o, t.model->config(), t.slots, row.total);
  auto opt = make_adamw(t);  // no steps taken: every state entry is missing
  torch::manual_seed(11);
  auto prev = dr.ranks();
  int64_t events = 0;
  for (int64_t step = 1; step <= row.total; ++step) {
    std::vector<torch::Tensor> logits(4);
    logits[1] = torch::randn({16, 4}) * 2;
    logits[3] = torch::randn({16, 4}) * 2;
    dr.observe_routing(logits, 2, false);
    for (const auto& p : t.params) p.mutable_grad() = torch::randn_like(p);
    dr.observe_gradients();
    auto event = dr.maybe_grow(step, opt);
    QCOMPARE(event.has_value(), dr.schedule().is_event(step));
    if (!event) continue;
    ++events;
    const auto now = dr.ranks();
    QCOMPARE(event->total_rank_before, sum_ranks(prev));
    QCOMPARE(event->total_rank_after, sum_ranks(now));
    QVERIFY2(sum_ranks(now) <= dr.budget(), QTest::toString(sum_ranks(now)));
    QVERIFY(static_cast<int64_t>(event->grown.size()) <= event->planned);
    for (int l : {1, 3}) {
      for (int i = 0; i < 4; ++i) QVERIFY(now[l][i] >= prev[l][i] && now[l][i] <= row.r_max);
    }
    auto replay = prev;  // grants chain per expert (the last event may grant one twice)
    for (const auto& g : event->grown) {
      QCOMPARE(g.rank_before, replay[g.layer][g.expert]);
      QVERIFY(g.rank_after - g.rank_before >= 1 && g.rank_after - g.rank_before <= row.delta_r);
      replay[g.layer][g.expert] = g.rank_after;
    }
    QCOMPARE(replay, now);
    prev = now;
  }
  QCOMPARE(events, static_cast<int64_t>(dr.schedule().event_steps().size()));
  QCOMPARE(dr.total_rank(), row.final_total);
  for (const auto& s : t.slots) {
    if (s.expert < 0 || s.shared_expert) continue;
    auto lora = std::dynamic_pointer_cast<LoraAdapterImpl>(s.linear->adapter());
    QCOMPARE(lora->active_rank(), dr.rank(s.layer, s.expert));
  }
  if (row.r_max == row.r_target) {
    for (int l : {1, 3}) QCOMPARE(dr.ranks()[l], std::vector<int>(4, row.r_target));
  }
}

}  // namespace

class TestDrLora : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { torch::set_num_threads(1); }

  // Catches: a missing range check, or an error that does not name allocation.drlora.<field>.
  void options_validation_names_the_field() {
    DrLoraOptions().validate();
    const std::vector<std::pair<std::function<void(DrLoraOptions&)>, std::string>> cases = {
        {[](DrLoraOptions& o) { o.r_init = 0; }, "allocation.drlora.r_init"},
        {[](DrLoraOptions& o) { o.r_target = 1; }, "allocation.drlora.r_target"},
        {[](DrLoraOptions& o) { o.r_max = 4; }, "allocation.drlora.r_max"},
        {[](DrLoraOptions& o) { o.delta_r = 0; }, "allocation.drlora.delta_r"},
        {[](DrLoraOptions& o) { o.interval = 0; }, "allocation.drlora.interval"},
        {[](DrLoraOptions& o) { o.t_warm = -0.1; }, "allocation.drlora.t_warm"},
        {[](DrLoraOptions& o) { o.t_stop = 0.01; }, "allocation.drlora.t_stop"},
        {[](DrLoraOptions& o) { o.beta_f = 1.0; }, "allocation.drlora.beta_f"},
        {[](DrLoraOptions& o) { o.beta_g = -0.5; }, "allocation.drlora.beta_g"},
        {[](DrLoraOptions& o) { o.gamma = 1.5; }, "allocation.drlora.gamma"},
    };
    for (const auto& [mutate, path] : cases) {
      DrLoraOptions o;
      mutate(o);
      const auto msg = error_of([&] { o.validate(); });
      QVERIFY2(has(msg, path + ":"), (path + " -> " + msg).c_str());
    }
    QCOMPARE(saliency_from_string("sum", "x"), SaliencyMode::Sum);
    QCOMPARE(std::string(to_string(SaliencyMode::Importance)), std::string("importance"));
    QVERIFY(has(error_of([] { saliency_from_string("mean", "allocation.drlora.saliency"); }),
                "allocation.drlora.saliency: must be"));
  }

  // Catches: counting absent experts, forgetting renormalisation, averaging over the wrong axis,
  // ignoring the token mask. Hand values: probs [.5 .3 .2] and [.1 .6 .3], top-2.
  void routing_weights_hand_computed() {
    auto logits = torch::tensor({0.5f, 0.3f, 0.2f, 0.1f, 0.6f, 0.3f}).log().reshape({2, 3});
    auto plain = mean_routing_weights(logits, 2, false);
    QVERIFY(test::check_close(plain, torch::tensor({0.25f, 0.45f, 0.15f}), 1e-6, "top-2"));
    auto renorm = mean_routing_weights(logits, 2, true);
    const float w0 = 0.5f / 0.8f, w1 = (0.3f / 0.8f + 0.6f / 0.9f) / 2, w2 = 0.3f / 0.9f / 2;
    QVERIFY(test::check_close(renorm, torch::tensor({w0 / 2, w1, w2}), 1e-6, "top-2 renorm"));
    auto masked = mean_routing_weights(logits, 2, false, torch::tensor({1.0f, 0.0f}));
    QVERIFY(test::check_close(masked, torch::tensor({0.5f, 0.3f, 0.0f}), 1e-6, "masked"));
    QVERIFY(!mean_routing_weights(logits.set_requires_grad(true), 1, false).requires_grad());
  }

  // Catches: a missing |·|, summing over the wrong dimension of A or B, counting inactive
  // components. A [3, 2], B [2, 3], k = 2 (the third component must not count).
  void importance_hand_worked() {
    auto a = torch::tensor({1.0f, -2.0f, 0.5f, 3.0f, 7.0f, 7.0f}).reshape({3, 2});
    auto ga = torch::tensor({0.1f, 0.2f, -1.0f, 0.0f, 5.0f, 5.0f}).reshape({3, 2});
    auto b = torch::tensor({2.0f, -1.0f, 9.0f, 0.0f, 4.0f, 9.0f}).reshape({2, 3});
    auto gb = torch::tensor({0.5f, 1.0f, 9.0f, 3.0f, -0.25f, 9.0f}).reshape({2, 3});
    // I_0 = |0.1| + |-0.4| + |1| + |0| = 1.5; I_1 = |-0.5| + 0 + |-1| + |-1| = 2.5.
    auto got = lora_component_importance(a, ga, b, gb, 2);
    QVERIFY(test::check_close(got, torch::tensor({1.5f, 2.5f}), 1e-6, "importance"));
    auto no_b = lora_component_importance(a, ga, b, torch::Tensor(), 2);
    QVERIFY(test::check_close(no_b, torch::tensor({0.5f, 0.5f}), 1e-6, "undefined grad B"));
  }

  // Catches: a wrong combination formula or normalisation (e.g. by the sum instead of the mean).
  void saliency_formula_and_normalisation() {
    QCOMPARE(normalise_by_layer_mean({1.0, 2.0, 3.0}), (std::vector<double>{0.5, 1.0, 1.5}));
    QCOMPARE(normalise_by_layer_mean({0.0, 0.0}), (std::vector<double>{1.0, 1.0}));
    QCOMPARE(combine_saliency(4.0, 1.0, SaliencyMode::Geometric, 0.5), 2.0);
    QCOMPARE(combine_saliency(8.0, 1.0, SaliencyMode::Geometric, 1.0 / 3.0), 2.0);
    QCOMPARE(combine_saliency(4.0, 1.0, SaliencyMode::Product, 0.5), 4.0);
    QCOMPARE(combine_saliency(4.0, 1.0, SaliencyMode::Sum, 0.25), 1.75);
    QCOMPARE(combine_saliency(4.0, 1.0, SaliencyMode::Frequency, 0.5), 4.0);
    QCOMPARE(combine_saliency(4.0, 1.0, SaliencyMode::Importance, 0.5), 1.0);
  }

  // Catches: normalising across layers instead of within, a wrong EMA, an importance mean over
  // the wrong components, and ranking experts per layer instead of globally. Layer 1 has
  // importance ×100 the scale of layer 3; within-layer normalisation must cancel it.
  void scheduler_signals_saliency_and_global_ranking() {
    const auto o = every_step_options();
    auto t = make_tiny_moe(o, 1);
    DrLoraScheduler dr(o, t.model->config(), t.slots, /*total_steps=*/8);
    QVERIFY(dr.adapted_layers() == 2 && dr.budget() == 2 * 4 * 8);
    const std::vector<torch::Tensor> logits = {torch::Tensor(), logits_of({0.4f, 0.3f, 0.2f, 0.1f}),
                                               torch::Tensor(),
                                               logits_of({0.1f, 0.15f, 0.3f, 0.45f})};
    dr.observe_routing(logits, 2, false);
    dr.observe_routing(logits, 2, false);
    // A = 1, ∂L/∂A = c on every entry, B = ∂L/∂B = 0: I_j = Din · c = 32 c for each active j.
    const std::vector<double> c1 = {100, 200, 300, 400}, c3 = {4, 3, 2, 1};
    for (const auto& s : t.slots) {
      if (s.expert < 0 || s.shared_expert) continue;
      auto lora = std::dynamic_pointer_cast<LoraAdapterImpl>(s.linear->adapter());
      const double c = (s.layer == 1 ? c1 : c3)[static_cast<size_t>(s.expert)];
      torch::NoGradGuard no_grad;
      lora->lora_A.fill_(1.0);
      lora->lora_A.mutable_grad() = torch::full_like(lora->lora_A, c);
      lora->lora_B.mutable_grad() = torch::zeros_like(lora->lora_B);
    }
    dr.observe_gradients();
    const auto g = dr.importance();
    // f̂ layer 1 = w/0.175, layer 3 = w/0.1875; ĝ = c / mean(c); S = √(f̂ ĝ).
    const auto s = dr.saliency();
    const std::vector<double> want1 = {std::sqrt(0.4 / 0.175 * 0.4), std::sqrt(0.3 / 0.175 * 0.8),
                                       0, 0};
    const std::vector<double> want3 = {0, 0, std::sqrt(0.3 / 0.1875 * 0.8),
                                       std::sqrt(0.45 / 0.1875 * 0.4)};
    // f = (1 - 0.9²) w = 0.19 w; g = (1 - 0.85) · 32 c.
    const auto f = dr.frequency();
    const std::vector<double> w1 = {0.4, 0.3, 0, 0}, w3 = {0, 0, 0.3, 0.45};
    for (int i = 0; i < 4; ++i) {
      QVERIFY(std::abs(f[1][i] - 0.19 * w1[i]) < 1e-6 && std::abs(f[3][i] - 0.19 * w3[i]) < 1e-6);
      QVERIFY(std::isnan(f[0][i]) && std::isnan(f[2][i]));
      QVERIFY(std::abs(g[1][i] - 0.15 * 32 * c1[i]) < 1e-3 * c1[i]);
      QVERIFY(std::abs(g[3][i] - 0.15 * 32 * c3[i]) < 1e-3 * c3[i]);
      QVERIFY2(std::abs(s[1][i] - want1[i]) < 1e-5, std::to_string(s[1][i]).c_str());
      QVERIFY2(std::abs(s[3][i] - want3[i]) < 1e-5, std::to_string(s[3][i]).c_str());
    }
    // Step 1 of 8 events: 48 rank units left / 2 = 24 growths over 8 events → q = 3, the three
    // most salient experts across layers: (1, 1) 1.171, (3, 2) 1.131, (3, 3) 0.980.
    auto opt = make_adamw(t);
    auto event = dr.maybe_grow(1, opt);
    QVERIFY(event.has_value());
    QCOMPARE(event->planned, int64_t{3});
    QCOMPARE(flatten(*event),
             (std::vector<int64_t>{1, 3, 16, 22, 1, 1, 2, 4, 3, 2, 2, 4, 3, 3, 2, 4}));
    QCOMPARE(dr.rank(1, 1), 4);
    QCOMPARE(dr.rank(1, 0), 2);
    QCOMPARE(dr.rank(0, 0), -1);
  }

  // Catches: off-by-one window bounds (0.7 · 1000 is 699.99… in binary), events at step 0,
  // events_from disagreeing with the event list.
  void schedule_event_steps() {
    struct Row {
      int64_t total;
      int interval;
      double t_warm, t_stop;
      std::vector<int64_t> events;
    };
    const std::vector<Row> rows = {
        {1000, 100, 0.05, 0.70, {100, 200, 300, 400, 500, 600, 700}},  // defaults
        {1000, 100, 0.15, 0.70, {200, 300, 400, 500, 600, 700}},       // warm past a multiple
        {250, 50, 0.1, 0.5, {50, 100}},                                // window [25, 125]
        {10, 3, 0.0, 1.0, {3, 6, 9}},                                  // whole run
        {100, 100, 0.05, 0.70, {}},                                    // window < interval
        {30, 7, 0.7, 0.7, {21}},                                       // one-step window
        {30, 10, 0.7, 0.7, {}},                                        // … off a multiple
    };
    for (const auto& row : rows) {
      DrLoraOptions o;
      o.interval = row.interval;
      o.t_warm = row.t_warm;
      o.t_stop = row.t_stop;
      GrowthSchedule s(o, row.total);
      QCOMPARE(s.event_steps(), row.events);
      for (int64_t step = 0; step <= row.total + 1; ++step) {
        const auto& ev = row.events;
        QCOMPARE(s.is_event(step), std::find(ev.begin(), ev.end(), step) != ev.end());
        const auto left = std::count_if(ev.begin(), ev.end(), [&](int64_t e) { return e >= step; });
        QCOMPARE(s.events_from(step), static_cast<int64_t>(left));
      }
    }
  }

  // Catches: a quota that leaves budget unspent at the last event or overspends early.
  void growth_quota_hand_values() {
    QCOMPARE(GrowthSchedule::experts_to_grow(48, 2, 24), int64_t{1});
    QCOMPARE(GrowthSchedule::experts_to_grow(48, 2, 7), int64_t{4});  // ceil(24 / 7)
    QCOMPARE(GrowthSchedule::experts_to_grow(5, 2, 1), int64_t{3});   // last event: all left
    QCOMPARE(GrowthSchedule::experts_to_grow(10, 4, 2), int64_t{2});  // ceil(ceil(10/4) / 2)
    QCOMPARE(GrowthSchedule::experts_to_grow(0, 2, 3), int64_t{0});
    QCOMPARE(GrowthSchedule::experts_to_grow(6, 2, 0), int64_t{0});
  }

  // Catches: exceeding the budget or r_max, shrinking ranks, LoRA active ranks out of sync with
  // the scheduler, events that under-spend when enough events remain. L·N = 8 experts.
  void budget_invariants() {
    const std::vector<BudgetRow> rows = {
        {"defaults", 2, 8, 32, 2, 100, 1000, "geometric", 64},
        {"tight r_max, delta 4", 2, 8, 10, 4, 10, 200, "product", 64},
        {"delta 3, partial last growth", 1, 8, 32, 3, 10, 200, "sum", 64},
        {"one event: spends all, several grants each", 2, 8, 32, 2, 100, 150, "frequency", 64},
        {"no event in the window", 2, 8, 32, 2, 100, 50, "geometric", 16},
        {"r_max == r_target", 2, 8, 8, 2, 10, 200, "importance", 64},
        {"no budget to spread", 4, 4, 32, 2, 10, 200, "geometric", 32},
    };
    for (const auto& row : rows) {
      check_budget_row(row);
      if (QTest::currentTestFailed()) QFAIL(row.name);
    }
  }

  // Catches: growth that changes the model's function (new B columns not zeroed, rescaling of
  // active columns), new A rows not re-initialised, Adam moments of new slices not zeroed, and
  // zeroing the wrong slices (active ones, or those of experts that did not grow).
  void growth_preserves_function_and_zeroes_adam_slices() {
    auto o = every_step_options();
    auto t = make_tiny_moe(o, 5);
    DrLoraScheduler dr(o, t.model->config(), t.slots, /*total_steps=*/10);
    auto opt = make_adamw(t);
    torch::manual_seed(6);
    auto ids = torch::randint(3, 250, {2, 12}, torch::kInt64);
    for (int s = 0; s < 3; ++s) train_step(t, dr, opt, ids);  // steps 1-3 (no maybe_grow yet)
    for (const auto& l : t.loras) QVERIFY(!all_eq(l->lora_B.narrow(1, 0, 2), 0));  // trained
    // Poison what growth must reset: masked B columns and the masked Adam moment slices.
    std::vector<torch::Tensor> a_before, m_before;
    {
      torch::NoGradGuard no_grad;
      for (const auto& l : t.loras) {
        const int64_t masked = l->rank() - 2;
        l->lora_B.narrow(1, 2, masked).fill_(0.5);
        for (int which = 0; which < 2; ++which) {
          auto* st = adamw_state(opt, which == 0 ? l->lora_A : l->lora_B);
          QVERIFY2(st != nullptr, "every LoRA got gradients in three steps");
          st->exp_avg().narrow(/*dim=*/which, 2, masked).fill_(7.0);
          st->exp_avg_sq().narrow(/*dim=*/which, 2, masked).fill_(7.0);
        }
        a_before.push_back(l->lora_A.detach().clone());
        m_before.push_back(adamw_state(opt, l->lora_A)->exp_avg().clone());
      }
    }
    t.model->eval();
    auto forward = [&] {
      torch::NoGradGuard no_grad;
      return t.model->forward(ids);
    };
    const auto before = forward();
    auto event = dr.maybe_grow(3, opt);
    QVERIFY(event.has_value() && event->grown.size() == 3 && event->b_columns_were_nonzero);
    QVERIFY(test::check_close(forward(), before, 1e-6, "logits across a growth event"));
    // Per LoRA: new B columns zero, new A rows re-drawn within the Kaiming bound, zero moments
    // in the new slices; active slices and the slices still masked untouched.
    int grown_loras = 0;
    for (size_t n = 0; n < t.loras.size(); ++n) {
      const auto& l = t.loras[n];
      const int k = l->active_rank();
      const int64_t masked = l->rank() - k;
      QVERIFY(all_eq(l->lora_B.narrow(1, k, masked), 0.5));
      QVERIFY(torch::equal(l->lora_A.narrow(0, 0, 2), a_before[n].narrow(0, 0, 2)));
      for (int which = 0; which < 2; ++which) {
        auto* st = adamw_state(opt, which == 0 ? l->lora_A : l->lora_B);
        QVERIFY(all_eq(st->exp_avg().narrow(which, k, masked), 7.0));
        QVERIFY(all_eq(st->exp_avg_sq().narrow(which, k, masked), 7.0));
        if (k == 2) continue;
        QVERIFY(all_eq(st->exp_avg().narrow(which, 2, k - 2), 0));
        QVERIFY(all_eq(st->exp_avg_sq().narrow(which, 2, k - 2), 0));
      }
      QVERIFY(torch::equal(adamw_state(opt, l->lora_A)->exp_avg().narrow(0, 0, 2),
                           m_before[n].narrow(0, 0, 2)));
      if (k == 2) continue;
      ++grown_loras;
      QVERIFY(all_eq(l->lora_B.narrow(1, 2, k - 2), 0));
      auto a_new = l->lora_A.narrow(0, 2, k - 2);
      QVERIFY(!torch::equal(a_new, a_before[n].narrow(0, 2, k - 2)));
      QVERIFY(a_new.abs().max().item<double>() <= 1.0 / std::sqrt(l->lora_A.size(1)) + 1e-7);
    }
    QCOMPARE(grown_loras, 3 * 3);                         // three experts × gate/up/down
    QVERIFY(std::isfinite(train_step(t, dr, opt, ids)));  // training goes on
  }

  // Catches: a state key that does not match LibTorch's (1.13 string / 2.x pointer), failing
  // on a parameter without state, zeroing outside the slice of a non-square tensor.
  void optimizer_state_slices() {
    auto p = torch::zeros({4, 3}).set_requires_grad(true);
    auto q = torch::zeros({4, 3}).set_requires_grad(true);
    torch::optim::AdamW opt({p, q}, torch::optim::AdamWOptions(0.1));
    p.mutable_grad() = torch::ones({4, 3});
    opt.step();  // creates p's state only (q has no gradient)
    QVERIFY(!zero_optimizer_state_slice(opt, q, 0, 1, 2));
    QVERIFY(zero_optimizer_state_slice(opt, p, /*dim=*/1, 2, 1));
    auto& st = static_cast<torch::optim::AdamWParamState&>(*opt.state().begin()->second);
    QCOMPARE(st.exp_avg().ne(0).sum().item<int64_t>(), int64_t{8});  // 4 × 3 minus column 2
    QVERIFY(all_eq(st.exp_avg_sq().narrow(1, 2, 1), 0));
  }

  // Catches: sums off the budget, wrong rounding, clamping without redistribution.
  void static_frequency_ranks_hand_examples() {
    using Ranks = std::vector<std::vector<int>>;
    // x = 32 f = [12.8 9.6 6.4 3.2] → floors 30, +1 to the two largest remainders.
    QCOMPARE(static_frequency_ranks({{0.4, 0.3, 0.2, 0.1}}, 32, 1, 32), (Ranks{{13, 10, 6, 3}}));
    // r_max 12: expert 0 clamped, its excess 0.8 split 3:2:1 → [12 10 6.67 3.33] → [12 10 7 3].
    QCOMPARE(static_frequency_ranks({{0.4, 0.3, 0.2, 0.1}}, 32, 1, 12), (Ranks{{12, 10, 7, 3}}));
    // r_min clamps raise the small ones; the rest goes to the large one.
    QCOMPARE(static_frequency_ranks({{1, 0, 0, 0}}, 32, 1, 32), (Ranks{{29, 1, 1, 1}}));
    QCOMPARE(static_frequency_ranks({{0.97, 0.01, 0.01, 0.01}}, 32, 2, 32), (Ranks{{26, 2, 2, 2}}));
    // Unobserved layer: uniform; two layers split independently.
    QCOMPARE(static_frequency_ranks({{0, 0, 0, 0}, {0.1, 0.1, 0.1, 0.7}}, 32, 1, 32),
             (Ranks{{8, 8, 8, 8}, {3, 3, 3, 23}}));
    QVERIFY(has(error_of([] { static_frequency_ranks({{0.5, 0.5}}, 32, 1, 8); }), "budget"));
    QVERIFY(has(error_of([] { static_frequency_ranks({{-1.0, 0.5}}, 4, 1, 8); }), "frequency"));
    // Random frequencies: exact sums, bounds, and monotone in f.
    torch::manual_seed(2);
    for (int trial = 0; trial < 60; ++trial) {
      auto f = torch::rand({8}, torch::kFloat64).pow(3).contiguous();
      const std::vector<double> freq(f.data_ptr<double>(), f.data_ptr<double>() + 8);
      const auto r = static_frequency_ranks({freq}, 64, 1, 24)[0];
      QCOMPARE(std::accumulate(r.begin(), r.end(), 0), 64);
      for (int i = 0; i < 8; ++i) {
        QVERIFY(r[i] >= 1 && r[i] <= 24);
        for (int j = 0; j < 8; ++j) QVERIFY(freq[i] <= freq[j] || r[i] >= r[j]);
      }
    }
  }

  // Catches: wrong shapes/keys, dense layers not NaN, records out of sync with the ranks.
  void records_shape_keys_and_nan_rows() {
    const auto o = every_step_options();
    auto t = make_tiny_moe(o, 4);
    DrLoraScheduler dr(o, t.model->config(), t.slots, 10);
    const auto recs = dr.records(7);
    QCOMPARE(recs.size(), size_t{4});
    const std::vector<std::string> keys = {matrix_keys::kDrRank, matrix_keys::kDrFrequency,
                                           matrix_keys::kDrImportance, matrix_keys::kDrSaliency};
    for (size_t n = 0; n < 4; ++n) {
      const auto& r = recs[n];
      QVERIFY(r.key == keys[n] && r.step == 7 && r.axes == "layer,expert");
      QCOMPARE(r.shape, (std::vector<int64_t>{4, 4}));
      QCOMPARE(r.f32.size(), size_t{16});
      for (size_t j = 0; j < 16; ++j) {
        const bool dense = j / 4 == 0 || j / 4 == 2;  // layers 0 and 2
        QCOMPARE(std::isnan(r.f32[j]), dense);
        if (n == 0 && !dense) QCOMPARE(r.f32[j], 2.0f);
      }
    }
  }

  // Catches: silently accepting LoRAs too small for r_max, dense models, half-adapted layers.
  void construction_errors() {
    DrLoraOptions o;
    auto small = make_tiny_moe(o, 1, /*lora_rank=*/8);
    QVERIFY(has(error_of([&] { DrLoraScheduler(o, small.model->config(), small.slots, 10); }),
                "r_max"));
    auto t = make_tiny_moe(o, 1);
    for (auto& s : t.slots) {
      if (s.layer == 3 && s.expert == 2) s.linear->set_adapter(nullptr);
    }
    QVERIFY(has(error_of([&] { DrLoraScheduler(o, t.model->config(), t.slots, 10); }),
                "expert 2 of layer 3"));
    QVERIFY(has(error_of([&] { DrLoraScheduler(o, test::tiny_llama_config(), {}, 10); }),
                "sparse-MoE"));
    o.r_init = 0;
    QVERIFY(has(error_of([&] { DrLoraScheduler(o, t.model->config(), t.slots, 10); }),
                "allocation.drlora.r_init"));
  }

  // Catches: hidden non-determinism (unordered containers, unseeded init) in the events.
  void determinism_same_seed_same_events() {
    using Run = std::pair<std::vector<std::vector<int64_t>>, std::vector<torch::Tensor>>;
    auto run = [] {
      Run out;
      auto o = every_step_options();
      o.interval = 2;
      auto t = make_tiny_moe(o, 9);
      DrLoraScheduler dr(o, t.model->config(), t.slots, 12);
      auto opt = make_adamw(t);
      torch::manual_seed(10);
      for (int64_t step = 1; step <= 12; ++step) {
        auto ids = torch::randint(3, 250, {2, 10}, torch::kInt64);
        train_step(t, dr, opt, ids);
        if (auto e = dr.maybe_grow(step, opt)) out.first.push_back(flatten(*e));
      }
      for (const auto& p : t.params) out.second.push_back(p.detach().clone());
      return out;
    };
    const auto a = run(), b = run();
    QCOMPARE(a.first.size(), size_t{6});
    QCOMPARE(a.first, b.first);
    for (size_t n = 0; n < a.second.size(); ++n) QVERIFY(torch::equal(a.second[n], b.second[n]));
  }
};

QTEST_APPLESS_MAIN(TestDrLora)
#include "tst_drlora.moc"
