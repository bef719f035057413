// SPDX-License-Identifier: GPL-3.0-or-later
// Our own safetensors reader/writer. Layout: u64 little-endian header length n, n bytes of JSON
// header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}}, then
// the data section; offsets are relative to the start of the data section. The reader checks
// every field before touching the data, so a truncated or hand-edited file gives a
// CheckpointError naming the file and tensor, never a crash or a silent garbage tensor.
#include "core/tensor/safetensors.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/common/error.h"

namespace apportion {
namespace {

/// Largest header we accept (HF's reference reader uses the same 100 MB limit).
constexpr uint64_t kMaxHeaderBytes = 100ull * 1000 * 1000;
/// Hint appended to errors about sizes and offsets.
constexpr const char* kTruncatedHint = "the file may be truncated; re-download or re-export it";

struct DtypeInfo {
  const char* name;
  torch::ScalarType type;
  int64_t itemsize;
};

const std::vector<DtypeInfo>& dtype_table() {
  static const std::vector<DtypeInfo> table = {
      {"F32", torch::kFloat32, 4}, {"F16", torch::kFloat16, 2}, {"BF16", torch::kBFloat16, 2},
      {"I64", torch::kInt64, 8},   {"I32", torch::kInt32, 4},
  };
  return table;
}

const DtypeInfo* find_dtype(const std::string& name) {
  for (const auto& d : dtype_table()) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

const DtypeInfo* find_dtype(torch::ScalarType type) {
  for (const auto& d : dtype_table()) {
    if (type == d.type) return &d;
  }
  return nullptr;
}

bool host_is_little_endian() {
  const uint16_t probe = 1;
  unsigned char first = 0;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

[[noreturn]] void fail(const std::string& path,
                       const std::string& tensor,
                       const std::string& what,
                       const std::string& hint = kTruncatedHint) {
  std::string msg = "safetensors file '" + path + "'";
  if (!tensor.empty()) msg += ", tensor '" + tensor + "'";
  msg += ": " + what;
  if (!hint.empty()) msg += "; " + hint;
  throw CheckpointError(msg);
}

/// One validated header entry.
struct Entry {
  std::string name;
  const DtypeInfo* dtype = nullptr;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

Entry parse_entry(const std::string& path,
                  const std::string& name,
                  const nlohmann::json& j,
                  uint64_t data_size) {
  Entry e;
  e.name = name;
  if (!j.is_object()) fail(path, name, "header entry is not a JSON object");
  auto dt = j.find("dtype");
  if (dt == j.end() || !dt->is_string()) fail(path, name, "missing or non-string 'dtype'");
  e.dtype = find_dtype(dt->get<std::string>());
  if (e.dtype == nullptr) {
    fail(path, name, "unsupported dtype '" + dt->get<std::string>() + "'",
         "supported: F32, F16, BF16, I64, I32; convert the checkpoint to one of them");
  }
  auto sh = j.find("shape");
  if (sh == j.end() || !sh->is_array()) fail(path, name, "missing or non-array 'shape'");
  // numel · itemsize, checked for overflow.
  uint64_t bytes = static_cast<uint64_t>(e.dtype->itemsize);
  bool overflow = false;
  for (const auto& d : *sh) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0) {
      fail(path, name, "shape entries must be non-negative integers, got " + sh->dump());
    }
    const auto v = d.get<uint64_t>();
    if (v != 0 && bytes > std::numeric_limits<uint64_t>::max() / v) overflow = true;
    bytes = overflow ? 0 : bytes * v;
    e.shape.push_back(static_cast<int64_t>(v));
  }
  if (overflow) fail(path, name, "shape " + sh->dump() + " is too large");
  auto off = j.find("data_offsets");
  if (off == j.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_integer() ||
      !(*off)[1].is_number_integer() || (*off)[0].get<int64_t>() < 0 ||
      (*off)[1].get<int64_t>() < 0) {
    fail(path, name, "'data_offsets' must be [begin, end] with non-negative integers");
  }
  e.begin = (*off)[0].get<uint64_t>();
  e.end = (*off)[1].get<uint64_t>();
  if (e.end < e.begin) fail(path, name, "data_offsets end < begin (" + off->dump() + ")");
  if (e.end > data_size) {
    fail(path, name,
         "data_offsets " + off->dump() + " exceed the data section (" + std::to_string(data_size) +
             " bytes)");
  }
  if (e.end - e.begin != bytes) {
    fail(path, name,
         "data_offsets " + off->dump() + " span " + std::to_string(e.end - e.begin) +
             " bytes but dtype " + e.dtype->name + " with shape " + sh->dump() + " needs " +
             std::to_string(bytes));
  }
  return e;
}

}  // namespace

SafetensorsFile load_safetensors(const std::string& path) {
  AP_CHECK_AS(CheckpointError, host_is_little_endian(),
              "safetensors: big-endian hosts are not supported");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "", "cannot open the file", "check the path and permissions");
  in.seekg(0, std::ios::end);
  const auto file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0, std::ios::beg);
  if (file_size < 8) {
    fail(path, "",
         "file is " + std::to_string(file_size) + " bytes, shorter than the 8-byte header length");
  }
  uint64_t header_len = 0;
  in.read(reinterpret_cast<char*>(&header_len), 8);
  if (header_len > kMaxHeaderBytes) {
    fail(path, "", "header length " + std::to_string(header_len) + " exceeds the 100 MB limit");
  }
  if (header_len > file_size - 8) {
    fail(path, "",
         "header length " + std::to_string(header_len) + " exceeds the file size " +
             std::to_string(file_size));
  }
  std::string header(header_len, '\0');
  in.read(header.data(), static_cast<std::streamsize>(header_len));
  if (!in) fail(path, "", "could not read the header");
  const auto j = nlohmann::json::parse(header, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) fail(path, "", "header is not valid JSON");
  if (!j.is_object()) fail(path, "", "header is not a JSON object");

  const uint64_t data_start = 8 + header_len;
  const uint64_t data_size = file_size - data_start;
  SafetensorsFile out;
  std::vector<Entry> entries;
  for (const auto& [name, value] : j.items()) {
    if (name == "__metadata__") {
      if (!value.is_object()) fail(path, name, "'__metadata__' is not an object", "");
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string()) fail(path, name, "metadata value '" + k + "' is not a string", "");
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(path, name, value, data_size));
  }
  // Overlaps: sort by begin, each range must start at or after the previous end.
  std::vector<const Entry*> by_offset;
  for (const auto& e : entries) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const Entry* a, const Entry* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    if (by_offset[i]->begin < by_offset[i - 1]->end) {
      fail(path, by_offset[i]->name, "data range overlaps tensor '" + by_offset[i - 1]->name + "'");
    }
  }
  for (const auto& e : entries) {
    auto t = torch::empty(e.shape, torch::TensorOptions().dtype(e.dtype->type));
    const uint64_t n = e.end - e.begin;
    if (n > 0) {
      in.seekg(static_cast<std::streamoff>(data_start + e.begin), std::ios::beg);
      in.read(static_cast<char*>(t.data_ptr()), static_cast<std::streamsize>(n));
      if (!in) fail(path, e.name, "could not read " + std::to_string(n) + " bytes of data");
    }
    out.tensors.emplace(e.name, t);
  }
  return out;
}

void save_safetensors(const std::string& path,
                      const std::map<std::string, at::Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  AP_CHECK_AS(CheckpointError, host_is_little_endian(),
              "safetensors: big-endian hosts are not supported");
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> data;  // contiguous CPU copies, in name order (std::map is sorted)
  uint64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    AP_CHECK_AS(CheckpointError, name != "__metadata__", "safetensors file '", path,
                "': '__metadata__' is reserved as a tensor name");
    AP_CHECK_AS(CheckpointError, tensor.defined(), "safetensors file '", path, "', tensor '", name,
                "': tensor is undefined");
    const DtypeInfo* dt = find_dtype(tensor.scalar_type());
    AP_CHECK_AS(CheckpointError, dt != nullptr, "safetensors file '", path, "', tensor '", name,
                "': unsupported dtype ", tensor.scalar_type(),
                "; convert to float32, float16, bfloat16, int64 or int32 before saving");
    auto t = tensor.detach().to(torch::kCPU).contiguous();
    const uint64_t n = static_cast<uint64_t>(t.numel()) * static_cast<uint64_t>(dt->itemsize);
    header[name] = {
        {"dtype", dt->name}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + n}}};
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
  AP_CHECK_AS(CheckpointError, std::rename(tmp.c_str(), path.c_str()) == 0, "cannot rename '", tmp,
              "' to '", path, "'");
}

}  // namespace apportion
