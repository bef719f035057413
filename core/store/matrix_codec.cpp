// SPDX-License-Identifier: GPL-3.0-or-later
// Matrix record blobs: byte-order-independent little-endian encode/decode with length checks.
#include "core/store/matrix_codec.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/common/json_parse.h"

namespace apportion {
namespace {

void put_u32(std::vector<uint8_t>& out, size_t at, uint32_t bits) {
  out[at] = static_cast<uint8_t>(bits);
  out[at + 1] = static_cast<uint8_t>(bits >> 8);
  out[at + 2] = static_cast<uint8_t>(bits >> 16);
  out[at + 3] = static_cast<uint8_t>(bits >> 24);
}

uint32_t get_u32(const std::vector<uint8_t>& in, size_t at) {
  return static_cast<uint32_t>(in[at]) | (static_cast<uint32_t>(in[at + 1]) << 8) |
         (static_cast<uint32_t>(in[at + 2]) << 16) | (static_cast<uint32_t>(in[at + 3]) << 24);
}

float half_to_float(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  const uint32_t exponent = (h >> 10) & 0x1fu;
  const uint32_t mantissa = h & 0x3ffu;
  float magnitude;
  if (exponent == 0) {
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);
  } else if (exponent == 31) {
    magnitude =
        mantissa ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  } else {
    magnitude = std::ldexp(static_cast<float>(mantissa | 0x400u), static_cast<int>(exponent) - 25);
  }
  return sign ? -magnitude : magnitude;
}

}  // namespace

const char* dtype_name(MatrixDType dtype) { return dtype == MatrixDType::I32 ? "i32" : "f32"; }

std::string shape_to_json(const std::vector<int64_t>& shape) {
  return nlohmann::json(shape).dump();
}

std::vector<int64_t> shape_from_json(const std::string& text) {
  const nlohmann::json parsed =
      try_parse_json_bounded(text, JsonLimits::line()).value_or(nlohmann::json());
  std::vector<int64_t> shape;
  bool valid = parsed.is_array();
  for (const auto& dim : parsed) {
    if (!valid) break;
    valid = dim.is_number_integer() && dim.get<int64_t>() >= 0;
    if (valid) shape.push_back(dim.get<int64_t>());
  }
  if (!valid) {
    throw StoreError("matrix record has a malformed shape '" + text +
                     "' (expected a JSON array of non-negative integers)");
  }
  return shape;
}

int64_t element_count(const std::vector<int64_t>& shape) {
  int64_t count = 1;
  for (int64_t dim : shape) {
    if (dim < 0 || (dim > 0 && count > std::numeric_limits<int64_t>::max() / 8 / dim)) {
      throw StoreError("matrix record shape " + shape_to_json(shape) + " is invalid or too large");
    }
    count *= dim;
  }
  return count;
}

std::vector<uint8_t> encode_matrix(const MatrixPoint& m) {
  const int64_t count = element_count(m.shape);
  const size_t given = m.dtype == MatrixDType::I32 ? m.i32.size() : m.f32.size();
  if (static_cast<int64_t>(given) != count) {
    throw StoreError(detail::concat("matrix '", m.key, "' at step ", m.step, ": shape ",
                                    shape_to_json(m.shape), " needs ", count, " ",
                                    dtype_name(m.dtype), " values but ", given,
                                    " were given; pad ragged data (NaN or -1) to the shape"));
  }
  std::vector<uint8_t> blob(given * 4);
  for (size_t i = 0; i < given; ++i) {
    uint32_t bits;
    if (m.dtype == MatrixDType::I32) {
      std::memcpy(&bits, &m.i32[i], 4);
    } else {
      std::memcpy(&bits, &m.f32[i], 4);  // NaN payloads keep their bits
    }
    put_u32(blob, i * 4, bits);
  }
  return blob;
}

void decode_matrix(const std::string& dtype_text,
                   const std::vector<uint8_t>& blob,
                   MatrixRecord& record) {
  size_t element_bytes = 4;
  if (dtype_text == "f16") {
    element_bytes = 2;
  } else if (dtype_text != "f32" && dtype_text != "i32") {
    throw StoreError("matrix '" + record.key + "' has unknown dtype '" + dtype_text + "'");
  }
  const int64_t count = element_count(record.shape);
  if (static_cast<uint64_t>(blob.size()) != static_cast<uint64_t>(count) * element_bytes) {
    throw StoreError(detail::concat("matrix '", record.key, "' at step ", record.step,
                                    " is damaged: its blob has ", blob.size(), " bytes but shape ",
                                    shape_to_json(record.shape), " of ", dtype_text, " needs ",
                                    static_cast<uint64_t>(count) * element_bytes, " bytes"));
  }
  const auto n = static_cast<size_t>(count);
  record.values.resize(n);
  record.i32.clear();
  record.dtype = dtype_text == "i32" ? MatrixDType::I32 : MatrixDType::F32;
  if (dtype_text == "i32") {
    record.i32.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const uint32_t bits = get_u32(blob, i * 4);
      std::memcpy(&record.i32[i], &bits, 4);
      record.values[i] = record.i32[i] == -1 ? std::numeric_limits<float>::quiet_NaN()
                                             : static_cast<float>(record.i32[i]);
    }
  } else if (dtype_text == "f16") {
    for (size_t i = 0; i < n; ++i) {
      const auto h = static_cast<uint16_t>(blob[i * 2] | (blob[i * 2 + 1] << 8));
      record.values[i] = half_to_float(h);
    }
  } else {
    for (size_t i = 0; i < n; ++i) {
      const uint32_t bits = get_u32(blob, i * 4);
      std::memcpy(&record.values[i], &bits, 4);
    }
  }
}

}  // namespace apportion
