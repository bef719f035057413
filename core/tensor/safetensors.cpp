// SPDX-License-Identifier: GPL-3.0-or-later
// SafetensorsReader (memory-mapped, tensors via from_blob over the mapping) and the writer.
// The header is validated before the file is mapped; the mapping's size is checked again against
// the data ranges, so a file truncated in between cannot make a view read past the mapping.
#include "core/tensor/safetensors.h"

#include <torch/torch.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <system_error>
#include <vector>

#include "core/common/durable_file.h"
#include "core/common/error.h"
#include "core/tensor/mapped_file.h"

namespace apportion {
namespace {

torch::ScalarType scalar_type_of(const std::string& dtype) {
  if (dtype == "F32") return torch::kFloat32;
  if (dtype == "F16") return torch::kFloat16;
  if (dtype == "BF16") return torch::kBFloat16;
  if (dtype == "I64") return torch::kInt64;
  if (dtype == "I32") return torch::kInt32;
  throw CheckpointError("internal: unsupported safetensors dtype " + dtype);
}

const char* dtype_name_of(torch::ScalarType type) {
  switch (type) {
    case torch::kFloat32:
      return "F32";
    case torch::kFloat16:
      return "F16";
    case torch::kBFloat16:
      return "BF16";
    case torch::kInt64:
      return "I64";
    case torch::kInt32:
      return "I32";
    default:
      return nullptr;
  }
}

}  // namespace

SafetensorsReader::SafetensorsReader(const std::string& path)
    : header_(read_safetensors_header(path)), map_(std::make_unique<MappedFile>(path)) {
  uint64_t needed = header_.data_start;
  for (const auto& e : header_.entries) needed = std::max(needed, header_.data_start + e.end);
  if (map_->size() < needed) {
    throw CheckpointError("safetensors file '" + path + "': the file shrank to " +
                          std::to_string(map_->size()) + " bytes while it was being read (" +
                          std::to_string(needed) + " needed); the file may be truncated");
  }
}

SafetensorsReader::~SafetensorsReader() = default;

at::Tensor SafetensorsReader::view(const SafetensorsEntry& e) const {
  const auto type = scalar_type_of(e.dtype);
  const unsigned char* bytes = map_->data() + header_.data_start + e.begin;
  const auto opts = torch::TensorOptions().dtype(type).device(torch::kCPU);
  const uint64_t n = e.end - e.begin;
  if (n == 0) return torch::empty(e.shape, opts);
  if (reinterpret_cast<uintptr_t>(bytes) % static_cast<uintptr_t>(e.itemsize) != 0) {
    auto t = torch::empty(e.shape, opts);  // unaligned data: one aligned copy
    std::memcpy(t.data_ptr(), bytes, n);
    return t;
  }
  // from_blob wants a mutable pointer; the mapping is PROT_READ and views are only read from.
  return torch::from_blob(const_cast<unsigned char*>(bytes), e.shape, opts);
}

at::Tensor SafetensorsReader::view(const std::string& name) const {
  const SafetensorsEntry* e = header_.find(name);
  AP_CHECK_AS(CheckpointError, e != nullptr, "safetensors file '", header_.path,
              "' has no tensor '", name, "'");
  return view(*e);
}

SafetensorsFile load_safetensors(const std::string& path) {
  SafetensorsReader reader(path);
  SafetensorsFile out;
  out.metadata = reader.header().metadata;
  for (const auto& e : reader.header().entries) out.tensors.emplace(e.name, reader.view(e).clone());
  return out;
}

void save_safetensors(const std::string& path,
                      const std::map<std::string, at::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> data;  // contiguous CPU copies, in name order (std::map is sorted)
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    AP_CHECK_AS(CheckpointError, name != "__metadata__", "safetensors file '", path,
                "': '__metadata__' is reserved as a tensor name");
    AP_CHECK_AS(CheckpointError, tensor.defined(), "safetensors file '", path, "', tensor '", name,
                "': tensor is undefined");
    const char* dt = dtype_name_of(tensor.scalar_type());
    AP_CHECK_AS(CheckpointError, dt != nullptr, "safetensors file '", path, "', tensor '", name,
                "': unsupported dtype ", tensor.scalar_type(),
                "; convert to float32, float16, bfloat16, int64 or int32 before saving");
    auto t = tensor.detach().to(torch::kCPU).contiguous();
    const uint64_t n = static_cast<uint64_t>(t.numel()) * static_cast<uint64_t>(t.element_size());
    header[name] = {
        {"dtype", dt}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + n}}};
    offset += n;
    data.push_back(t);
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  const uint64_t header_len = text.size();

  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    AP_CHECK_AS(CheckpointError, static_cast<bool>(out), "cannot write '", tmp,
                "'; check that the folder exists and is writable");
    out.write(reinterpret_cast<const char*>(&header_len), 8);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    for (const auto& t : data) {
      const auto n = static_cast<std::streamsize>(t.numel() * t.element_size());
      if (n > 0) out.write(static_cast<const char*>(t.data_ptr()), n);
    }
    out.flush();
    AP_CHECK_AS(CheckpointError, static_cast<bool>(out), "writing '", tmp,
                "' failed; check free disk space");
  }
  try {
    publish_file(tmp, path);  // fsync, rename, fsync the folder
  } catch (const std::system_error& e) {
    throw CheckpointError(std::string(e.what()) + "; check free disk space and permissions");
  }
}

}  // namespace apportion
