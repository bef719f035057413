// SPDX-License-Identifier: GPL-3.0-or-later
// Encoding of matrix records (DESIGN §7.2): row-major little-endian blobs, shapes as JSON
// arrays, dtype names. Decoding checks length(blob) == prod(shape) × sizeof(dtype).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/events/training_events.h"
#include "core/store/run_types.h"

namespace apportion {

/// "f32" / "i32" as stored in matrices.dtype.
const char* dtype_name(MatrixDType dtype);
/// "[32,7,8]" for {32, 7, 8}.
std::string shape_to_json(const std::vector<int64_t>& shape);
/// Parses a stored shape; throws StoreError unless it is a JSON array of integers >= 0.
std::vector<int64_t> shape_from_json(const std::string& text);
/// Element count of a shape (1 for an empty shape); throws StoreError on overflow.
int64_t element_count(const std::vector<int64_t>& shape);

/// The blob of a matrix point. Throws StoreError when the data length does not match the shape.
std::vector<uint8_t> encode_matrix(const MatrixPoint& m);

/// Fills record.values (and record.i32, record.dtype) from a stored blob. `dtype_text` is the
/// stored dtype ("f32", "f16", "i32"; f16 is widened and reported as F32). Throws StoreError
/// when the blob length does not match the shape and dtype.
void decode_matrix(const std::string& dtype_text,
                   const std::vector<uint8_t>& blob,
                   MatrixRecord& record);

}  // namespace apportion
