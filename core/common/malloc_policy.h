// SPDX-License-Identifier: GPL-3.0-or-later
// The training process's malloc policy. LibTorch on the CPU allocates and frees large temporary
// tensors (attention scores, logits, GEMM outputs) at every forward and backward; glibc serves
// each one above its mmap threshold with a fresh mapping and unmaps it on free, so the next step
// pays a page fault for every 4 KiB again. On long sequences that costs more than the arithmetic
// (docs/PERFORMANCE.md: a ScienceQA run at 512 tokens spent a third of its samples in the
// kernel's page-fault handler and a tenth zeroing fresh pages, and ran 8× faster without it). The
// "keep" policy serves every allocation from the heap and never trims it, so freed memory is reused
// without faults; the price is a resident set that stays at its peak (and a higher peak: freed
// blocks are reused, not returned).
//
// Intended usage (first thing in `apportion`'s main; the trainer tags runs with the result):
//   apply_malloc_policy();              // "keep", "system" (APPORTION_MALLOC=system), or
//   tag("perf/malloc", malloc_policy());  //   "environment" (the user set glibc's own knobs)
#pragma once

#include <string>

namespace apportion {

/// Applies the policy once per process (glibc only; elsewhere it records "system"). Leaves
/// glibc's defaults when APPORTION_MALLOC=system, and the user's settings when MALLOC_MMAP_MAX_,
/// MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_, MALLOC_TOP_PAD_ or a glibc.malloc tunable in
/// GLIBC_TUNABLES is set. Returns malloc_policy().
std::string apply_malloc_policy();

/// What apply_malloc_policy() chose: "keep", "system" (also before it ran) or "environment".
std::string malloc_policy();

}  // namespace apportion
