// SPDX-License-Identifier: GPL-3.0-or-later
// Parameter creation for the backbone modules (see module_init.h). Modules whose constructors
// allocate and initialise float32 weights themselves (AdaptableLinear, nn::Linear) are built at
// 1×1 and given their real storage with set_data, so a 7B checkpoint does not pay for a random
// float32 init it throws away.
#include "core/model/module_init.h"

#include <torch/torch.h>

namespace apportion {

torch::Tensor make_weight(at::IntArrayRef sizes, const BuildOptions& o, bool normal, double fill) {
  auto opts = torch::TensorOptions().dtype(o.dtype).device(o.device);
  if (!o.init_weights) return torch::empty(sizes, opts);
  if (normal) {
    // Sampled in float32 on the CPU then converted, so a seed gives the same weights anywhere.
    auto w = torch::empty(sizes, torch::kFloat32).normal_(/*mean=*/0.0, /*std=*/o.init_std);
    return w.to(opts);
  }
  return torch::full(sizes, fill, opts);
}

AdaptableLinear make_projection(int64_t in, int64_t out, bool bias, const BuildOptions& o) {
  AdaptableLinear p(o.init_weights ? in : 1, o.init_weights ? out : 1, bias);
  torch::NoGradGuard no_grad;
  p->weight.set_data(make_weight({out, in}, o, /*normal=*/true, 0.0));       // [Dout, Din]
  if (bias) p->bias.set_data(make_weight({out}, o, /*normal=*/false, 0.0));  // [Dout]
  return p;
}

torch::nn::Linear make_plain_linear(int64_t in, int64_t out, const BuildOptions& o) {
  const int64_t i = o.init_weights ? in : 1, n = o.init_weights ? out : 1;
  torch::nn::Linear lin(torch::nn::LinearOptions(i, n).bias(false));
  torch::NoGradGuard no_grad;
  lin->weight.set_data(make_weight({out, in}, o, /*normal=*/true, 0.0));  // [out, in]
  return lin;
}

}  // namespace apportion
