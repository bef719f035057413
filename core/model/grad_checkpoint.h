// SPDX-License-Identifier: GPL-3.0-or-later
// Gradient checkpointing (activation recomputation) for one block of the network: the forward
// runs without keeping intermediate activations; the backward re-runs the block with the same
// random state (dropout masks) and back-propagates through the recomputed graph. LibTorch's C++
// API has no torch.utils.checkpoint, so this is a small autograd node of our own.
//
// Intended usage (per decoder layer, training only):
//   h = checkpointed([&](const torch::Tensor& x) { return layer->forward(x, cos, sin, mask); },
//                    h, trainable_parameters_of(layer));
//
// Limits: tensors the block stores as side effects during the forward (e.g. router logits for
// a balance loss) are recomputed in the backward, so a loss built from them gets no gradient
// through the block; the caller must compute such losses inside `fn`'s output or accept that.
#pragma once

#include <functional>
#include <vector>

#include <ATen/Tensor.h>

namespace apportion {

using BlockFn = std::function<at::Tensor(const at::Tensor&)>;

/// y = fn(x), with gradients for x (if it requires grad) and `params` computed by recomputation.
at::Tensor checkpointed(BlockFn fn, const at::Tensor& x, const std::vector<at::Tensor>& params);

}  // namespace apportion
