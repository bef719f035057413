// SPDX-License-Identifier: GPL-3.0-or-later
// Function-preserving rank growth of one LoRA (METHODS.md §4.4, our design): raising the active
// rank k → k' of a LoraAdapterImpl leaves its output unchanged because the new B columns are
// zero; the new A rows are re-initialised Kaiming-uniform (a = √5, as a fresh LoRA), and the
// optimizer's per-parameter state of the new slices (Adam/AdamW exp_avg, exp_avg_sq,
// max_exp_avg_sq; SGD momentum) is zeroed, so the new components start like new parameters.
//
// Intended usage:
//   grow_lora_rank(lora, lora.active_rank() + 2, &optimizer);  // after optimizer.step()
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>

namespace torch::optim {
class Optimizer;
}  // namespace torch::optim

namespace apportion {

class LoraAdapterImpl;

/// What grow_lora_rank found and did.
struct LoraGrowthReport {
  bool b_was_nonzero = false;  ///< the new B columns held non-zero values (zeroed now)
  int state_found = 0;         ///< parameters (of A, B) whose optimizer state was zeroed
};

/// Raises lora's active rank to `new_rank` (≥ the current one, ≤ its allocated R). The new
/// B columns [k, k') are set to zero (checked first), the new A rows re-initialised
/// Kaiming-uniform (a = √5) from the global generator, and the optimizer state slices zeroed
/// when `optimizer` is given. No autograd.
LoraGrowthReport grow_lora_rank(LoraAdapterImpl& lora,
                                int new_rank,
                                torch::optim::Optimizer* optimizer);

/// Zeroes `param`'s optimizer state in the slice [start, start + length) of dimension `dim`:
/// Adam/AdamW exp_avg, exp_avg_sq and (amsgrad) max_exp_avg_sq, or SGD's momentum buffer.
/// Returns false when the optimizer has no state for `param` yet (LibTorch creates it, zeroed,
/// at the parameter's first step). Throws apportion::Error for other optimizer state types.
bool zero_optimizer_state_slice(torch::optim::Optimizer& optimizer,
                                const at::Tensor& param,
                                int64_t dim,
                                int64_t start,
                                int64_t length);

}  // namespace apportion
