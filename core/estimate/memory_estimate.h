// SPDX-License-Identifier: GPL-3.0-or-later
// Peak-memory estimate of a fine-tuning run before launch (torch-free, so the New-run dialog,
// `apportion train --dry-run` and the GPU check share it): frozen base weights, the trainable
// parameters with their gradients and AdamW moments, the activations autograd keeps for the
// backward (per token and layer, from what this codebase's layers save: eager attention,
// RMSNorm in float32, SwiGLU, LoRA dropout copies), the logits of the loss, and on the CPU the
// process's runtime (LibTorch's code and heap). docs/PERFORMANCE.md compares it with measured
// peaks (CPU resident set, CUDA allocator peak) and records the error.
//
// Intended usage:
//   ModelConfig model = ModelConfig::from_json(config_json, "config.json");
//   MemoryEstimate m = estimate_training_memory(model, experiment, trainable_params);
//   std::cout << m.total_bytes << ' ' << describe(m);
#pragma once

#include <cstdint>
#include <string>

#include "core/backbone/model_config.h"
#include "core/config/experiment_config.h"

namespace apportion {

struct MemoryEstimate {
  int64_t weights_bytes = 0;     ///< backbone parameters in train.dtype
  int64_t trainable_bytes = 0;   ///< trainable parameters in float32 + gradients + AdamW m, v
  int64_t activation_bytes = 0;  ///< what the forward keeps for the backward (all layers)
  int64_t logits_bytes = 0;      ///< logits, their float32 copy, log-softmax and its gradient
  int64_t runtime_bytes = 0;     ///< CPU: the process without any model (0 on CUDA)
  int64_t total_bytes = 0;       ///< the sum: the predicted peak
  int64_t backbone_parameters = 0;
  int64_t trainable_parameters = 0;
  bool cuda = false;  ///< train.device is CUDA (peak = allocator peak, no context)
};

/// Parameters of the backbone a ModelConfig builds (embedding, attention with its biases and
/// q/k norms, dense MLPs or routed experts + router + shared expert, norms, untied LM head).
int64_t backbone_parameter_count(const ModelConfig& model);

/// Bytes per element of "float32", "bfloat16" or "float16"; ConfigError for anything else.
int dtype_bytes(const std::string& dtype);

/// The estimate for one micro-batch of `cfg.train.micro_batch_size` sequences of
/// `cfg.data.max_seq_len` tokens on `cfg.train.device`, with `trainable_parameters` adapter
/// parameters (count_trainable_parameters of the planned allocation).
MemoryEstimate estimate_training_memory(const ModelConfig& model,
                                        const ExperimentConfig& cfg,
                                        int64_t trainable_parameters);

/// One line: "12.6 GiB weights + 0.3 GiB trainable + 4.1 GiB activations + … = 17.2 GiB".
std::string describe(const MemoryEstimate& m);

/// Bytes in binary units, like perf/peak_memory_mb: "1.23 GiB", "456 MiB".
std::string format_bytes(int64_t bytes);

}  // namespace apportion
