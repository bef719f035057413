// SPDX-License-Identifier: GPL-3.0-or-later
// The one JSON parse for every input the program did not write itself (configs, model folders,
// tokenizers, safetensors headers, datasets, progress lines, stored config text): bounded in size
// and nesting depth (so a hostile file cannot exhaust memory or the stack), duplicate object keys
// refused (nlohmann would let the later one win silently), numbers out of a double's range
// refused in plain words. Errors carry the byte offset, line and column, or the JSON path.
//
// Intended usage:
//   try {
//     const nlohmann::json j = parse_json_bounded(text, JsonLimits::config());
//   } catch (const JsonInputError& e) {
//     throw ConfigError(path + ": " + e.where() + ": " + e.reason() + " — fix the file");
//   }
//   // Or, for callers that treat bad text as "not JSON":
//   std::optional<nlohmann::json> j = try_parse_json_bounded(line, JsonLimits::line());
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

#include <nlohmann/json.hpp>

namespace apportion {

/// Bounds of one parse. Defaults suit small files (configs, HF config.json).
struct JsonLimits {
  size_t max_bytes = size_t{16} << 20;  ///< larger texts are refused before parsing
  int max_depth = 64;                   ///< arrays/objects nested deeper are refused
  bool reject_duplicate_keys = true;

  static JsonLimits config() { return {}; }
  /// tokenizer.json files are large (Llama 3's is 9 MB, Qwen2's 7 MB).
  static JsonLimits tokenizer() { return {size_t{512} << 20, 64, true}; }
  /// A safetensors header (the format caps it at 100 MB).
  static JsonLimits safetensors_header() { return {size_t{100} << 20, 64, true}; }
  /// One line of a JSON Lines file or of the progress protocol.
  static JsonLimits line() { return {size_t{64} << 20, 64, true}; }
};

/// Why a text was refused. `where()` says "line L, column C (byte B)" for syntax, size and depth
/// errors, or "at <json path>" for a duplicate key; `reason()` says what is wrong.
class JsonInputError : public std::runtime_error {
 public:
  JsonInputError(std::string where, std::string reason, size_t byte);
  const std::string& where() const { return where_; }
  const std::string& reason() const { return reason_; }
  /// 0-based byte offset of the error (for a duplicate key: 0, use where()).
  size_t byte() const { return byte_; }
  /// 1-based line and column of byte(); 0 when the error has no position (size, duplicate key).
  size_t line() const { return line_; }
  size_t column() const { return column_; }
  void set_position(size_t line, size_t column) {
    line_ = line;
    column_ = column;
  }
  /// True when the text ended before the JSON value did (a truncated file).
  bool truncated() const { return truncated_; }
  void set_truncated(bool t) { truncated_ = t; }

 private:
  std::string where_, reason_;
  size_t byte_;
  size_t line_ = 0, column_ = 0;
  bool truncated_ = false;
};

/// Parses `text` within `limits`; throws JsonInputError.
nlohmann::json parse_json_bounded(std::string_view text, const JsonLimits& limits);
/// The same, std::nullopt instead of an exception.
std::optional<nlohmann::json> try_parse_json_bounded(std::string_view text,
                                                     const JsonLimits& limits);
/// Reads a whole file and parses it. Throws JsonInputError (an unreadable file, a directory or
/// an oversized file included; `where()` is then "file").
nlohmann::json read_json_file_bounded(const std::string& path, const JsonLimits& limits);

/// `v` as the integer type T when it is a JSON integer, or a float with an integral value, inside
/// T's range; std::nullopt otherwise (a fraction, a string, 4294967298 for an int, -1 for an
/// unsigned). The one check before every narrowing of a number read from a file.
template <typename T>
std::optional<T> json_to_integer(const nlohmann::json& v) {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
  using L = std::numeric_limits<T>;
  if (v.is_number_unsigned()) {
    const uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(L::max())) return std::nullopt;
    return static_cast<T>(u);
  }
  if (v.is_number_integer()) {
    const int64_t s = v.get<int64_t>();
    if constexpr (std::is_unsigned_v<T>) {
      if (s < 0 || static_cast<uint64_t>(s) > static_cast<uint64_t>(L::max())) return std::nullopt;
    } else {
      if (s < static_cast<int64_t>(L::min()) || s > static_cast<int64_t>(L::max())) {
        return std::nullopt;
      }
    }
    return static_cast<T>(s);
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d) || std::floor(d) != d) return std::nullopt;
    // 2^digits is exact in a double: the first value past T's range.
    const double past_max = std::ldexp(1.0, L::digits);
    if (d < static_cast<double>(L::min()) || d >= past_max) return std::nullopt;
    return static_cast<T>(d);
  }
  return std::nullopt;
}

}  // namespace apportion
