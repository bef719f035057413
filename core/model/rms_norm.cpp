// SPDX-License-Identifier: GPL-3.0-or-later
// RMSNorm: weight · (x / sqrt(mean(x²) + eps)), the normalisation computed in float32.
// Legend: C normalised width.
#include "core/model/rms_norm.h"

#include <torch/torch.h>

namespace apportion {

RMSNormImpl::RMSNormImpl(int dim, double eps, const BuildOptions& opts) : eps_(eps) {
  weight = register_parameter("weight", make_weight({dim}, opts, /*normal=*/false, 1.0));  // [C]
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) {
  auto h = x.to(torch::kFloat32);
  auto var = h.pow(2).mean(/*dim=*/-1, /*keepdim=*/true);  // [.., 1]
  h = h * torch::rsqrt(var + eps_);
  return weight * h.to(x.scalar_type());
}

}  // namespace apportion
