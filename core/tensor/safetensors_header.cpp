// SPDX-License-Identifier: GPL-3.0-or-later
// Reading and validating a safetensors header (see safetensors_header.h for the layout). Only
// the first 8 + n bytes are read; the file size bounds every data range, so a truncated or
// hand-edited file gives a CheckpointError naming the file and tensor, never a crash later.
#include "core/tensor/safetensors_header.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/common/json_parse.h"

namespace apportion {
namespace {

/// Largest header we accept (HF's reference reader uses the same 100 MB limit).
constexpr uint64_t kMaxHeaderBytes = 100ull * 1000 * 1000;
/// Hint appended to errors about sizes and offsets.
constexpr const char* kTruncatedHint = "the file may be truncated; re-download or re-export it";

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

bool host_is_little_endian() {
  const uint16_t probe = 1;
  unsigned char first = 0;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

SafetensorsEntry parse_entry(const std::string& path,
                             const std::string& name,
                             const nlohmann::json& j,
                             uint64_t data_size) {
  SafetensorsEntry e;
  e.name = name;
  if (!j.is_object()) fail(path, name, "header entry is not a JSON object");
  auto dt = j.find("dtype");
  if (dt == j.end() || !dt->is_string()) fail(path, name, "missing or non-string 'dtype'");
  e.dtype = dt->get<std::string>();
  e.itemsize = safetensors_itemsize(e.dtype);
  if (e.itemsize == 0) {
    fail(path, name, "unsupported dtype '" + e.dtype + "'",
         "supported: F32, F16, BF16, I64, I32; convert the checkpoint to one of them");
  }
  auto sh = j.find("shape");
  if (sh == j.end() || !sh->is_array()) fail(path, name, "missing or non-array 'shape'");
  // numel · itemsize, checked for overflow.
  uint64_t bytes = static_cast<uint64_t>(e.itemsize);
  bool overflow = false;
  for (const auto& d : *sh) {
    const auto dim = json_to_integer<int64_t>(d);
    if (!d.is_number_integer() || !dim || *dim < 0) {
      fail(path, name, "shape entries must be non-negative integers, got " + sh->dump());
    }
    const auto v = static_cast<uint64_t>(*dim);
    if (v != 0 && bytes > std::numeric_limits<uint64_t>::max() / v) overflow = true;
    bytes = overflow ? 0 : bytes * v;
    e.shape.push_back(static_cast<int64_t>(v));
  }
  if (overflow) fail(path, name, "shape " + sh->dump() + " is too large");
  auto off = j.find("data_offsets");
  const bool pair = off != j.end() && off->is_array() && off->size() == 2 &&
                    (*off)[0].is_number_integer() && (*off)[1].is_number_integer();
  const auto begin = pair ? json_to_integer<uint64_t>((*off)[0]) : std::nullopt;
  const auto end = pair ? json_to_integer<uint64_t>((*off)[1]) : std::nullopt;
  if (!begin || !end) {
    fail(path, name, "'data_offsets' must be [begin, end] with non-negative integers");
  }
  e.begin = *begin;
  e.end = *end;
  if (e.end < e.begin) fail(path, name, "data_offsets end < begin (" + off->dump() + ")");
  if (e.end > data_size) {
    fail(path, name,
         "data_offsets " + off->dump() + " exceed the data section (" + std::to_string(data_size) +
             " bytes)");
  }
  if (e.end - e.begin != bytes) {
    fail(path, name,
         "data_offsets " + off->dump() + " span " + std::to_string(e.end - e.begin) +
             " bytes but dtype " + e.dtype + " with shape " + sh->dump() + " needs " +
             std::to_string(bytes));
  }
  return e;
}

}  // namespace

int64_t SafetensorsEntry::numel() const {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

const SafetensorsEntry* SafetensorsHeader::find(const std::string& name) const {
  auto it = std::lower_bound(
      entries.begin(), entries.end(), name,
      [](const SafetensorsEntry& e, const std::string& key) { return e.name < key; });
  return it != entries.end() && it->name == name ? &*it : nullptr;
}

const std::vector<std::string>& safetensors_dtype_names() {
  static const std::vector<std::string> names = {"F32", "F16", "BF16", "I64", "I32"};
  return names;
}

int64_t safetensors_itemsize(const std::string& dtype) {
  if (dtype == "F32" || dtype == "I32") return 4;
  if (dtype == "F16" || dtype == "BF16") return 2;
  if (dtype == "I64") return 8;
  return 0;
}

SafetensorsHeader read_safetensors_header(const std::string& path) {
  AP_CHECK_AS(CheckpointError, host_is_little_endian(),
              "safetensors: big-endian hosts are not supported");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "", "cannot open the file", "check the path and permissions");
  in.seekg(0, std::ios::end);
  SafetensorsHeader h;
  h.path = path;
  h.file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0, std::ios::beg);
  if (h.file_size < 8) {
    fail(
        path, "",
        "file is " + std::to_string(h.file_size) + " bytes, shorter than the 8-byte header length");
  }
  uint64_t header_len = 0;
  in.read(reinterpret_cast<char*>(&header_len), 8);
  if (header_len > kMaxHeaderBytes) {
    fail(path, "", "header length " + std::to_string(header_len) + " exceeds the 100 MB limit");
  }
  if (header_len > h.file_size - 8) {
    fail(path, "",
         "header length " + std::to_string(header_len) + " exceeds the file size " +
             std::to_string(h.file_size));
  }
  std::string text(header_len, '\0');
  in.read(text.data(), static_cast<std::streamsize>(header_len));
  if (!in) fail(path, "", "could not read the header");
  nlohmann::json j;
  try {
    j = parse_json_bounded(text, JsonLimits::safetensors_header());
  } catch (const JsonInputError& e) {
    // A duplicate key is a tensor named twice; the format forbids it.
    fail(path, "",
         "header is not valid JSON (" + e.where() +
             " of the header, which starts at byte 8): " + e.reason());
  }
  if (!j.is_object()) fail(path, "", "header is not a JSON object");

  h.data_start = 8 + header_len;
  const uint64_t data_size = h.file_size - h.data_start;
  for (const auto& [name, value] : j.items()) {  // nlohmann objects iterate sorted by key
    if (name == "__metadata__") {
      if (!value.is_object()) fail(path, name, "'__metadata__' is not an object", "");
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string()) fail(path, name, "metadata value '" + k + "' is not a string", "");
        h.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    h.entries.push_back(parse_entry(path, name, value, data_size));
  }
  // The format's rules: the data section is indexed entirely, in order of the offsets, without
  // overlaps or holes (zero-size tensors may share an offset).
  std::vector<const SafetensorsEntry*> by_offset;
  for (const auto& e : h.entries) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const SafetensorsEntry* a, const SafetensorsEntry* b) {
              return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
            });
  uint64_t covered = 0;
  const SafetensorsEntry* previous = nullptr;
  for (const auto* e : by_offset) {
    if (e->begin < covered) {
      fail(path, e->name, "data range overlaps tensor '" + previous->name + "'",
           "the file is corrupt; re-download or re-export it");
    }
    if (e->begin > covered) {
      fail(path, e->name,
           "a hole of " + std::to_string(e->begin - covered) + " bytes before its data (bytes " +
               std::to_string(covered) + " to " + std::to_string(e->begin) +
               " of the data section belong to no tensor)",
           "the file is corrupt; re-download or re-export it");
    }
    covered = e->end;
    previous = e;
  }
  if (covered != data_size) {
    fail(path, previous ? previous->name : "",
         std::to_string(data_size - covered) +
             " bytes after the last tensor's data belong to no "
             "tensor (data section " +
             std::to_string(data_size) + " bytes)",
         "the file is corrupt or was appended to; re-download or re-export it");
  }
  return h;
}

}  // namespace apportion
