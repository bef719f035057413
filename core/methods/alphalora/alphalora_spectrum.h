// SPDX-License-Identifier: GPL-3.0-or-later
// AlphaLoRA's arithmetic (Qing et al., "AlphaLoRA: Assigning LoRA Experts Based on Layer
// Training Quality", EMNLP 2024; public code peijunallin/alphalora, expert_number.py), torch-free
// so it is tested by hand: the heavy-tail exponent α of a weight's empirical spectral density
// (the Hill estimator with the power-law xmin picked by the Kolmogorov-Smirnov distance, as the
// reference's fix_finger), and the integer expert counts ∝ α^β with a fixed total (the
// reference's exponential_scaling). A layer with a larger mean α is less well trained (its
// spectrum has a lighter tail) and gets more experts.
//
// Intended usage:
//   std::vector<double> eigs = …;            // squared singular values of one weight matrix
//   double a = hill_alpha(eigs, {});         // α of that matrix
//   std::vector<int> n = experts_from_alphas(layer_alphas, 160, 2.5);   // Σ n = 160
#pragma once

#include <vector>

namespace apportion {

/// How hill_alpha picks the candidate xmin values (the reference's defaults).
struct HillOptions {
  /// Restrict xmin to the window around the histogram's mode: the reference bins log10(λ) in
  /// `bins` bins, takes the left edge of the fullest bin as x2, and tries xmin ∈
  /// [log10(0.95·x2), 1.5·x2] — the lower bound is the reference's as written (a log10 compared
  /// with an eigenvalue), reproduced so the same α comes out.
  bool pl_fitting = true;
  int bins = 100;
  /// Drop eigenvalues ≤ `zero_threshold` first (reference: off).
  bool filter_zeros = false;
  double zero_threshold = 1e-4;
};

/// α of the spectrum `eigenvalues` (any order; λ ≥ 0, at least 2). For each candidate xmin =
/// λ_i (ascending, the last excluded): n = N − i, α_i = 1 + n / (Σ_{j≥i} ln λ_j − n ln λ_i), and
/// when α_i > 1 the KS distance D_i = max_j |1 − (λ_j/λ_i)^(1−α_i) − j'/n| over j ≥ i (j' = j − i);
/// the α of the smallest D wins (the first on ties; D = 1 where none was computed, α = 0 there).
double hill_alpha(const std::vector<double>& eigenvalues, const HillOptions& options);

/// Integer counts ∝ values^exponent summing to `target_sum`: round-half-even of the shares,
/// then, while the sum is off, +1 at argmin(v^β − n) or −1 at argmax(v^β − n) (the reference's
/// unnormalised correction, reproduced). Values must be > 0.
std::vector<int> experts_from_alphas(const std::vector<double>& values,
                                     int target_sum,
                                     double exponent);

}  // namespace apportion
