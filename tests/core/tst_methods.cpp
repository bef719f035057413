// SPDX-License-Identifier: GPL-3.0-or-later
// The method seam, torch-free: the registry's rows and lookups, the config sections methods own,
// GuiLoMo's stages (the stage-2 balance-loss fix), and the new methods' arithmetic against
// values computed by hand — AlphaLoRA's Hill estimator and expert scaling, IncreLoRA's smoothed
// importance and growth choice.
#include <QtTest/QtTest>

#include <cmath>
#include <set>

#include "core/common/error.h"
#include "core/config/experiment_config.h"
#include "core/methods/alphalora/alphalora_options.h"
#include "core/methods/alphalora/alphalora_spectrum.h"
#include "core/methods/increlora/increlora_growth.h"
#include "core/methods/method_registry.h"

using namespace apportion;

namespace {

nlohmann::json base_config() {
  return nlohmann::json::parse(R"({
    "backbone": {"config": {"architectures": ["LlamaForCausalLM"], "model_type": "llama",
      "vocab_size": 260, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 4,
      "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 128}},
    "adapters": {"method": "moe_lora", "r": 4, "lora_alpha": 8, "num_experts": 4, "top_k": 2},
    "allocation": {"method": "uniform"}
  })");
}

ModelShape shape4() {
  ModelShape s;
  s.num_layers = 4;
  s.hidden_size = 32;
  s.intermediate_size = 64;
  s.num_attention_heads = 4;
  s.num_key_value_heads = 2;
  return s;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return {};
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

bool has(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

class TestMethods : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void registryListsEveryMethodOnce() {
    std::set<std::string> names;
    for (const Method* m : methods()) {
      QVERIFY2(names.insert(m->name()).second, m->name().c_str());
      QVERIFY(!m->label().empty());
      QVERIFY(!m->description().empty());
      QCOMPARE(find_method(m->name()), m);
    }
    for (const char* n : {"lora", "uniform", "mola", "guilomo", "drlora", "static_frequency",
                          "alphalora", "increlora"})
      QVERIFY2(names.count(n), n);
    const std::string e = error_of([] { method_named("adalora"); });
    QVERIFY2(starts_with(e, "allocation.method: unknown method \"adalora\" (known: "), e.c_str());
    QVERIFY(has(e, "alphalora") && has(e, "increlora"));
    QCOMPARE(find_method("adalora"), nullptr);
  }

  void methodOfAParsedConfig() {
    auto j = base_config();
    QCOMPARE(method_of(ExperimentConfig::from_json(j)).name(), std::string("uniform"));
    j["adapters"]["method"] = "lora";  // the plain-LoRA baseline row
    QCOMPARE(method_of(ExperimentConfig::from_json(j)).name(), std::string("lora"));
    QCOMPARE(method_of(ExperimentConfig::from_json(j)).run_label(ExperimentConfig::from_json(j)),
             std::string("lora"));
    j["allocation"] = {{"method", "increlora"}};  // plain LoRA, but its own method
    QCOMPARE(method_of(ExperimentConfig::from_json(j)).name(), std::string("increlora"));
    QCOMPARE(method_for_run_label("guilomo_search")->name(), std::string("guilomo"));
    QCOMPARE(method_for_run_label("pretrain"), nullptr);
  }

  void selectingAMethodKeepsOnlyItsSection() {
    auto j = base_config();
    select_method(j, method_named("guilomo"));
    j["allocation"]["guilomo"] = {{"n_max", 6}};
    select_method(j, method_named("alphalora"));
    QCOMPARE(j["allocation"]["method"], nlohmann::json("alphalora"));
    QVERIFY(!j["allocation"].contains("guilomo"));
    QCOMPARE(j["adapters"]["method"], nlohmann::json("moe_lora"));
    select_method(j, method_named("increlora"));
    QCOMPARE(j["adapters"]["method"], nlohmann::json("lora"));
    // Plain LoRA from a method that is no plain-LoRA baseline falls back to uniform; from MoLA it
    // keeps MoLA and its preset.
    select_method(j, *find_method("lora"));
    QCOMPARE(j["allocation"]["method"], nlohmann::json("uniform"));
    select_method(j, method_named("mola"));
    QCOMPARE(j["allocation"]["preset"], nlohmann::json("2468"));
    select_method(j, *find_method("lora"));
    QCOMPARE(j["allocation"]["method"], nlohmann::json("mola"));
    QCOMPARE(j["allocation"]["preset"], nlohmann::json("2468"));
    QVERIFY(find_method("lora")->describes(ExperimentConfig::from_json(j)));
  }

  void newSectionsParseStrictlyAndRoundTrip() {
    auto j = base_config();
    j["allocation"] = {{"method", "alphalora"}, {"alphalora", {{"beta", 3.0}}}};
    const ExperimentConfig cfg = ExperimentConfig::from_json(j);
    QCOMPARE(alphalora_options(cfg).beta, 3.0);
    const nlohmann::json stored = cfg.to_json();
    QCOMPARE(stored["allocation"]["alphalora"]["total_experts"], nlohmann::json(0));
    QCOMPARE(ExperimentConfig::from_json(stored).to_json(), stored);
    j["allocation"]["alphalora"]["betta"] = 2;
    std::string e = error_of([&] { ExperimentConfig::from_json(j); });
    QVERIFY2(has(e, "allocation.alphalora") && has(e, "betta"), e.c_str());
    j = base_config();
    j["allocation"] = {{"method", "increlora"}, {"increlora", {{"r_init", 9}}}};
    e = error_of([&] { ExperimentConfig::from_json(j); });
    QVERIFY2(starts_with(e, "allocation.increlora.r_target: must be >= r_init"), e.c_str());
    j["allocation"]["increlora"] = nlohmann::json::object();
    e = error_of([&] { ExperimentConfig::from_json(j); });  // moe_lora adapters
    QVERIFY2(starts_with(e, "adapters.method: IncreLoRA grows plain LoRAs"), e.c_str());
    j["adapters"]["method"] = "lora";
    j["adapters"]["layers_to_transform"] = {0, 1};
    e = error_of([&] { ExperimentConfig::from_json(j); });
    QVERIFY2(starts_with(e, "adapters.layers_to_transform: not supported"), e.c_str());
  }

  /// The fix: the reference's stage-2 balance loss multiplies each module's term by its expert
  /// count; the pipeline's retrain stage used to keep the search's multiply_by_experts = false.
  void guilomoPipelineRetrainMultipliesByExperts() {
    auto j = base_config();
    j["adapters"]["balance"] = {{"coef", 0.01}, {"scope", "layer"}, {"multiply_by_experts", false}};
    j["allocation"] = {{"method", "guilomo"}, {"guilomo", {{"search_steps", 5}}}};
    const auto stages = method_named("guilomo").stages(j);
    QCOMPARE(static_cast<int>(stages.size()), 2);
    QCOMPARE(stages[0].role, std::string("search"));
    QCOMPARE(stages[0].config["train"]["steps"], nlohmann::json(5));
    QCOMPARE(stages[0].config["adapters"]["balance"]["multiply_by_experts"], nlohmann::json(false));
    QCOMPARE(stages[1].role, std::string("retrain"));
    QCOMPARE(stages[1].config["adapters"]["balance"]["scope"], nlohmann::json("module"));
    QCOMPARE(stages[1].config["adapters"]["balance"]["multiply_by_experts"], nlohmann::json(true));
    nlohmann::json retrain = stages[1].config;
    method_named("guilomo").link_stage(retrain, "abc");
    QCOMPARE(retrain["allocation"]["guilomo"]["allocation_file"],
             nlohmann::json("runs/abc/guilomo_allocation.json"));
    QCOMPARE(method_named("guilomo").stage_role(retrain, {}), std::string("retrain"));
    QCOMPARE(static_cast<int>(method_named("mola").stages(j).size()), 1);
  }

  /// AlphaLoRA's α by hand. λ = {1, 2, 4}: candidate xmin = 1 gives n = 3,
  /// α = 1 + 3 / (ln 1 + ln 2 + ln 4 − 3 ln 1) = 1 + 1/ln 2, and D = max(0, |1 − 2^(−1/ln2) − 1/3|,
  /// |1 − 4^(−1/ln2) − 2/3|) = 1 − e^(−1) − 1/3 ≈ 0.299; xmin = 2 gives α = 1 + 2/ln 2 and
  /// D = 1 − e^(−2) − 1/2 ≈ 0.365: the first wins.
  void hillAlphaByHand() {
    HillOptions plain;
    plain.pl_fitting = false;
    QVERIFY(std::abs(hill_alpha({4.0, 1.0, 2.0}, plain) - (1.0 + 1.0 / std::log(2.0))) < 1e-12);
    // With the reference's histogram window: log10 λ = {0, 1, 2}, the fullest bin is the first
    // (ties), x2 = 1, xmin ∈ [log10 0.95, 1.5]: only λ = 1 is tried, α = 1 + 1/ln 10.
    QVERIFY(std::abs(hill_alpha({1.0, 10.0, 100.0}, {}) - (1.0 + 1.0 / std::log(10.0))) < 1e-12);
    // filter_zeros drops λ ≤ 1e-4 (a rank-3 matrix among zeros).
    HillOptions filtered;
    filtered.filter_zeros = true;
    QVERIFY(std::abs(hill_alpha({0.0, 0.0, 1.0, 2.0, 4.0}, filtered) -
                     (1.0 + 1.0 / std::log(2.0))) < 1e-12);
  }

  /// A planted power law: λ_j the quantiles of a Pareto law with exponent α = 3 (density
  /// ∝ λ^−α, λ ≥ 1) are fitted back to α within the estimator's error.
  void hillAlphaRecoversAPlantedPowerLaw() {
    std::vector<double> eigs;
    const int n = 4000;
    for (int j = 0; j < n; ++j) eigs.push_back(std::pow(1.0 - (j + 0.5) / n, -1.0 / (3.0 - 1.0)));
    HillOptions plain;
    plain.pl_fitting = false;
    const double a = hill_alpha(eigs, plain);
    QVERIFY2(std::abs(a - 3.0) < 0.1, qPrintable(QString::number(a)));
  }

  /// The reference's exponential_scaling by hand: α = {1, 2, 3, 4}, β = 2: shares of 20 are
  /// 20·{1, 4, 9, 16}/30 = {0.67, 2.67, 6, 10.67} → {1, 3, 6, 11} (21); one too many, taken
  /// from argmax(v^β − n) = argmax{0, 1, 3, 5} → {1, 3, 6, 10}.
  void expertScalingByHand() {
    QCOMPARE(experts_from_alphas({1, 2, 3, 4}, 20, 1.0), (std::vector<int>{2, 4, 6, 8}));
    QCOMPARE(experts_from_alphas({1, 2, 3, 4}, 20, 2.0), (std::vector<int>{1, 3, 6, 10}));
    // Round half to even (numpy): 0.5 and 0.5 round to 0, the missing one goes to argmin.
    QCOMPARE(experts_from_alphas({1, 1}, 1, 1.0), (std::vector<int>{1, 0}));
    // The two planted layers of tst_methods_train: α = 1 + 1/ln 2 and 1 + 1/ln 10, β = 2.5,
    // 8 experts: 8 · {9.33, 2.46}/11.79 = {6.33, 1.67} → {6, 2}.
    QCOMPARE(experts_from_alphas({1 + 1 / std::log(2.0), 1 + 1 / std::log(10.0)}, 8, 2.5),
             (std::vector<int>{6, 2}));
  }

  void alphaloraPlanBeforeTheRunCostsWhatTheRunCosts() {
    auto j = base_config();
    j["allocation"] = {{"method", "alphalora"}, {"alphalora", {{"total_experts", 10}}}};
    const ExperimentConfig cfg = ExperimentConfig::from_json(j);
    const ExpertAllocation even = plan_allocation(cfg, shape4());
    QCOMPARE(even.ranks.size(), size_t{4});
    QCOMPARE(even.total_experts(), 10);
    const ExpertAllocation skewed = plan_from_counts(cfg, {1, 1, 2, 6});
    QCOMPARE(skewed.top_k, (std::vector<int>{1, 1, 2, 2}));  // min(adapters.top_k, experts)
    QCOMPARE(trainable_parameters(cfg, shape4(), skewed),
             trainable_parameters(cfg, shape4(), even));
    const PlanSummary s = method_of(cfg).summarize(cfg, shape4(), ".");
    QVERIFY2(s.ok, s.text.c_str());
    QCOMPARE(s.trainable_parameters, trainable_parameters(cfg, shape4(), even));
    // 0 = MoLA 2468's total: 2 + 4 + 6 + 8 on four layers.
    QCOMPARE(AlphaLoraOptions{}.total_for(4), 20);
    QVERIFY(starts_with(error_of([&] {
                          plan_from_counts(cfg, {0, 2, 4, 4});
                        }),
                        "allocation.alphalora.total_experts: a layer got no expert"));
  }

  /// AdaLoRA's smoothing by hand: Ī = 0.5·0 + 0.5·2 = 1, Ū = 0.5·0 + 0.5·|2 − 1| = 0.5; then
  /// I = 0: Ī = 0.5, Ū = 0.25 + 0.5·0.5 = 0.5.
  void increloraImportanceByHand() {
    double ibar = 0.0, ubar = 0.0;
    smooth_importance(2.0, ibar, ubar, 0.5, 0.5);
    QCOMPARE(ibar, 1.0);
    QCOMPARE(ubar, 0.5);
    smooth_importance(0.0, ibar, ubar, 0.5, 0.5);
    QCOMPARE(ibar, 0.5);
    QCOMPARE(ubar, 0.5);
    // Score: mean of Ī·Ū over the active components only.
    QCOMPARE(unit_score({1.0, 2.0, 9.0}, {0.5, 0.5, 9.0}, 2), 0.75);
    QCOMPARE(unit_score({1.0}, {1.0}, 0), 0.0);
  }

  void increloraGrowthChoiceByHand() {
    // Unit 3 is at r_max and skipped; the two best of the rest grow by delta_r.
    const std::vector<int> ranks = {2, 2, 2, 16};
    const std::vector<double> scores = {0.1, 0.5, 0.3, 0.9};
    using Grants = std::vector<std::pair<int, int>>;
    QCOMPARE(pick_growth(ranks, scores, 2, 2, 16, 100), (Grants{{1, 4}, {2, 4}}));
    // The budget caps the last grant; ties keep the lower index.
    QCOMPARE(pick_growth(ranks, scores, 3, 2, 16, 3), (Grants{{1, 4}, {2, 3}}));
    QCOMPARE(pick_growth({2, 2}, {0.5, 0.5}, 1, 2, 16, 10), (Grants{{0, 4}}));
    // r_max caps a grant.
    QCOMPARE(pick_growth({15}, {1.0}, 1, 2, 16, 10), (Grants{{0, 16}}));
  }

  void increloraPlanAndBudget() {
    auto j = base_config();
    j["adapters"]["method"] = "lora";
    j["adapters"]["target_modules"] = {"q_proj", "v_proj"};
    j["allocation"] = {{"method", "increlora"}, {"increlora", {{"r_max", 12}, {"r_target", 6}}}};
    const ExperimentConfig cfg = ExperimentConfig::from_json(j);
    const PlanSummary s = method_of(cfg).summarize(cfg, shape4(), ".");
    QVERIFY2(s.ok, s.text.c_str());
    // q_proj 32→32, v_proj 32→16: per rank (32 + 32) + (32 + 16) = 112, 4 layers.
    QCOMPARE(s.allocated_parameters, int64_t{112 * 12 * 4});
    QCOMPARE(s.trainable_parameters, int64_t{112 * 6 * 4});
    QCOMPARE(s.rank_budget, int64_t{8 * 6});
  }

  void matrixViewsIncludeTheNewMethods() {
    std::set<std::string> keys;
    for (const MatrixView& v : matrix_views()) QVERIFY(keys.insert(v.key).second);
    QVERIFY(keys.count(kAlphaLoraAlpha) && keys.count("increlora/rank") &&
            keys.count("drlora/rank"));
  }
};

QTEST_APPLESS_MAIN(TestMethods)
#include "tst_methods.moc"
