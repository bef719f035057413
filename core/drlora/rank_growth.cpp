// SPDX-License-Identifier: GPL-3.0-or-later
// Function-preserving LoRA rank growth and optimizer-state slicing (see rank_growth.h).
// LibTorch keys the per-parameter optimizer state by the parameter's TensorImpl: 1.13 as the
// string c10::guts::to_string(impl) (an ostream of the pointer), 2.x as the void* itself; the key
// type is taken from the map, so both compile.
// Legend: Din / Dout LoRA in / out features, R allocated rank, k active rank.
#include "core/drlora/rank_growth.h"

#include <torch/torch.h>

#include <cmath>
#include <sstream>
#include <string>
#include <type_traits>

#include "core/adapters/lora_adapter.h"
#include "core/common/error.h"

namespace apportion {
namespace {

using StateMap = std::decay_t<decltype(std::declval<torch::optim::Optimizer&>().state())>;
using StateKey = typename StateMap::key_type;

template <typename Key>
Key state_key_of(const at::Tensor& param) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream key;  // what c10::guts::to_string(TensorImpl*) writes
    key << static_cast<const void*>(param.unsafeGetTensorImpl());
    return key.str();
  } else {
    return static_cast<Key>(param.unsafeGetTensorImpl());
  }
}

void zero_slice(const at::Tensor& t, int64_t dim, int64_t start, int64_t length) {
  if (t.defined() && t.dim() > dim) t.narrow(dim, start, length).zero_();
}

}  // namespace

bool zero_optimizer_state_slice(torch::optim::Optimizer& optimizer,
                                const at::Tensor& param,
                                int64_t dim,
                                int64_t start,
                                int64_t length) {
  auto& states = optimizer.state();
  auto it = states.find(state_key_of<StateKey>(param));
  if (it == states.end() || !it->second) return false;
  torch::NoGradGuard no_grad;
  auto* state = it->second.get();
  if (auto* adamw = dynamic_cast<torch::optim::AdamWParamState*>(state)) {
    zero_slice(adamw->exp_avg(), dim, start, length);
    zero_slice(adamw->exp_avg_sq(), dim, start, length);
    zero_slice(adamw->max_exp_avg_sq(), dim, start, length);
  } else if (auto* adam = dynamic_cast<torch::optim::AdamParamState*>(state)) {
    zero_slice(adam->exp_avg(), dim, start, length);
    zero_slice(adam->exp_avg_sq(), dim, start, length);
    zero_slice(adam->max_exp_avg_sq(), dim, start, length);
  } else if (auto* sgd = dynamic_cast<torch::optim::SGDParamState*>(state)) {
    zero_slice(sgd->momentum_buffer(), dim, start, length);
  } else {
    throw Error(
        "DR-LoRA rank growth: unsupported optimizer state type (supported: AdamW, Adam, SGD); "
        "use AdamW");
  }
  return true;
}

LoraGrowthReport grow_lora_rank(LoraAdapterImpl& lora,
                                int new_rank,
                                torch::optim::Optimizer* optimizer) {
  const int k = lora.active_rank();
  AP_CHECK(new_rank >= k && new_rank <= lora.rank(), "DR-LoRA rank growth: new active rank ",
           new_rank, " must be in ", k, "..", lora.rank(), " (ranks never shrink)");
  LoraGrowthReport report;
  if (new_rank == k) return report;
  const int64_t n = new_rank - k;
  {
    torch::NoGradGuard no_grad;
    auto b_new = lora.lora_B.narrow(/*dim=*/1, k, n);  // [Dout, n]
    if (b_new.ne(0).any().item<bool>()) {
      report.b_was_nonzero = true;
      b_new.zero_();
    }
    // As at construction: Kaiming-uniform, a = √5, fan_in = Din (bound 1/√Din).
    auto a_new = lora.lora_A.narrow(/*dim=*/0, k, n);  // [n, Din]
    torch::nn::init::kaiming_uniform_(a_new, /*a=*/std::sqrt(5.0));
  }
  if (optimizer != nullptr) {
    report.state_found += zero_optimizer_state_slice(*optimizer, lora.lora_A, /*dim=*/0, k, n);
    report.state_found += zero_optimizer_state_slice(*optimizer, lora.lora_B, /*dim=*/1, k, n);
  }
  lora.set_active_rank(new_rank);
  return report;
}

}  // namespace apportion
