// SPDX-License-Identifier: GPL-3.0-or-later
// SwiGLU MLP (see mlp.h). Legend: C hidden, F intermediate.
#include "core/model/mlp.h"

#include <torch/torch.h>

namespace apportion {

MLPImpl::MLPImpl(int64_t hidden,
                 int64_t intermediate,
                 bool bias,
                 const BuildOptions& opts,
                 const MlpNames& names)
    : names_(names) {
  gate_proj = register_module(names.gate, make_projection(hidden, intermediate, bias, opts));
  up_proj = register_module(names.up, make_projection(hidden, intermediate, bias, opts));
  down_proj = register_module(names.down, make_projection(intermediate, hidden, bias, opts));
}

torch::Tensor MLPImpl::forward(const torch::Tensor& x) {
  return down_proj(torch::silu(gate_proj(x)) * up_proj(x));  // [.., F] -> [.., C]
}

}  // namespace apportion
