// SPDX-License-Identifier: GPL-3.0-or-later
// JsonObjectReader: strict, path-aware reading of one JSON object for the config parser.
// Each get_* names the full JSON path in its ConfigError; finish() rejects unknown keys.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace apportion {

class JsonObjectReader {
 public:
  /// `path` is the dotted path of this object ("" for the root).
  JsonObjectReader(const nlohmann::json& j, std::string path);

  bool has(const std::string& key) const;
  void get(const std::string& key, std::string& out);
  void get(const std::string& key, int& out);
  void get(const std::string& key, uint64_t& out);
  void get(const std::string& key, double& out);
  void get(const std::string& key, bool& out);
  void get(const std::string& key, std::vector<int>& out);
  void get(const std::string& key, std::vector<std::string>& out);
  /// The raw value of a key (for nested objects); marks it as known.
  const nlohmann::json* raw(const std::string& key);
  /// Dotted path of a child key.
  std::string child(const std::string& key) const;
  /// Throws ConfigError for the first key that no get/raw asked for.
  void finish(const std::vector<std::string>& also_allowed = {}) const;

 private:
  const nlohmann::json* find(const std::string& key);
  const nlohmann::json& j_;
  std::string path_;
  std::set<std::string> seen_;
};

/// Throws ConfigError "`path`: message".
[[noreturn]] void config_fail(const std::string& path, const std::string& message);
/// Short JSON type name for messages ("string", "number", …).
std::string json_type_name(const nlohmann::json& j);
/// Throws ConfigError "`path`: message" unless `ok` (the validators' one check).
void config_require(bool ok, const std::string& path, const std::string& message);

/// ", got <value as JSON>", the tail of a validation message.
template <typename T>
std::string got(const T& value) {
  return ", got " + nlohmann::json(value).dump();
}

}  // namespace apportion
