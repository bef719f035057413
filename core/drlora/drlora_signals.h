// SPDX-License-Identifier: GPL-3.0-or-later
// The per-step signals of DR-LoRA (METHODS.md §4.4, our design) as plain functions: the mean
// routing weight of each expert over a batch, the AdaLoRA-style sensitivity of each active LoRA
// component, the within-layer normalisation, and the saliency combination.
// Legend: N tokens, E experts, R allocated rank, k active rank, Din / Dout LoRA in / out.
#pragma once

#include <ATen/Tensor.h>

#include <vector>

#include "core/methods/drlora/drlora_options.h"

namespace apportion {

/// w [E] float32: each expert's routing weight averaged over the tokens, 0 for a token whose
/// top-k does not contain the expert. Weights as the backbone applies them: softmax over the
/// float32 logits, top-k, renormalised over the k when `norm_topk_prob`. `router_logits` [N, E];
/// `token_mask` [N] (1 = counted, 0 = padding) or undefined (every token counts). No autograd.
at::Tensor mean_routing_weights(const at::Tensor& router_logits,
                                int top_k,
                                bool norm_topk_prob,
                                const at::Tensor& token_mask = {});

/// I [k] float32 for the first k components of one LoRA (A [R, Din], B [Dout, R]):
/// I_j = Σ_d |A_jd · ∂L/∂A_jd| + Σ_o |B_oj · ∂L/∂B_oj|. An undefined gradient counts as zero.
at::Tensor lora_component_importance(const at::Tensor& lora_a,
                                     const at::Tensor& grad_a,
                                     const at::Tensor& lora_b,
                                     const at::Tensor& grad_b,
                                     int64_t k);

/// x_i / mean(x) over one layer's experts; all ones when the mean is not positive (nothing
/// observed yet), so an unobserved signal is neutral.
std::vector<double> normalise_by_layer_mean(const std::vector<double>& x);

/// Saliency of one expert from its normalised frequency f̂ and importance ĝ.
double combine_saliency(double f_hat, double g_hat, SaliencyMode mode, double gamma);

}  // namespace apportion
