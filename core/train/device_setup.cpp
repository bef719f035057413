// SPDX-License-Identifier: GPL-3.0-or-later
// Device/dtype parsing, the device list and peak-memory readings. CUDA specifics compile only
// against a LibTorch built with CUDA (AP_WITH_CUDA, set by core/CMakeLists.txt).
#include "core/train/device_setup.h"

#include <sys/resource.h>

#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <thread>

#include "core/common/error.h"

#if AP_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#endif

namespace apportion {
namespace {

std::string available_list() {
  std::string s = "cpu";
  const auto n = torch::cuda::is_available() ? torch::cuda::device_count() : 0;
  for (size_t i = 0; i < n; ++i) s += ", cuda:" + std::to_string(i);
  return s;
}

}  // namespace

bool build_has_cuda() {
#if AP_WITH_CUDA
  return true;
#else
  return false;
#endif
}

c10::Device resolve_device(const std::string& spec, const std::string& path) {
  if (spec == "cpu") return c10::Device(c10::kCPU);
  if (spec.rfind("cuda", 0) != 0) {
    throw ConfigError(path + ": unknown device \"" + spec + "\" (available: " + available_list() +
                      ")");
  }
  if (!torch::cuda::is_available()) {
    throw ConfigError(path + ": \"" + spec + "\" requested but " +
                      (build_has_cuda()
                           ? "no CUDA device is visible"
                           : "this build has no CUDA (Debian's LibTorch is CPU-only)") +
                      "; available: " + available_list() +
                      ". Run `apportion devices`, or build against a CUDA LibTorch (README).");
  }
  int index = 0;
  if (spec.size() > 4) {
    if (spec[4] != ':' || spec.size() == 5 ||
        spec.find_first_not_of("0123456789", 5) != std::string::npos) {
      throw ConfigError(path + ": malformed device \"" + spec + "\" (use cuda or cuda:N)");
    }
    index = std::stoi(spec.substr(5));
  }
  const auto n = static_cast<int>(torch::cuda::device_count());
  if (index >= n) {
    throw ConfigError(path + ": \"" + spec + "\" does not exist (available: " + available_list() +
                      ")");
  }
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

c10::ScalarType resolve_dtype(const std::string& name, const std::string& path) {
  if (name == "float32") return c10::kFloat;
  if (name == "bfloat16") return c10::kBFloat16;
  if (name == "float16") return c10::kHalf;
  throw ConfigError(path + ": unknown dtype \"" + name + "\" (known: float32, bfloat16, float16)");
}

nlohmann::json list_devices() {
  nlohmann::json devices = nlohmann::json::array();
  devices.push_back({{"id", "cpu"},
                     {"kind", "cpu"},
                     {"name", "CPU"},
                     {"threads", torch::get_num_threads()},
                     {"hardware_threads", std::thread::hardware_concurrency()},
                     {"dtypes", {"float32", "bfloat16"}}});
  const auto n = torch::cuda::is_available() ? torch::cuda::device_count() : 0;
  for (size_t i = 0; i < n; ++i) {
    nlohmann::json d = {{"id", "cuda:" + std::to_string(i)},
                        {"kind", "cuda"},
                        {"dtypes", {"float32", "bfloat16", "float16"}}};
#if AP_WITH_CUDA
    const auto* prop = at::cuda::getDeviceProperties(static_cast<int64_t>(i));
    d["name"] = prop->name;
    d["memory_bytes"] = static_cast<int64_t>(prop->totalGlobalMem);
    d["compute_capability"] = std::to_string(prop->major) + "." + std::to_string(prop->minor);
#else
    d["name"] = "CUDA device " + std::to_string(i);
#endif
    devices.push_back(std::move(d));
  }
  return {{"devices", devices},
          {"cuda_build", build_has_cuda()},
          {"torch_version", std::to_string(TORCH_VERSION_MAJOR) + "." +
                                std::to_string(TORCH_VERSION_MINOR) + "." +
                                std::to_string(TORCH_VERSION_PATCH)}};
}

#if AP_WITH_CUDA
namespace {
/// "cuda" without an index means the current device.
c10::DeviceIndex cuda_index(const c10::Device& device) {
  return device.has_index() ? device.index() : c10::cuda::current_device();
}
}  // namespace
#endif

void reset_peak_memory(const c10::Device& device) {
#if AP_WITH_CUDA
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(cuda_index(device));
#endif
  (void)device;
}

int64_t peak_memory_bytes(const c10::Device& device) {
#if AP_WITH_CUDA
  if (device.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(cuda_index(device));
    return stats
        .allocated_bytes[static_cast<size_t>(c10::cuda::CUDACachingAllocator::StatType::AGGREGATE)]
        .peak;
  }
#endif
  (void)device;
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<int64_t>(usage.ru_maxrss) * 1024;  // Linux: kilobytes
}

void check_dtype_on_device(const std::string& dtype, const c10::Device& device) {
  const c10::ScalarType type = resolve_dtype(dtype);
  try {
    const auto a = torch::ones({2, 2}, torch::TensorOptions().dtype(type).device(device));
    (void)torch::mm(a, a);
  } catch (const c10::Error&) {
    throw ConfigError("train.dtype: \"" + dtype + "\" has no matrix products on " + device.str() +
                      " in this LibTorch (" + std::to_string(TORCH_VERSION_MAJOR) + "." +
                      std::to_string(TORCH_VERSION_MINOR) +
                      "); use bfloat16 or float32 there, or a CUDA device");
  }
}

void set_cuda_autocast(bool enabled, c10::ScalarType dtype) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  at::autocast::set_autocast_dtype(at::kCUDA, dtype);
  at::autocast::set_autocast_enabled(at::kCUDA, enabled);
#else
  at::autocast::set_autocast_gpu_dtype(dtype);
  at::autocast::set_enabled(enabled);
#endif
}

}  // namespace apportion
