// SPDX-License-Identifier: GPL-3.0-or-later
// Allocation strategy tests: data-driven rows (method, preset, layers) → experts per layer,
// top-k checks, and trainable-parameter counts against hand-computed values.
#include <QtTest/QtTest>

#include "core/allocation/expert_allocation.h"
#include "core/allocation/guilomo_readout.h"
#include "core/common/error.h"
#include "core/config/experiment_config.h"

using namespace apportion;
Q_DECLARE_METATYPE(std::vector<int>)

class TestAllocation : public QObject {
  Q_OBJECT

  static ModelShape shape(int layers) {
    ModelShape s;
    s.num_layers = layers;
    s.hidden_size = 64;
    s.intermediate_size = 176;
    s.num_attention_heads = 4;
    s.num_key_value_heads = 2;
    return s;
  }

 private Q_SLOTS:
  void allocate_data() {
    QTest::addColumn<QString>("method");
    QTest::addColumn<QString>("preset");
    QTest::addColumn<int>("layers");
    QTest::addColumn<std::vector<int>>("expected");
    QTest::newRow("uniform 4") << "uniform"
                               << "" << 4 << std::vector<int>{4, 4, 4, 4};
    QTest::newRow("mola 2468 on 4") << "mola"
                                    << "2468" << 4 << std::vector<int>{2, 4, 6, 8};
    QTest::newRow("mola 8642 on 4") << "mola"
                                    << "8642" << 4 << std::vector<int>{8, 6, 4, 2};
    QTest::newRow("mola 2468 on 8") << "mola"
                                    << "2468" << 8 << std::vector<int>{2, 2, 4, 4, 6, 6, 8, 8};
    QTest::newRow("mola 2468 on 32 (blocks of 8)") << "mola"
                                                   << "2468" << 32 << [] {
                                                        std::vector<int> v;
                                                        for (int b : {2, 4, 6, 8})
                                                          v.insert(v.end(), 8, b);
                                                        return v;
                                                      }();
    QTest::newRow("mola 2468 on 6") << "mola"
                                    << "2468" << 6 << std::vector<int>{2, 4, 4, 6, 8, 8};
    QTest::newRow("mola diamond on 4") << "mola"
                                       << "diamond" << 4 << std::vector<int>{3, 7, 7, 3};
    QTest::newRow("mola uniform on 4") << "mola"
                                       << "uniform" << 4 << std::vector<int>{5, 5, 5, 5};
    QTest::newRow("mola 2468 on 2") << "mola"
                                    << "2468" << 2 << std::vector<int>{4, 8};
  }

  void allocate() {
    QFETCH(QString, method);
    QFETCH(QString, preset);
    QFETCH(int, layers);
    QFETCH(std::vector<int>, expected);
    AllocationBudget b;
    b.method = method.toStdString();
    b.preset = preset.toStdString();
    b.num_experts = 4;
    b.top_k = 2;
    b.rank = 8;
    const auto a = AllocationStrategy::create(b.method)->allocate(shape(layers), b);
    QCOMPARE(int(a.ranks.size()), layers);
    std::vector<int> counts;
    for (int l = 0; l < layers; ++l) counts.push_back(a.experts(l));
    QCOMPARE(counts, expected);
    for (int l = 0; l < layers; ++l) {
      QCOMPARE(a.top_k[l], 2);
      for (int r : a.ranks[l]) QCOMPARE(r, 8);
    }
  }

  void explicitListMustMatchDepth() {
    AllocationBudget b;
    b.method = "mola";
    b.explicit_experts = {2, 3, 4};
    try {
      AllocationStrategy::create("mola")->allocate(shape(4), b);
      QFAIL("no error");
    } catch (const ConfigError& e) {
      QVERIFY2(std::string(e.what()).find("allocation.experts_per_layer: has 3 entries") == 0,
               e.what());
    }
  }

  void perLayerTopKChecked() {
    AllocationBudget b;
    b.method = "uniform";
    b.num_experts = 2;
    b.explicit_top_k = {1, 3};
    try {
      AllocationStrategy::create("uniform")->allocate(shape(2), b);
      QFAIL("no error");
    } catch (const ConfigError& e) {
      QVERIFY2(std::string(e.what()).find("allocation.top_k_per_layer[1]: must be <= number of "
                                          "experts (2 in layer 1), got 3") == 0,
               e.what());
    }
  }

  void unknownMethodNamesPath() {
    try {
      AllocationStrategy::create("guessing");
      QFAIL("no error");
    } catch (const ConfigError& e) {
      QVERIFY(std::string(e.what()).find("allocation.method: unknown method \"guessing\"") == 0);
    }
  }

  void parameterCountMatchesHandComputation() {
    // One layer, q_proj (64→64) and down_proj (176→64); experts ranks {2, 3}.
    ModelShape s = shape(1);
    ExpertAllocation a;
    a.ranks = {{2, 3}};
    a.top_k = {1};
    // q: 5·(64+64) + router 2·64 = 640 + 128; down: 5·(176+64) + 2·176 = 1200 + 352.
    QCOMPARE(count_trainable_parameters(s, a, {"q_proj", "down_proj"}, true),
             int64_t{640 + 128 + 1200 + 352});
    QCOMPARE(count_trainable_parameters(s, a, {"q_proj", "down_proj"}, false), int64_t{640 + 1200});
    // k_proj uses the kv width: 64 → 2 heads × 16 = 32.
    QCOMPARE(s.projection_dims("k_proj"), std::make_pair(64, 32));
  }

  void planFromConfig() {
    auto cfg = ExperimentConfig::from_json(nlohmann::json::parse(
        R"({"backbone": {"path": "b"}, "adapters": {"method": "lora", "r": 4}})"));
    const auto a = plan_allocation(cfg, shape(3));
    QCOMPARE(a.total_experts(), 3);
    QCOMPARE(a.ranks[2][0], 4);
    QCOMPARE(a.top_k[0], 1);
  }

  void perModuleRanksOverrideTheLayer() {
    // GuiLoMo stage 2: layer 0's q_proj has experts {2, 3}, its down_proj {1, 1, 4}.
    ModelShape s = shape(1);
    GuiLoMoAllocation g;
    g.top_k = 2;
    g.modules = {{"model.layers.0.self_attn.q_proj", 0, "q_proj", 2, {2, 3, 8, 8}},
                 {"model.layers.0.mlp.down_proj", 0, "down_proj", 3, {1, 1, 4, 8}}};
    const ExpertAllocation a = expert_allocation_from_guilomo(g, s, {"q_proj", "down_proj"});
    QCOMPARE(a.module_experts(0, "q_proj"), (std::vector<int>{2, 3}));
    QCOMPARE(a.module_experts(0, "down_proj"), (std::vector<int>{1, 1, 4}));
    QCOMPARE(a.top_k[0], 2);
    // q: 5·128 + 2·64 = 768; down: 6·240 + 3·176 = 1440 + 528.
    QCOMPARE(count_trainable_parameters(s, a, {"q_proj", "down_proj"}, true),
             int64_t{768 + 1440 + 528});
    // The same figure as the readout's own count (an independent implementation).
    QCOMPARE(count_trainable_parameters(s, a, {"q_proj", "down_proj"}, true),
             count_parameters(g, s, true));
    // A target module the allocation lacks, and a layer beyond the model, are errors.
    try {
      expert_allocation_from_guilomo(g, s, {"q_proj", "k_proj"});
      QFAIL("no error for a missing module");
    } catch (const ConfigError& e) {
      QVERIFY2(std::string(e.what()).find("no entry for k_proj of layer 0") != std::string::npos,
               e.what());
    }
    g.modules[1].layer = 3;
    QVERIFY_THROWS_EXCEPTION(ConfigError, expert_allocation_from_guilomo(g, s, {"q_proj"}));
  }

  void guilomoPlanIsTheSupernet() {
    auto cfg = ExperimentConfig::from_json(nlohmann::json::parse(
        R"({"backbone": {"path": "b"}, "adapters": {"method": "moe_lora", "top_k": 2}, "allocation": {"method": "guilomo", "guilomo": {"n_max": 6, "r_max": 3}}})"));
    const auto a = plan_allocation(cfg, shape(2));
    QCOMPARE(a.ranks[1], (std::vector<int>{3, 3, 3, 3, 3, 3}));
    QCOMPARE(a.top_k[0], 2);
  }

  void drloraPlansTheRoutedExperts() {
    ModelShape s = shape(2);
    s.backbone_experts = {4, 4};
    s.backbone_top_k = {2, 2};
    auto cfg = ExperimentConfig::from_json(nlohmann::json::parse(
        R"({"backbone": {"path": "b"}, "adapters": {"method": "lora", "target_modules": ["gate_proj"]}, "allocation": {"method": "drlora", "drlora": {"r_init": 2, "r_target": 6, "r_max": 20}}})"));
    auto a = plan_allocation(cfg, s);
    QCOMPARE(a.expert_ranks, (std::vector<std::vector<int>>{{20, 20, 20, 20}, {20, 20, 20, 20}}));
    QCOMPARE(a.expert_active_ranks[1], (std::vector<int>{2, 2, 2, 2}));
    QCOMPARE(a.expert_scaling_rank, 6);
    cfg.allocation.method = "static_frequency";
    a = plan_allocation(cfg, s);
    QCOMPARE(a.expert_active_ranks[0], (std::vector<int>{6, 6, 6, 6}));  // until calibration
    s.backbone_experts = {0, 0};
    try {
      plan_allocation(cfg, s);
      QFAIL("no error on a dense backbone");
    } catch (const ConfigError& e) {
      QVERIFY2(std::string(e.what()).find("sparse-MoE backbone") != std::string::npos, e.what());
    }
  }

  void shapeFromHfConfig() {
    const auto j = nlohmann::json::parse(
        R"({"num_hidden_layers": 3, "hidden_size": 32, "intermediate_size": 64, "num_attention_heads": 4})");
    const auto s = model_shape_from_hf_config(j, "cfg.json");
    QCOMPARE(s.num_layers, 3);
    QCOMPARE(s.num_key_value_heads, 4);
    try {
      model_shape_from_hf_config(nlohmann::json::parse(R"({"num_hidden_layers": 3})"), "cfg.json");
      QFAIL("no error");
    } catch (const ConfigError& e) {
      QVERIFY(std::string(e.what()).find("cfg.json: hidden_size is missing") == 0);
    }
  }
};

QTEST_APPLESS_MAIN(TestAllocation)
#include "tst_allocation.moc"
