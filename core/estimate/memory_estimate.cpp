// SPDX-License-Identifier: GPL-3.0-or-later
// The peak-memory model of memory_estimate.h. Per token and decoder layer it counts what
// autograd keeps for the backward in this codebase's layers (frozen base projections keep
// nothing of their input; a LoRA path keeps its input, or its dropout copy and mask):
//   layer input x                       s·C   (the residual stream; RMSNorm's float32 view of it)
//   RMSNorm in float32 (x2)             4·C   each, only when the model dtype is not float32
//   normed input of adapted q/k/v       s·C
//   q, k (after RoPE), v (GQA-repeated) s·(H·D) each for q and the repeated k, v
//   softmax probabilities               4·H·T, plus s·H·T for their cast when s ≠ 4
//   attention output (o_proj input)     s·H·D when o_proj is adapted
//   mid residual                        s·C
//   normed input of adapted gate/up     s·C
//   SwiGLU gate, silu(gate), up         3·s·I (routed MoE: top_k experts of width I_e, + shared)
//   down_proj input                     s·I when down_proj is adapted
//   LoRA dropout copy + mask            (s + 1)·in per adapted projection when dropout > 0
//   LoRA-MoE: x·Aᵀ of all experts       s·ΣR + 8·E per adapted projection
// With gradient checkpointing only s·C per layer is kept, plus one layer recomputed. One more
// layer's worth is added as the backward's working set. The loss adds, per token,
// V·(s + 12) bytes (logits, float32 copy, log-softmax, its gradient).
#include "core/estimate/memory_estimate.h"

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "core/allocation/expert_allocation.h"
#include "core/common/error.h"

namespace apportion {
namespace {

/// CPU runs: the resident set of `apportion train` on a tiny model (LibTorch's code, the
/// allocator, the run store), measured with perf/peak_memory_mb (docs/PERFORMANCE.md).
constexpr int64_t kCpuRuntimeBytes = 200LL << 20;

bool adapted(const ExperimentConfig& cfg, const std::string& module) {
  if (!cfg.adapters) return false;
  const auto& t = cfg.adapters->target_modules;
  return std::find(t.begin(), t.end(), module) != t.end();
}

/// Bytes kept per token by the adapter of one projection with `in` input features.
double adapter_bytes(const ExperimentConfig& cfg,
                     const ExpertAllocation& alloc,
                     int layer,
                     const std::string& module,
                     int64_t in,
                     double s) {
  if (!adapted(cfg, module) || !cfg.adapters->adapts_layer(layer)) return 0.0;
  double bytes = 0.0;
  if (cfg.adapters->lora_dropout > 0) bytes += (s + 1.0) * static_cast<double>(in);
  if (layer < static_cast<int>(alloc.ranks.size())) {
    const auto& ranks = alloc.module_experts(layer, module);
    int total = 0;
    for (int r : ranks) total += r;
    bytes += s * total + (ranks.size() > 1 ? 8.0 * static_cast<double>(ranks.size()) : 0.0);
  }
  return bytes;
}

/// Bytes kept per token by decoder layer `l` without checkpointing.
double layer_bytes(const ModelConfig& m,
                   const ExperimentConfig& cfg,
                   const ExpertAllocation& alloc,
                   int l,
                   double s,
                   double t) {
  const double c = m.hidden_size, hd = static_cast<double>(m.num_attention_heads) * m.head_dim(),
               kv = static_cast<double>(m.num_key_value_heads) * m.head_dim(),
               h = m.num_attention_heads;
  const bool gqa = m.num_key_value_heads != m.num_attention_heads;
  const double norm_f32 = s == 4.0 ? 0.0 : 4.0 * c;
  double b = s * c + norm_f32;  // input, norm 1
  if (adapted(cfg, "q_proj") || adapted(cfg, "k_proj") || adapted(cfg, "v_proj")) b += s * c;
  b += s * hd + s * (gqa ? 2.0 * hd : 2.0 * kv);    // q, k, v
  b += 4.0 * h * t + (s == 4.0 ? 0.0 : s * h * t);  // probabilities
  if (adapted(cfg, "o_proj")) b += s * hd;          // o_proj input
  b += s * c + norm_f32;                            // mid residual, norm 2
  for (const char* p : {"q_proj", "k_proj", "v_proj"}) b += adapter_bytes(cfg, alloc, l, p, c, s);
  b += adapter_bytes(cfg, alloc, l, "o_proj", static_cast<int64_t>(hd), s);
  const bool gate_up = adapted(cfg, "gate_proj") || adapted(cfg, "up_proj");
  auto swiglu = [&](double width, double tokens_share) {
    double x = 3.0 * s * width;
    if (adapted(cfg, "down_proj")) x += s * width;
    x += adapter_bytes(cfg, alloc, l, "gate_proj", static_cast<int64_t>(c), s);
    x += adapter_bytes(cfg, alloc, l, "up_proj", static_cast<int64_t>(c), s);
    x += adapter_bytes(cfg, alloc, l, "down_proj", static_cast<int64_t>(width), s);
    if (gate_up) x += s * c;
    return tokens_share * x;
  };
  if (m.layer_is_moe(l)) {
    b += 8.0 * m.num_experts;  // router logits and probabilities
    b += swiglu(m.expert_intermediate_size(), m.num_experts_per_tok);
    if (m.shared_expert_intermediate_size > 0) b += swiglu(m.shared_expert_intermediate_size, 1);
  } else {
    b += swiglu(m.intermediate_size, 1);
  }
  return b;
}

}  // namespace

int dtype_bytes(const std::string& dtype) {
  if (dtype == "float32") return 4;
  if (dtype == "bfloat16" || dtype == "float16") return 2;
  AP_CHECK_AS(ConfigError, false, "train.dtype: unknown dtype '", dtype,
              "' (known: float32, bfloat16, float16)");
  return 0;
}

int64_t backbone_parameter_count(const ModelConfig& m) {
  const int64_t c = m.hidden_size, hd = static_cast<int64_t>(m.num_attention_heads) * m.head_dim(),
                kv = static_cast<int64_t>(m.num_key_value_heads) * m.head_dim();
  int64_t n = static_cast<int64_t>(m.vocab_size) * c * (m.tie_word_embeddings ? 1 : 2) + c;
  for (int l = 0; l < m.num_hidden_layers; ++l) {
    n += 2 * c;                         // the two RMSNorms
    n += c * hd + 2 * c * kv + hd * c;  // q, k, v, o
    if (m.qkv_bias()) n += hd + 2 * kv;
    if (m.o_bias()) n += c;
    if (m.arch() == Architecture::Olmoe) n += hd + kv;  // q_norm, k_norm
    auto mlp = [&](int64_t width) { return 3 * c * width + (m.mlp_bias ? 2 * width + c : 0); };
    if (m.layer_is_moe(l)) {
      n += c * m.num_experts + m.num_experts * mlp(m.expert_intermediate_size());
      if (m.shared_expert_intermediate_size > 0) n += mlp(m.shared_expert_intermediate_size) + c;
    } else {
      n += mlp(m.intermediate_size);
    }
  }
  return n;
}

MemoryEstimate estimate_training_memory(const ModelConfig& m,
                                        const ExperimentConfig& cfg,
                                        int64_t trainable_parameters) {
  MemoryEstimate e;
  e.cuda = cfg.train.device.rfind("cuda", 0) == 0;
  const int weight_bytes = dtype_bytes(cfg.train.dtype);
  // CUDA autocast keeps float32 weights and computes in bfloat16.
  const double s = (cfg.train.autocast && e.cuda) ? 2.0 : weight_bytes;
  e.backbone_parameters = backbone_parameter_count(m);
  e.trainable_parameters = trainable_parameters;
  e.weights_bytes = e.backbone_parameters * weight_bytes;
  e.trainable_bytes = trainable_parameters * 16;  // float32 parameter, gradient, m, v

  ExpertAllocation alloc;
  if (cfg.adapters) alloc = plan_allocation(cfg, m.shape());
  const double t = cfg.data.max_seq_len;
  const double tokens = static_cast<double>(cfg.train.micro_batch_size) * t;
  double kept = 0.0, largest = 0.0;
  for (int l = 0; l < m.num_hidden_layers; ++l) {
    const double b = layer_bytes(m, cfg, alloc, l, s, t);
    largest = std::max(largest, b);
    kept += cfg.train.gradient_checkpointing ? s * m.hidden_size : b;
  }
  kept += largest;  // backward working set / recomputed layer
  kept += s * m.hidden_size + (s == 4.0 ? 0.0 : 4.0 * m.hidden_size);  // final norm
  e.activation_bytes = static_cast<int64_t>(tokens * kept);
  e.logits_bytes = static_cast<int64_t>(tokens * m.vocab_size * (s == 4.0 ? 12.0 : s + 12.0));
  e.runtime_bytes = e.cuda ? 0 : kCpuRuntimeBytes;
  e.total_bytes =
      e.weights_bytes + e.trainable_bytes + e.activation_bytes + e.logits_bytes + e.runtime_bytes;
  return e;
}

std::string format_bytes(int64_t bytes) {
  char buf[32];
  const double b = static_cast<double>(bytes);
  if (b >= 1024.0 * 1024.0 * 1024.0) {
    std::snprintf(buf, sizeof buf, "%.2f GiB", b / (1024.0 * 1024.0 * 1024.0));
  } else {
    std::snprintf(buf, sizeof buf, "%.0f MiB", b / (1024.0 * 1024.0));
  }
  return buf;
}

std::string describe(const MemoryEstimate& m) {
  std::string s = format_bytes(m.weights_bytes) + " weights + " + format_bytes(m.trainable_bytes) +
                  " trainable (parameters, gradients, AdamW) + " +
                  format_bytes(m.activation_bytes) + " activations + " +
                  format_bytes(m.logits_bytes) + " logits";
  if (m.runtime_bytes > 0) s += " + " + format_bytes(m.runtime_bytes) + " runtime";
  return s + " = " + format_bytes(m.total_bytes) +
         (m.cuda ? " (CUDA allocator peak; the CUDA context comes on top)"
                 : " (peak resident set)");
}

}  // namespace apportion
