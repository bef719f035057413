// SPDX-License-Identifier: GPL-3.0-or-later
// gpu_check logits: the logits of a model folder (+ an adapter folder, PEFT or LoRA-MoE) for
// the id rows of IDS_JSON ([[…], …], equal lengths), as {"logits": [[[…]]]} in float32.
#include <torch/torch.h>

#include <fstream>

#include "core/adapters/adapter_io.h"
#include "core/config/experiment_config.h"
#include "core/model/transformer_lm.h"
#include "core/train/device_setup.h"
#include "tests/gpu/gpu_check.h"

namespace apportion::gpu_check {

nlohmann::json dump_logits(const std::string& model_dir,
                           const std::string& ids_json,
                           const std::string& dtype,
                           const std::string& device_name,
                           const std::string& adapter_dir) {
  const auto rows = load_json_file(ids_json).get<std::vector<std::vector<int64_t>>>();
  const torch::Device device(device_name);
  LoadOptions o;
  o.dtype = resolve_dtype(dtype, "DTYPE");
  o.device = device;
  TransformerLM model = load_pretrained(model_dir, o);
  if (!adapter_dir.empty()) {
    load_adapter(model, adapter_dir);
    model->to(device);
  }
  model->eval();
  torch::NoGradGuard no_grad;
  std::vector<int64_t> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  const auto ids = torch::tensor(flat, torch::kInt64)
                       .view({static_cast<int64_t>(rows.size()), -1})
                       .to(device);                                                // [B, T]
  const auto logits = model->forward(ids).to(torch::kFloat32).cpu().contiguous();  // [B, T, V]
  const int64_t b = logits.size(0), t = logits.size(1), v = logits.size(2);
  const float* p = logits.data_ptr<float>();
  nlohmann::json out = nlohmann::json::array();
  for (int64_t i = 0; i < b; ++i) {
    nlohmann::json row = nlohmann::json::array();
    for (int64_t j = 0; j < t; ++j) {
      row.push_back(std::vector<float>(p + (i * t + j) * v, p + (i * t + j + 1) * v));
    }
    out.push_back(row);
  }
  return {{"logits", out}, {"dtype", dtype}, {"device", device_name}};
}

}  // namespace apportion::gpu_check
