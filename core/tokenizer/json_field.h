// SPDX-License-Identifier: GPL-3.0-or-later
// JsonField: a JSON value together with the file and JSON path it came from, so that every
// tokenizer parse error names the file, the field and what to do (TokenizerError).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace apportion::tok {

class JsonField {
 public:
  /// `path` is the dotted JSON path of `value` ("" for the root).
  JsonField(const nlohmann::json& value, std::string file, std::string path);

  const nlohmann::json& value() const { return *value_; }
  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }
  bool is_null() const { return value_->is_null(); }

  /// A required member; TokenizerError when absent (null counts as present).
  JsonField at(const std::string& key) const;
  /// An optional member: nullopt when absent or null.
  std::optional<JsonField> find(const std::string& key) const;
  /// Array element `index` (the array's size is checked).
  JsonField at(size_t index) const;
  /// Number of elements of an array (TokenizerError when not an array).
  size_t array_size() const;

  std::string as_string() const;
  bool as_bool() const;
  int64_t as_int() const;
  /// Optional members with a default when absent or null.
  std::string get_string(const std::string& key, const std::string& fallback) const;
  bool get_bool(const std::string& key, bool fallback) const;
  int64_t get_int(const std::string& key, int64_t fallback) const;

  void require_object() const;
  /// Throws TokenizerError "<file>: <path>: <problem>; <hint>".
  [[noreturn]] void fail(const std::string& problem, const std::string& hint) const;

 private:
  const nlohmann::json* value_;
  std::string file_;
  std::string path_;
};

/// Reads and parses a JSON file. TokenizerError names the file and, for a syntax error or a
/// truncated file, the byte offset.
nlohmann::json read_json_file(const std::string& path);

/// Short JSON type name for messages ("string", "number", …).
std::string json_kind(const nlohmann::json& j);

}  // namespace apportion::tok
