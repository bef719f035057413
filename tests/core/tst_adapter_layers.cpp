// SPDX-License-Identifier: GPL-3.0-or-later
// Tests of adapters.layers_to_transform: adapters only on the listed decoder layers, the
// allocation's parameter count equal to the built model's trainable parameters (plain LoRA and
// MoLA), zero-expert records and NaN routing rows for the layers left out, and the build-time
// range error for a backbone whose layer count the config does not know.
#include <torch/torch.h>

#include <QtTest>
#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "core/adapters/adapter_injector.h"
#include "core/adapters/moe_lora_adapter.h"
#include "core/common/error.h"
#include "core/train/model_builder.h"
#include "core/train/train_records.h"
#include "tests/core/test_util.h"

using namespace apportion;
using test::contains;
using test::error_of;

class TestAdapterLayers : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    torch::manual_seed(0);
    torch::set_num_threads(1);
  }

  /// adapters.layers_to_transform on 2 of 4 layers: adapters only there, the allocation's
  /// parameter count equals Σ numel of the built model's trainable tensors (plain LoRA and
  /// MoLA), and the records show 0 experts on the layers left out.
  void layersToTransformCountsMatchTheBuiltModel() {
    ModelConfig mc = test::tiny_llama_config();
    mc.num_hidden_layers = 4;
    for (const std::string& method : {std::string("lora"), std::string("moe_lora")}) {
      for (const auto& layers : {std::vector<int>{0, 1}, std::vector<int>{3, 2}}) {
        nlohmann::json j = {
            {"backbone", {{"config", mc.to_json()}}},
            {"adapters",
             {{"method", method}, {"r", 4}, {"top_k", 2}, {"layers_to_transform", layers}}},
            {"allocation", {{"method", method == "lora" ? "uniform" : "mola"}, {"preset", "2468"}}},
            {"data", {{"max_seq_len", mc.max_position_embeddings}}},  // build_model checks it
            {"seed", 3u}};
        const auto cfg = ExperimentConfig::from_json(j);
        const std::string what = method + " on layers " + nlohmann::json(layers).dump();
        BuiltModel built = build_model(cfg, "");
        int64_t numel = 0;
        for (const auto& [name, t] : built.trainable) {
          numel += t.numel();
          const bool listed = contains(name, "layers." + std::to_string(layers[0]) + ".") ||
                              contains(name, "layers." + std::to_string(layers[1]) + ".");
          QVERIFY2(listed, (what + ": adapter outside the listed layers: " + name).c_str());
        }
        const bool moe = method == "moe_lora";
        const auto modules = cfg.adapters->target_modules;
        const int64_t counted = count_trainable_parameters(
            built.shape, plan_allocation(cfg, built.shape), modules, /*with_router=*/moe);
        QVERIFY2(numel > 0, what.c_str());
        QVERIFY2(counted == numel, (what + ": counted " + std::to_string(counted) + ", built " +
                                    std::to_string(numel))
                                       .c_str());
        QCOMPARE(built.trainable_count, numel);
        // The same config on every layer counts more (the count can fail).
        auto all = j;
        all["adapters"].erase("layers_to_transform");
        const auto full = ExperimentConfig::from_json(all);
        QVERIFY(count_trainable_parameters(built.shape, plan_allocation(full, built.shape), modules,
                                           moe) > counted);
        // Records: 0 experts on the layers left out; MoLA keeps its preset on the others.
        const auto records =
            allocation_records(built.allocation, canonical_module_order(modules), 0);
        const auto& experts = records.at(0);
        QCOMPARE(experts.shape, (std::vector<int64_t>{4, 7}));
        const std::vector<int> mola = {2, 4, 6, 8};
        for (int l = 0; l < 4; ++l) {
          const bool listed = std::find(layers.begin(), layers.end(), l) != layers.end();
          const int expected = !listed ? 0 : moe ? mola[static_cast<size_t>(l)] : 1;
          for (int m = 0; m < 7; ++m)
            QCOMPARE(experts.i32[static_cast<size_t>(l * 7 + m)], expected);
        }
        // Routing statistics keep the model's layer axis (NaN rows for the layers left out).
        if (moe) {
          built.model->forward(torch::randint(3, mc.vocab_size, {2, 5}, torch::kInt64));
          const auto stats = built.adapters->routing_stats();
          QCOMPARE(stats.layers, 4);
          const bool layer0 = std::find(layers.begin(), layers.end(), 0) != layers.end();
          QCOMPARE(std::isnan(stats.load_fraction[0]), !layer0);
          built.adapters->clear_caches();
        }
      }
    }
  }

  void layersToTransformOutOfRangeAtBuildTime() {
    ModelConfig mc = test::tiny_llama_config();                             // 2 layers
    nlohmann::json j = {{"backbone", {{"config", {{"hidden_size", 32}}}}},  // no layer count
                        {"adapters", {{"method", "lora"}, {"layers_to_transform", {0, 3}}}}};
    const auto cfg = ExperimentConfig::from_json(j);
    TransformerLM model(mc);
    model->freeze_backbone();
    const auto msg = error_of([&] { inject_adapters(model, *cfg.adapters, ExpertAllocation{}); });
    QVERIFY2(contains(msg,
                      "adapters.layers_to_transform[1]: layer 3 out of range (the backbone "
                      "has 2 layers)"),
             msg.c_str());
  }
};

QTEST_APPLESS_MAIN(TestAdapterLayers)
#include "tst_adapter_layers.moc"
