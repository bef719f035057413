// SPDX-License-Identifier: GPL-3.0-or-later
// checkpointed(): a custom autograd Node that recomputes its block in the backward pass.
#include "core/model/grad_checkpoint.h"

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/torch.h>

#if AP_WITH_CUDA
#include <ATen/cuda/CUDAGeneratorImpl.h>
#endif

namespace apportion {
namespace {

/// The generators' states now (dropout masks of the block are drawn from them): the CPU one and,
/// in CUDA builds with a device, the current CUDA device's.
struct RngState {
  at::Tensor cpu, cuda;
};
RngState rng_state() {
  RngState s;
  s.cpu = at::detail::getDefaultCPUGenerator().get_state();
#if AP_WITH_CUDA
  if (torch::cuda::is_available()) s.cuda = at::cuda::detail::getDefaultCUDAGenerator().get_state();
#endif
  return s;
}
void set_rng_state(const RngState& s) {
  at::Generator cpu = at::detail::getDefaultCPUGenerator();  // a handle to the global generator
  cpu.set_state(s.cpu);
#if AP_WITH_CUDA
  if (s.cuda.defined()) {
    at::Generator cuda = at::cuda::detail::getDefaultCUDAGenerator();
    cuda.set_state(s.cuda);
  }
#endif
}

class RecomputeNode : public torch::autograd::Node {
 public:
  RecomputeNode(BlockFn fn, at::Tensor x, std::vector<at::Tensor> params, RngState rng)
      : fn_(std::move(fn)), x_(std::move(x)), params_(std::move(params)), rng_(std::move(rng)) {}

  torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
    at::Tensor x = x_.detach().requires_grad_(x_.requires_grad());
    at::Tensor y;
    {
      // Same random numbers as the first forward, without disturbing the caller's stream.
      const RngState current = rng_state();
      set_rng_state(rng_);
      torch::AutoGradMode enable(true);
      y = fn_(x);
      set_rng_state(current);
    }
    std::vector<at::Tensor> inputs;
    std::vector<size_t> slot;  // edge index of each input
    if (x.requires_grad()) {
      inputs.push_back(x);
      slot.push_back(0);
    }
    for (size_t i = 0; i < params_.size(); ++i) {
      if (params_[i].requires_grad()) {
        inputs.push_back(params_[i]);
        slot.push_back(i + 1);
      }
    }
    torch::autograd::variable_list out(1 + params_.size());
    if (inputs.empty() || !grads[0].defined()) return out;
    const auto g = torch::autograd::grad({y}, inputs, {grads[0]}, /*retain_graph=*/false,
                                         /*create_graph=*/false, /*allow_unused=*/true);
    for (size_t i = 0; i < g.size(); ++i) out[slot[i]] = g[i];
    x_.reset();  // the backward runs once; free the saved input
    return out;
  }

 private:
  BlockFn fn_;
  at::Tensor x_;
  std::vector<at::Tensor> params_;
  RngState rng_;
};

}  // namespace

at::Tensor checkpointed(BlockFn fn, const at::Tensor& x, const std::vector<at::Tensor>& params) {
  bool needs_grad = torch::GradMode::is_enabled() && x.requires_grad();
  for (const auto& p : params) needs_grad = needs_grad || p.requires_grad();
  if (!torch::GradMode::is_enabled() || !needs_grad) return fn(x);
  const RngState rng = rng_state();
  at::Tensor y;
  {
    torch::NoGradGuard no_grad;
    y = fn(x);
  }
  auto node = std::shared_ptr<RecomputeNode>(new RecomputeNode(fn, x, params, rng),
                                             torch::autograd::deleteNode);
  node->set_next_edges(torch::autograd::collect_next_edges(x, params));
  torch::autograd::set_history(y, node);
  return y;
}

}  // namespace apportion
