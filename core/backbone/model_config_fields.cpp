// SPDX-License-Identifier: GPL-3.0-or-later
// The typed config.json field readers (see model_config_fields.h).
#include "core/backbone/model_config_fields.h"

#include "core/common/error.h"
#include "core/common/json_parse.h"

namespace apportion::config_fields {

using nlohmann::json;

void fail(const std::string& where, const std::string& field, const std::string& what) {
  throw ModelError(where + ": " + field + ": " + what + "; fix the model config.json");
}

int get_int(const json& j, const std::string& where, const char* field, bool required, int def) {
  auto it = j.find(field);
  if (it == j.end() || (it->is_null() && !required)) {
    if (required) fail(where, field, "required field is missing");
    return def;
  }
  if (!it->is_number_integer()) fail(where, field, "must be an integer, got " + it->dump());
  const auto v = json_to_integer<int64_t>(*it).value_or(-1);
  if (v <= 0 || v > (int64_t{1} << 30)) fail(where, field, "must be positive, got " + it->dump());
  return static_cast<int>(v);
}

int get_non_negative_int(const json& j, const std::string& where, const char* field, int def) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return def;
  const auto n = it->is_number_integer() ? json_to_integer<int>(*it) : std::nullopt;
  if (!n || *n < 0 || *n > (1 << 30)) {
    fail(where, field, "must be a non-negative integer, got " + it->dump());
  }
  return *n;
}

int get_optional_size(const json& j, const std::string& where, const char* field, int def) {
  auto it = j.find(field);
  if (it == j.end()) return def;
  if (it->is_null()) return 0;
  return get_int(j, where, field, true, def);
}

double get_positive_double(const json& j, const std::string& where, const char* field, double def) {
  auto it = j.find(field);
  if (it == j.end()) return def;
  if (!it->is_number()) fail(where, field, "must be a number, got " + it->dump());
  const double v = it->get<double>();
  if (!(v > 0.0)) fail(where, field, "must be positive, got " + it->dump());
  return v;
}

double get_non_negative_double(const json& j,
                               const std::string& where,
                               const char* field,
                               double def) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return def;
  if (!it->is_number() || !(it->get<double>() >= 0.0)) {
    fail(where, field, "must be a non-negative number, got " + it->dump());
  }
  return it->get<double>();
}

bool get_bool(const json& j, const std::string& where, const char* field, bool def) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return def;
  if (!it->is_boolean()) fail(where, field, "must be a boolean, got " + it->dump());
  return it->get<bool>();
}

int get_token_id(const json& j, const std::string& where, const char* field, int def) {
  const auto ids = get_token_ids(j, where, field, def);
  return ids.empty() ? -1 : ids.front();
}

std::vector<int> get_token_ids(const json& j,
                               const std::string& where,
                               const char* field,
                               int def) {
  auto it = j.find(field);
  if (it == j.end()) return def < 0 ? std::vector<int>{} : std::vector<int>{def};
  if (it->is_null()) return {};
  std::vector<int> out;
  const bool list = it->is_array();
  if (list && it->empty()) fail(where, field, "must not be an empty list");
  for (const auto& v : list ? *it : json::array({*it})) {
    const auto n = v.is_number_integer() ? json_to_integer<int>(v) : std::nullopt;
    if (!n || *n < 0 || *n > (1 << 30)) {
      fail(where, field,
           "must be a non-negative integer (or a list of them) or null, got " + it->dump());
    }
    out.push_back(*n);
  }
  return out;
}

}  // namespace apportion::config_fields
