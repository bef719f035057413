// SPDX-License-Identifier: GPL-3.0-or-later
// The method seam, torch side: AlphaLoRA decides the experts per layer from a planted weight
// spectrum (values computed by hand in tst_methods), IncreLoRA's runtime starts every LoRA at
// r_init with the fixed scaling α / r_target, and the rows the builder asks are the right ones.
#include <QtTest/QtTest>

#include <torch/torch.h>

#include <cmath>

#include "core/adapters/lora_adapter.h"
#include "core/adapters/moe_lora_adapter.h"
#include "core/backbone/model_config.h"
#include "core/methods/method_registry.h"
#include "core/train/method_runtime.h"
#include "core/train/model_builder.h"
#include "tests/core/test_util.h"

using namespace apportion;

namespace {

nlohmann::json config_with(const nlohmann::json& adapters, const nlohmann::json& allocation) {
  nlohmann::json j = nlohmann::json::parse(R"({
    "backbone": {"config": {"architectures": ["LlamaForCausalLM"], "model_type": "llama",
      "vocab_size": 260, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
      "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 128}},
    "seed": 5
  })");
  j["adapters"] = adapters;
  j["allocation"] = allocation;
  return j;
}

/// Every projection of layer l gets the singular values √λ for λ in `eigs[l]` (a rectangular
/// diagonal matrix; the other singular values are 0).
void plant_spectra(TransformerLM& model, const std::vector<std::vector<double>>& eigs) {
  torch::NoGradGuard no_grad;
  for (const ProjectionSlot& slot : model->projections()) {
    torch::Tensor w = slot.linear->weight;
    w.zero_();
    const auto& layer = eigs.at(static_cast<size_t>(slot.layer));
    for (size_t j = 0; j < layer.size(); ++j)
      w[static_cast<int64_t>(j)][static_cast<int64_t>(j)] = std::sqrt(layer[j]);
  }
}

}  // namespace

class TestMethodsTrain : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  /// Layer 0's projections all have λ = {1, 2, 4} (α = 1 + 1/ln 2), layer 1's λ = {1, 10, 100}
  /// (α = 1 + 1/ln 10): 8 experts at β = 2.5 split {6, 2} (tst_methods: expertScalingByHand).
  void alphaloraFollowsAPlantedSpectrum() {
    const auto cfg = ExperimentConfig::from_json(config_with(
        {{"method", "moe_lora"}, {"r", 4}, {"lora_alpha", 8}, {"top_k", 2}},
        {{"method", "alphalora"},
         {"alphalora", {{"total_experts", 8}, {"beta", 2.5}, {"filter_zeros", true}}}}));
    BuiltModel built;
    built.model = TransformerLM(ModelConfig::from_json(cfg.backbone.config, "backbone.config"));
    built.shape = built.model->config().shape();
    plant_spectra(built.model, {{1.0, 2.0, 4.0}, {1.0, 10.0, 100.0}});
    const ExpertAllocation a = runtime_of(cfg).allocation(cfg, ".", built);
    QCOMPARE(a.experts(0), 6);
    QCOMPARE(a.experts(1), 2);
    QCOMPARE(a.top_k, (std::vector<int>{2, 2}));
    // Reversed spectra, reversed counts: the layer with the larger α (lighter tail) gets more.
    plant_spectra(built.model, {{1.0, 10.0, 100.0}, {1.0, 2.0, 4.0}});
    const ExpertAllocation b = runtime_of(cfg).allocation(cfg, ".", built);
    QCOMPARE(b.experts(0), 2);
    QCOMPARE(b.experts(1), 6);
  }

  /// The whole build: AlphaLoRA's counts reach the injected LoRA-MoE adapters.
  void alphaloraBuildsItsAllocation() {
    const auto cfg = ExperimentConfig::from_json(
        config_with({{"method", "moe_lora"}, {"r", 4}, {"lora_alpha", 8}, {"top_k", 2}},
                    {{"method", "alphalora"}, {"alphalora", {{"total_experts", 9}}}}));
    BuiltModel built = build_model(cfg, ".");
    QCOMPARE(built.allocation.total_experts(), 9);
    for (const auto& a : built.adapters->adapters()) {
      QVERIFY(a.moe);
      QCOMPARE(static_cast<int>(a.moe->ranks().size()), built.allocation.experts(a.layer));
    }
  }

  void increloraStartsAtTheInitialRank() {
    const auto cfg = ExperimentConfig::from_json(config_with(
        {{"method", "lora"}, {"r", 4}, {"lora_alpha", 8}},
        {{"method", "increlora"}, {"increlora", {{"r_init", 3}, {"r_target", 5}, {"r_max", 10}}}}));
    BuiltModel built = build_model(cfg, ".");
    QVERIFY(!built.adapters->adapters().empty());
    for (const auto& a : built.adapters->adapters()) {
      QVERIFY(a.lora);
      QCOMPARE(a.lora->rank(), 10);
      QCOMPARE(a.lora->active_rank(), 3);
      QCOMPARE(a.lora->scaling(), 8.0 / 5.0);
    }
  }
};

QTEST_APPLESS_MAIN(TestMethodsTrain)
#include "tst_methods_train.moc"
