// SPDX-License-Identifier: GPL-3.0-or-later
// The torch-free counters and the peak-memory estimate (core/estimate/memory_estimate.h)
// against built models: backbone_parameter_count and count_trainable_parameters equal Σ numel
// of the model and of the injected adapters for every fixture architecture (LLaMA with an
// explicit head_dim, biases, q/k norms, routed and shared experts); the estimate's terms for a
// hand-worked tiny config; and its errors.
#include <torch/torch.h>

#include <QtTest>
#include <string>
#include <vector>

#include "core/adapters/adapter_injector.h"
#include "core/allocation/expert_allocation.h"
#include "core/common/error.h"
#include "core/estimate/memory_estimate.h"
#include "core/model/transformer_lm.h"
#include "tests/core/hf_reference.h"

using namespace apportion;
using nlohmann::json;

namespace {

ExperimentConfig experiment(const json& backbone_config, const json& adapters) {
  json j = {{"name", "estimate"},           {"backbone", {{"config", backbone_config}}},
            {"adapters", adapters},         {"allocation", {{"method", "uniform"}}},
            {"data", {{"max_seq_len", 8}}}, {"train", {{"micro_batch_size", 2}}}};
  return ExperimentConfig::from_json(j);
}

}  // namespace

class TestMemoryEstimate : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void backbone_count_equals_built_numel() {
    for (const auto& arch : test::fixture_architectures()) {
      const ModelConfig cfg = ModelConfig::from_json(test::tiny_hf_config(arch), arch);
      TransformerLM model(cfg);
      int64_t numel = 0;
      for (const auto& p : model->parameters()) numel += p.numel();
      QVERIFY2(backbone_parameter_count(cfg) == numel,
               (arch + ": counted " + std::to_string(backbone_parameter_count(cfg)) + ", built " +
                std::to_string(numel))
                   .c_str());
    }
  }

  void trainable_count_equals_injected_numel() {
    // All seven projections on every architecture, LoRA and LoRA-MoE (llama's fixture has
    // head_dim 16 with 4 heads on hidden 32: q_proj is 32 -> 64; the MoE fixtures put a LoRA on
    // every routed expert, qwen2_moe also on its shared expert and has a dense layer 1).
    for (const auto& arch : test::fixture_architectures()) {
      const json hf = test::tiny_hf_config(arch);
      const ModelConfig mcfg = ModelConfig::from_json(hf, arch);
      const std::vector<std::string> modules = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                                "gate_proj", "up_proj", "down_proj"};
      for (const char* method : {"lora", "moe_lora"}) {
        const ExperimentConfig cfg = experiment(hf, {{"method", method},
                                                     {"r", 4},
                                                     {"num_experts", 3},
                                                     {"top_k", 2},
                                                     {"target_modules", modules}});
        const ExpertAllocation alloc = plan_allocation(cfg, mcfg.shape());
        TransformerLM model(mcfg);
        model->freeze_backbone();
        const AdapterSet set = inject_adapters(model, *cfg.adapters, alloc);
        const int64_t counted = count_trainable_parameters(mcfg.shape(), alloc, modules,
                                                           std::string(method) == "moe_lora");
        QVERIFY2(counted == set.parameter_count(),
                 (arch + " " + method + ": counted " + std::to_string(counted) + ", built " +
                  std::to_string(set.parameter_count()))
                     .c_str());
      }
    }
  }

  void estimate_of_a_hand_worked_config() {
    // 1 layer, C 8, I 16, 2 heads (D 4), no GQA, V 10, float32, batch 2 × 8 tokens, LoRA r 2 on
    // q and v without dropout, on the CPU. Per token and layer (bytes): input 32, normed input
    // of q/v 32, q 32 + k 32 + v 32, probabilities 4·2·8 = 64, mid residual 32, q and v LoRA
    // A-outputs 4·2 each = 16, SwiGLU 3·4·16 = 192: 464. Kept: the layer 464 + working set
    // 464 + final norm 32 = 960 per token, × 16 tokens = 15360. Logits 16 · 10 · 12 = 1920.
    // Weights: embedding and head 2·80 + final norm 8 + norms 16 + q,k,v,o 4·64 + MLP 3·128
    // = 824 parameters, × 4 = 3296. Trainable: 2·(8+8)·2 = 64 parameters × 16 = 1024.
    const json hf = {{"architectures", {"LlamaForCausalLM"}},
                     {"model_type", "llama"},
                     {"hidden_size", 8},
                     {"intermediate_size", 16},
                     {"num_hidden_layers", 1},
                     {"num_attention_heads", 2},
                     {"num_key_value_heads", 2},
                     {"vocab_size", 10},
                     {"bos_token_id", 1},
                     {"eos_token_id", 2},
                     {"pad_token_id", 0}};
    const ExperimentConfig cfg = experiment(hf, {{"method", "lora"},
                                                 {"r", 2},
                                                 {"lora_dropout", 0.0},
                                                 {"target_modules", {"q_proj", "v_proj"}}});
    const ModelConfig m = ModelConfig::from_json(hf, "hf");
    const int64_t trainable = count_trainable_parameters(m.shape(), plan_allocation(cfg, m.shape()),
                                                         {"q_proj", "v_proj"}, false);
    QCOMPARE(trainable, int64_t{64});
    const MemoryEstimate e = estimate_training_memory(m, cfg, trainable);
    QCOMPARE(e.backbone_parameters, int64_t{824});
    QCOMPARE(e.weights_bytes, int64_t{3296});
    QCOMPARE(e.trainable_bytes, int64_t{1024});
    QCOMPARE(e.activation_bytes, int64_t{15360});
    QCOMPARE(e.logits_bytes, int64_t{1920});
    QCOMPARE(e.runtime_bytes, int64_t{200} << 20);
    QCOMPARE(e.total_bytes, int64_t{3296 + 1024 + 15360 + 1920 + (int64_t{200} << 20)});
    QVERIFY(!e.cuda);

    // Gradient checkpointing keeps only each layer's input (32) besides the recomputed layer.
    ExperimentConfig ckpt = cfg;
    ckpt.train.gradient_checkpointing = true;
    QCOMPARE(estimate_training_memory(m, ckpt, trainable).activation_bytes,
             int64_t{16 * (32 + 464 + 32)});
    // bfloat16 halves the weights and adds RMSNorm's float32 copies and the probabilities' cast.
    ExperimentConfig bf16 = cfg;
    bf16.train.dtype = "bfloat16";
    const MemoryEstimate b = estimate_training_memory(m, bf16, trainable);
    QCOMPARE(b.weights_bytes, int64_t{1648});
    QCOMPARE(b.logits_bytes, int64_t{16 * 10 * 14});
  }

  void unknown_dtype_is_named() {
    try {
      dtype_bytes("float8");
      QFAIL("no throw");
    } catch (const ConfigError& e) {
      QVERIFY(std::string(e.what()).find("train.dtype: unknown dtype 'float8'") !=
              std::string::npos);
    }
  }

  void describe_names_every_term() {
    MemoryEstimate e;
    e.weights_bytes = int64_t{13} << 30;
    e.total_bytes = (int64_t{13} << 30) + (int64_t{512} << 20);
    e.activation_bytes = int64_t{512} << 20;
    e.cuda = true;
    const std::string s = describe(e);
    QVERIFY2(s.find("13.00 GiB weights") != std::string::npos, s.c_str());
    QVERIFY2(s.find("512 MiB activations") != std::string::npos, s.c_str());
    QVERIFY2(s.find("= 13.50 GiB (CUDA allocator peak") != std::string::npos, s.c_str());
  }
};

QTEST_APPLESS_MAIN(TestMemoryEstimate)
#include "tst_memory_estimate.moc"
