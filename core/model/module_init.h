// SPDX-License-Identifier: GPL-3.0-or-later
// How backbone modules create their parameters: dtype, device, and whether to initialise them
// randomly (HF's init: N(0, initializer_range) weights, zero biases, unit norms) or leave them
// uninitialised because a checkpoint is about to be copied in (no wasted init on large models).
// Also the projection factories every block uses.
#pragma once

#include <cstdint>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>
#include <torch/nn/modules/linear.h>

#include "core/adapters/adaptable_linear.h"

namespace apportion {

/// Options for constructing a backbone.
struct BuildOptions {
  c10::ScalarType dtype = c10::ScalarType::Float;  ///< parameter dtype
  c10::Device device = c10::Device(c10::kCPU);     ///< parameter device
  bool init_weights = true;  ///< false: uninitialised (a checkpoint is loaded next)
  double init_std = 0.02;    ///< std of the normal init (config initializer_range)
};

/// A new parameter tensor of `sizes` per the options: N(0, std) when `normal`, else `fill`.
torch::Tensor make_weight(at::IntArrayRef sizes, const BuildOptions& o, bool normal, double fill);

/// An adaptable base projection [out, in] (+ bias [out]) with HF's init or none.
AdaptableLinear make_projection(int64_t in, int64_t out, bool bias, const BuildOptions& o);

/// A plain bias-free Linear (routers, the shared-expert gate) with HF's init or none.
torch::nn::Linear make_plain_linear(int64_t in, int64_t out, const BuildOptions& o);

}  // namespace apportion
