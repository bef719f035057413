// SPDX-License-Identifier: GPL-3.0-or-later
// Deep and keys-only snapshots of an optimizer's per-parameter state. The state map's key type
// differs between LibTorch versions, so it is taken from the map itself.
#include "core/guilomo/optimizer_state.h"

#include <torch/torch.h>

#include <set>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/common/error.h"

namespace apportion {
namespace {

using StateMap = std::decay_t<decltype(std::declval<torch::optim::Optimizer&>().state())>;
using StateKey = typename StateMap::key_type;

torch::Tensor clone_or_undefined(const torch::Tensor& t) {
  return t.defined() ? t.detach().clone() : torch::Tensor();
}

/// A copy of one parameter's state with every tensor cloned.
std::unique_ptr<torch::optim::OptimizerParamState> deep_copy(
    const torch::optim::OptimizerParamState& state) {
  if (const auto* s = dynamic_cast<const torch::optim::AdamWParamState*>(&state)) {
    auto c = std::make_unique<torch::optim::AdamWParamState>(*s);
    c->exp_avg(clone_or_undefined(s->exp_avg()));
    c->exp_avg_sq(clone_or_undefined(s->exp_avg_sq()));
    c->max_exp_avg_sq(clone_or_undefined(s->max_exp_avg_sq()));
    return c;
  }
  if (const auto* s = dynamic_cast<const torch::optim::AdamParamState*>(&state)) {
    auto c = std::make_unique<torch::optim::AdamParamState>(*s);
    c->exp_avg(clone_or_undefined(s->exp_avg()));
    c->exp_avg_sq(clone_or_undefined(s->exp_avg_sq()));
    c->max_exp_avg_sq(clone_or_undefined(s->max_exp_avg_sq()));
    return c;
  }
  if (const auto* s = dynamic_cast<const torch::optim::SGDParamState*>(&state)) {
    auto c = std::make_unique<torch::optim::SGDParamState>(*s);
    c->momentum_buffer(clone_or_undefined(s->momentum_buffer()));
    return c;
  }
  throw Error(
      "optimizer state snapshot: unsupported optimizer state type (deep copies support Adam, "
      "AdamW and SGD); use AdamW for the GuiLoMo search");
}

}  // namespace

struct OptimizerStateSnapshot::Impl {
  Depth depth = Depth::Deep;
  std::vector<std::pair<StateKey, std::unique_ptr<torch::optim::OptimizerParamState>>> saved;
  std::set<StateKey> keys;
};

OptimizerStateSnapshot::OptimizerStateSnapshot(const torch::optim::Optimizer& optimizer,
                                               Depth depth)
    : impl_(std::make_unique<Impl>()) {
  impl_->depth = depth;
  for (const auto& [key, state] : optimizer.state()) {
    impl_->keys.insert(key);
    if (depth == Depth::Deep) impl_->saved.emplace_back(key, deep_copy(*state));
  }
}

OptimizerStateSnapshot::~OptimizerStateSnapshot() = default;

void OptimizerStateSnapshot::restore(torch::optim::Optimizer& optimizer) const {
  AP_CHECK(impl_->depth == Depth::Deep, "OptimizerStateSnapshot::restore needs a deep snapshot");
  auto& state = optimizer.state();
  state.clear();
  for (const auto& [key, saved] : impl_->saved) state[key] = deep_copy(*saved);
}

void OptimizerStateSnapshot::restore_like_shallow_state_dict(
    torch::optim::Optimizer& optimizer) const {
  auto& state = optimizer.state();
  std::vector<StateKey> created;
  for (const auto& item : state) {
    if (impl_->keys.count(item.first) == 0) created.push_back(item.first);
  }
  for (const auto& key : created) state.erase(key);
}

}  // namespace apportion
