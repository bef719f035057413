// SPDX-License-Identifier: GPL-3.0-or-later
// Decoder-layer training steps at the LLaMA-2-7B shape and the GEMM rate (see bench_layer.h).
#include "bench_layer.h"

#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <optional>

#include "core/adapters/adapter_injector.h"
#include "core/model/transformer_lm.h"

namespace apportion::bench {
namespace {

constexpr int64_t kHidden = 4096, kMlp = 11008, kHeads = 32, kTokens = 256;
constexpr int64_t kVocab = 260;  // the byte tokenizer's (bos/eos/pad ids 256-258)
constexpr int kExperts = 8, kTopK = 2, kRank = 8;
constexpr int64_t kGemmM = 512, kGemmK = 4096, kGemmN = 4096;

ModelConfig layer_config() {
  ModelConfig c;  // LLaMA-2-7B's decoder layer; one layer and a tiny vocabulary
  c.hidden_size = kHidden;
  c.intermediate_size = kMlp;
  c.num_hidden_layers = 1;
  c.num_attention_heads = kHeads;
  c.num_key_value_heads = kHeads;
  c.vocab_size = kVocab;
  c.max_position_embeddings = 4096;
  return c;
}

void layer_step(benchmark::State& state, const std::string& variant) {
  torch::manual_seed(0);
  TransformerLM model(layer_config());
  model->freeze_backbone();
  std::optional<AdapterSet> adapters;
  if (variant != "frozen") {
    AdapterConfig a;
    a.method = variant == "lora" ? "lora" : "moe_lora";
    a.r = kRank;
    a.lora_alpha = 2.0 * kRank;
    a.lora_dropout = 0.0;
    a.num_experts = kExperts;
    a.top_k = kTopK;
    ExpertAllocation alloc;
    alloc.ranks = {std::vector<int>(variant == "lora" ? 1 : kExperts, kRank)};
    alloc.top_k = {variant == "lora" ? 1 : kTopK};
    adapters = inject_adapters(model, a, alloc);
    torch::NoGradGuard no_grad;
    for (auto& p : adapters->parameters()) p.normal_(0.0, 0.02);  // non-zero B: real work
  }
  std::optional<torch::optim::AdamW> opt;
  if (adapters) {
    opt.emplace(adapters->parameters(), torch::optim::AdamWOptions(1e-4).weight_decay(0.0));
  }
  // The layer's input needs a gradient, as in a deep network: the embedding table stays
  // trainable (its gradient is a cheap scatter), so the backward pays dX through every frozen
  // projection in every variant.
  torch::Tensor embedding;
  for (auto& p : model->named_parameters()) {
    if (p.key().find("embed_tokens") != std::string::npos) embedding = p.value();
  }
  embedding.requires_grad_(true);
  auto ids = torch::randint(0, 256, {1, kTokens});
  for (auto _ : state) {
    if (opt) opt->zero_grad();
    embedding.mutable_grad() = torch::Tensor();
    auto logits = model->forward(ids);  // [1, T, V]
    logits.pow(2).mean().backward();
    if (opt) opt->step();
    benchmark::DoNotOptimize(logits.data_ptr());
  }
  state.counters["GFLOP"] = layer_step_flops(variant) / 1e9;
  state.counters["GFLOP/s"] = benchmark::Counter(layer_step_flops(variant) / 1e9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

void gemm_rate(benchmark::State& state) {
  torch::manual_seed(0);
  auto a = torch::randn({kGemmM, kGemmK}), b = torch::randn({kGemmK, kGemmN});
  for (auto _ : state) {
    auto c = torch::mm(a, b);
    benchmark::DoNotOptimize(c.data_ptr());
  }
  state.counters["GFLOP/s"] =
      benchmark::Counter(gemm_flops() / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

double gemm_flops() { return 2.0 * kGemmM * kGemmK * kGemmN; }

double layer_step_flops(const std::string& variant) {
  const double n = kTokens, c = kHidden;
  // q, k, v, o + gate, up, down, and the (260-token) LM head
  const double frozen = 4.0 * c * c + 3.0 * c * kMlp + static_cast<double>(kVocab) * c;
  const double attention = 4.0 * n * n * c;  // QKᵀ and PV, forward
  double flops = 4.0 * n * frozen + 3.0 * attention;
  // Adapter parameters a token passes through: r·(in + out) per projection and expert.
  const double per_rank = 4.0 * (c + c) + 2.0 * (c + kMlp) + (kMlp + c);
  if (variant == "lora") flops += 6.0 * n * kRank * per_rank;
  if (variant == "moe") flops += 6.0 * n * (kTopK * kRank * per_rank + 7.0 * c * kExperts);
  return flops;
}

void register_layer_benchmarks() {
  for (const char* v : {"frozen", "lora", "moe"}) {
    benchmark::RegisterBenchmark((std::string("layer/") + v + "/7b_4096_t256").c_str(),
                                 [v = std::string(v)](benchmark::State& st) { layer_step(st, v); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(3);
  }
  benchmark::RegisterBenchmark("gemm/fp32_512x4096x4096", gemm_rate)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->MinTime(1.0);
}

}  // namespace apportion::bench
