// SPDX-License-Identifier: GPL-3.0-or-later
// Strict, path-aware JSON object reading for the experiment config parser.
#include "core/config/json_reader.h"

#include <cmath>
#include <limits>

#include "core/common/error.h"
#include "core/common/json_parse.h"

namespace apportion {

void config_fail(const std::string& path, const std::string& message) {
  throw ConfigError((path.empty() ? std::string("(root)") : path) + ": " + message);
}

std::string json_type_name(const nlohmann::json& j) {
  if (j.is_null()) return "null";
  if (j.is_boolean()) return "boolean";
  if (j.is_number_integer() || j.is_number_unsigned()) return "integer";
  if (j.is_number()) return "number";
  if (j.is_string()) return "string";
  if (j.is_array()) return "array";
  return "object";
}

JsonObjectReader::JsonObjectReader(const nlohmann::json& j, std::string path)
    : j_(j), path_(std::move(path)) {
  if (!j_.is_object()) config_fail(path_, "must be an object, got " + json_type_name(j_));
}

bool JsonObjectReader::has(const std::string& key) const { return j_.contains(key); }

std::string JsonObjectReader::child(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

const nlohmann::json* JsonObjectReader::find(const std::string& key) {
  seen_.insert(key);
  auto it = j_.find(key);
  return it == j_.end() ? nullptr : &*it;
}

const nlohmann::json* JsonObjectReader::raw(const std::string& key) { return find(key); }

void JsonObjectReader::get(const std::string& key, std::string& out) {
  if (const auto* v = find(key)) {
    if (!v->is_string()) config_fail(child(key), "must be a string, got " + json_type_name(*v));
    out = v->get<std::string>();
  }
}

void JsonObjectReader::get(const std::string& key, int& out) {
  if (const auto* v = find(key)) {
    if (v->is_number_float()) {
      const double d = v->get<double>();
      if (std::floor(d) != d) {
        config_fail(child(key), "must be an integer, got " + v->dump());
      }
    } else if (!v->is_number()) {
      config_fail(child(key), "must be an integer, got " + json_type_name(*v));
    }
    const auto n = json_to_integer<int>(*v);
    if (!n) {
      config_fail(child(key), "integer out of range (-2147483648..2147483647), got " + v->dump());
    }
    out = *n;
  }
}

void JsonObjectReader::get(const std::string& key, uint64_t& out) {
  if (const auto* v = find(key)) {
    if (v->is_number_unsigned()) {
      out = v->get<uint64_t>();
    } else if (v->is_number_integer()) {
      config_fail(child(key), "must be a non-negative integer, got " + v->dump());
    } else {
      config_fail(child(key), "must be a non-negative integer, got " + json_type_name(*v));
    }
  }
}

void JsonObjectReader::get(const std::string& key, double& out) {
  if (const auto* v = find(key)) {
    if (!v->is_number()) config_fail(child(key), "must be a number, got " + json_type_name(*v));
    out = v->get<double>();
    if (!std::isfinite(out)) config_fail(child(key), "must be finite");
  }
}

void JsonObjectReader::get(const std::string& key, bool& out) {
  if (const auto* v = find(key)) {
    if (!v->is_boolean()) {
      config_fail(child(key), "must be true or false, got " + json_type_name(*v));
    }
    out = v->get<bool>();
  }
}

void JsonObjectReader::get(const std::string& key, std::vector<int>& out) {
  if (const auto* v = find(key)) {
    if (!v->is_array()) config_fail(child(key), "must be an array of integers");
    std::vector<int> values;
    for (size_t i = 0; i < v->size(); ++i) {
      const auto& e = (*v)[i];
      if (!e.is_number_integer()) {
        config_fail(child(key) + "[" + std::to_string(i) + "]",
                    "must be an integer, got " + json_type_name(e));
      }
      const auto n = json_to_integer<int>(e);
      if (!n) {
        config_fail(child(key) + "[" + std::to_string(i) + "]",
                    "integer out of range (-2147483648..2147483647), got " + e.dump());
      }
      values.push_back(*n);
    }
    out = std::move(values);
  }
}

void JsonObjectReader::get(const std::string& key, std::vector<std::string>& out) {
  if (const auto* v = find(key)) {
    if (!v->is_array()) config_fail(child(key), "must be an array of strings");
    std::vector<std::string> values;
    for (size_t i = 0; i < v->size(); ++i) {
      const auto& e = (*v)[i];
      if (!e.is_string()) {
        config_fail(child(key) + "[" + std::to_string(i) + "]",
                    "must be a string, got " + json_type_name(e));
      }
      values.push_back(e.get<std::string>());
    }
    out = std::move(values);
  }
}

void JsonObjectReader::finish(const std::vector<std::string>& also_allowed) const {
  for (auto it = j_.begin(); it != j_.end(); ++it) {
    if (seen_.count(it.key())) continue;
    bool allowed = false;
    for (const auto& a : also_allowed) allowed = allowed || a == it.key();
    if (allowed) continue;
    std::string known;
    for (const auto& k : seen_) known += (known.empty() ? "" : ", ") + k;
    config_fail(child(it.key()), "unknown key (known keys here: " + known + ")");
  }
}

void config_require(bool ok, const std::string& path, const std::string& message) {
  if (!ok) config_fail(path, message);
}

}  // namespace apportion
