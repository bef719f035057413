// SPDX-License-Identifier: GPL-3.0-or-later
// Helpers shared by the torch-linked core tests: an llm.c-style check_close that prints the first
// mismatching elements, error_of/contains for error-message checks, and a tiny LLaMA config
// (2 layers, d = 32, vocab = 64).
#pragma once

#include <ATen/Tensor.h>

#include <functional>
#include <string>

#include "core/backbone/model_config.h"

namespace apportion::test {

/// True when |a - b| <= tol · (1 + |b|) elementwise and the shapes match. Prints the shapes on a
/// mismatch of shapes, else the first few mismatches and the max abs difference, with `label`.
bool check_close(const at::Tensor& a, const at::Tensor& b, double tol, const std::string& label);

/// The what() of the std::exception `f` throws, or "<no throw>".
std::string error_of(const std::function<void()>& f);

/// True when `part` occurs in `s`.
bool contains(const std::string& s, const std::string& part);

/// A 2-layer, d = 32, vocab = 64 LLaMA with GQA (4 heads, 2 kv heads).
ModelConfig tiny_llama_config();

}  // namespace apportion::test
