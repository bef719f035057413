// SPDX-License-Identifier: GPL-3.0-or-later
// check_close (llm.c test_gpt2.c style) and the tiny test model config.
#include "tests/core/test_util.h"

#include <torch/torch.h>

#include <cstdio>

namespace apportion::test {

bool check_close(const at::Tensor& a, const at::Tensor& b, double tol, const std::string& label) {
  if (!a.defined() || !b.defined()) {
    std::printf("[check_close] %s: undefined tensor (a %d, b %d)\n", label.c_str(),
                static_cast<int>(a.defined()), static_cast<int>(b.defined()));
    return false;
  }
  if (a.sizes() != b.sizes()) {
    std::printf("[check_close] %s: shape mismatch\n", label.c_str());
    return false;
  }
  auto x = a.detach().to(torch::kCPU, torch::kFloat64).reshape({-1});
  auto y = b.detach().to(torch::kCPU, torch::kFloat64).reshape({-1});
  auto diff = (x - y).abs();
  auto bad = diff > tol * (1.0 + y.abs());
  bad = bad.logical_or(x.isnan() != y.isnan());
  const auto n_bad = bad.sum().item<int64_t>();
  if (n_bad == 0) return true;
  std::printf("[check_close] %s: %lld of %lld elements differ (tol %g), max |diff| %g\n",
              label.c_str(), static_cast<long long>(n_bad), static_cast<long long>(x.numel()), tol,
              diff.nan_to_num(0.0).max().item<double>());
  auto idx = bad.nonzero().reshape({-1});
  for (int64_t i = 0; i < idx.numel() && i < 5; ++i) {
    const auto k = idx[i].item<int64_t>();
    std::printf("  [%lld] %.9g vs %.9g\n", static_cast<long long>(k), x[k].item<double>(),
                y[k].item<double>());
  }
  return false;
}

ModelConfig tiny_llama_config() {
  ModelConfig c;
  c.vocab_size = 64;
  c.hidden_size = 32;
  c.intermediate_size = 64;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.num_key_value_heads = 2;
  c.max_position_embeddings = 64;
  c.rms_norm_eps = 1e-5;
  c.bos_token_id = 1;
  c.eos_token_id = 2;
  c.pad_token_id = 0;
  return c;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no throw>";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace apportion::test
