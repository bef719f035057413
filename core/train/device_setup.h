// SPDX-License-Identifier: GPL-3.0-or-later
// Devices and precision of a run: parsing `train.device` / `train.dtype` into torch values with
// errors that list what this build offers, the device list `apportion devices` prints (and the
// GUI's New-run dialog offers), and peak-memory readings for the run record.
#pragma once

#include <cstdint>
#include <string>

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>
#include <nlohmann/json.hpp>

namespace apportion {

/// "cpu", "cuda" or "cuda:N" → a device this build and machine can use. ConfigError naming
/// `path` (e.g. train.device) and listing the available devices otherwise.
c10::Device resolve_device(const std::string& spec, const std::string& path = "train.device");

/// "float32" / "bfloat16" / "float16" → scalar type; ConfigError naming `path` otherwise.
c10::ScalarType resolve_dtype(const std::string& name, const std::string& path = "train.dtype");

/// What this build can train on: [{"id": "cpu", "kind": "cpu", "name", "threads",
/// "dtypes": [...]}, {"id": "cuda:0", "kind": "cuda", "name", "memory_bytes", "dtypes"}, …]
/// plus the LibTorch version and whether the build has CUDA.
nlohmann::json list_devices();

/// Peak memory of the run so far on `device`: the CUDA caching allocator's peak allocated bytes
/// for CUDA devices (CUDA builds), the process's peak resident set size for the CPU.
int64_t peak_memory_bytes(const c10::Device& device);

/// Starts a new peak for peak_memory_bytes on a CUDA device (the resident peak of a CPU process
/// cannot be reset: a no-op there).
void reset_peak_memory(const c10::Device& device);

/// ConfigError naming train.dtype when this LibTorch cannot multiply matrices of `dtype` on
/// `device` (Debian's CPU LibTorch 1.13 has no float16 GEMM: the run would fail at its first
/// step with a bare torch error); checked with one 2 × 2 product.
void check_dtype_on_device(const std::string& dtype, const c10::Device& device);

/// True when this binary was built against a LibTorch with CUDA.
bool build_has_cuda();

/// Turns CUDA autocast on (computing in `dtype`) or off, with the API of the LibTorch it is
/// built against (per-device calls from 2.4 on, the older CUDA-only ones before).
void set_cuda_autocast(bool enabled, c10::ScalarType dtype);

}  // namespace apportion
