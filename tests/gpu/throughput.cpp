// SPDX-License-Identifier: GPL-3.0-or-later
// gpu_check throughput: training steps of a LLaMA-2-7B-shaped model with random weights made
// on the device (no download), base in bfloat16 (float32 on the CPU) and adapters in float32
// as the trainer keeps them, for plain LoRA r 8, MoLA-2468 and uniform LoRA-MoE (5 experts per
// layer: MoLA-2468's 160 in total), top-2, r 8, on all 7 projections; at cutoff 256 (batch 4)
// and 1024 (batch 1), with and without gradient checkpointing. Per configuration: tokens/s,
// MFU and peak memory (CUDA allocator peak) next to the estimate of core/estimate.
// MFU counts as model FLOPs per token 4·P (forward and input gradient of the frozen
// projections and LM head; no weight gradients), 6·Pa over all adapter parameters (the stacked
// LoRA-MoE computes every expert), and the attention products 3·4·T·C per layer; it is given
// against the device's measured bf16 GEMM rate (8192³, timed in the same call).
#include <torch/torch.h>

#include <chrono>

#include "core/adapters/adapter_injector.h"
#include "core/allocation/expert_allocation.h"
#include "core/estimate/memory_estimate.h"
#include "core/model/transformer_lm.h"
#include "core/train/device_setup.h"
#include "tests/gpu/gpu_check.h"

namespace apportion::gpu_check {
namespace {

using Clock = std::chrono::steady_clock;

void sync(const torch::Device& d) {
  if (d.is_cuda()) torch::cuda::synchronize(d.has_index() ? d.index() : -1);
}

nlohmann::json backbone_json(const std::string& shape) {
  if (shape == "7b") {
    return {{"architectures", {"LlamaForCausalLM"}},
            {"model_type", "llama"},
            {"hidden_size", 4096},
            {"intermediate_size", 11008},
            {"num_hidden_layers", 32},
            {"num_attention_heads", 32},
            {"num_key_value_heads", 32},
            {"vocab_size", 32000},
            {"max_position_embeddings", 4096},
            {"bos_token_id", 1},
            {"eos_token_id", 2},
            {"pad_token_id", 0}};
  }
  return {{"architectures", {"LlamaForCausalLM"}},
          {"model_type", "llama"},
          {"hidden_size", 128},
          {"intermediate_size", 344},
          {"num_hidden_layers", 4},
          {"num_attention_heads", 4},
          {"num_key_value_heads", 4},
          {"vocab_size", 260},
          {"max_position_embeddings", 1024},
          {"bos_token_id", 257},
          {"eos_token_id", 258},
          {"pad_token_id", 256}};
}

nlohmann::json adapters_json(const std::string& method) {
  nlohmann::json a = {{"r", 8}, {"lora_alpha", 16}, {"lora_dropout", 0.05}, {"top_k", 2}};
  a["method"] = method == "lora" ? "lora" : "moe_lora";
  if (method == "uniform-5") a["num_experts"] = 5;
  return a;
}

nlohmann::json allocation_json(const std::string& method) {
  if (method == "mola-2468") return {{"method", "mola"}, {"preset", "2468"}};
  return {{"method", "uniform"}};
}

/// bf16 (or f32 on the CPU) GEMM rate in FLOP/s.
double gemm_rate(const torch::Device& d) {
  const int64_t n = d.is_cuda() ? 8192 : 512;
  const auto dt = d.is_cuda() ? torch::kBFloat16 : torch::kFloat32;
  auto a = torch::randn({n, n}, torch::TensorOptions().device(d).dtype(dt));
  auto b = torch::randn({n, n}, torch::TensorOptions().device(d).dtype(dt));
  for (int i = 0; i < 3; ++i) torch::mm(a, b);
  sync(d);
  const int iters = 10;
  const auto t0 = Clock::now();
  for (int i = 0; i < iters; ++i) torch::mm(a, b);
  sync(d);
  const double s = std::chrono::duration<double>(Clock::now() - t0).count();
  return 2.0 * n * n * n * iters / s;
}

}  // namespace

nlohmann::json throughput(const std::string& device_name, const std::string& shape, int steps) {
  const torch::Device device(device_name);
  const bool cuda = device.is_cuda();
  const double rate = gemm_rate(device);
  nlohmann::json out = {{"check", "throughput"},
                        {"device", device_name},
                        {"shape", shape},
                        {"gemm_flops_per_s", rate},
                        {"ok", true}};
  const nlohmann::json backbone = backbone_json(shape);
  const ModelConfig mcfg = ModelConfig::from_json(backbone, "throughput backbone");
  const std::vector<std::pair<int, int>> cutoffs =
      shape == "7b" ? std::vector<std::pair<int, int>>{{256, 4}, {1024, 1}}
                    : std::vector<std::pair<int, int>>{{64, 4}, {256, 1}};
  for (const std::string method : {"lora", "mola-2468", "uniform-5"}) {
    nlohmann::json j = {
        {"name", "throughput-" + method},
        {"backbone", {{"config", backbone}}},
        {"adapters", adapters_json(method)},
        {"allocation", allocation_json(method)},
        {"train", {{"device", device_name}, {"dtype", cuda ? "bfloat16" : "float32"}}}};
    ExperimentConfig cfg = ExperimentConfig::from_json(j);
    const ExpertAllocation alloc = plan_allocation(cfg, mcfg.shape());
    torch::manual_seed(0);
    BuildOptions opts;
    opts.dtype = cuda ? torch::kBFloat16 : torch::kFloat32;
    opts.device = device;
    TransformerLM model(mcfg, opts);
    model->freeze_backbone();
    AdapterSet adapters = inject_adapters(model, *cfg.adapters, alloc);
    model->train();
    const int64_t trainable = adapters.parameter_count();
    torch::optim::AdamW opt(adapters.parameters(), torch::optim::AdamWOptions(1e-4));
    const double c = mcfg.hidden_size, layers = mcfg.num_hidden_layers;
    const double frozen = static_cast<double>(backbone_parameter_count(mcfg)) -
                          static_cast<double>(mcfg.vocab_size) * c;  // embedding: a lookup
    for (const auto& [cutoff, batch] : cutoffs) {
      for (const bool ckpt : {false, true}) {
        model->set_gradient_checkpointing(ckpt);
        cfg.train.micro_batch_size = batch;
        cfg.data.max_seq_len = cutoff;
        cfg.train.gradient_checkpointing = ckpt;
        const MemoryEstimate est = estimate_training_memory(mcfg, cfg, trainable);
        auto ids = torch::randint(3, mcfg.vocab_size, {batch, cutoff},
                                  torch::TensorOptions().dtype(torch::kInt64).device(device));
        auto step = [&] {
          opt.zero_grad();
          auto logits = model->forward(ids).to(torch::kFloat32);  // [B, T, V]
          auto loss = torch::nn::functional::cross_entropy(logits.view({-1, logits.size(-1)}),
                                                           ids.view({-1}));
          loss.backward();
          opt.step();
          return loss.item<double>();
        };
        reset_peak_memory(device);
        double loss = 0;
        for (int i = 0; i < 2; ++i) loss = step();  // warm-up
        sync(device);
        const auto t0 = Clock::now();
        for (int i = 0; i < steps; ++i) loss = step();
        sync(device);
        const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
        const double tokens = static_cast<double>(batch) * cutoff * steps;
        const double flops_per_token =
            4.0 * frozen + 6.0 * static_cast<double>(trainable) + 3.0 * 4.0 * cutoff * c * layers;
        const double achieved = tokens * flops_per_token / secs;
        const int64_t peak = peak_memory_bytes(device);
        out["results"].push_back(
            {{"method", method},
             {"cutoff", cutoff},
             {"batch", batch},
             {"gradient_checkpointing", ckpt},
             {"steps", steps},
             {"seconds_per_step", secs / steps},
             {"tokens_per_s", tokens / secs},
             {"model_flops_per_s", achieved},
             {"mfu_vs_measured_gemm", achieved / rate},
             {"peak_memory_bytes", peak},
             {"estimated_peak_bytes", est.total_bytes},
             {"estimate_error",
              peak > 0 ? (static_cast<double>(est.total_bytes) - peak) / peak : 0.0},
             {"trainable_parameters", trainable},
             {"final_loss", loss}});
        if (!std::isfinite(loss)) out["ok"] = false;
      }
    }
  }
  return out;
}

}  // namespace apportion::gpu_check
