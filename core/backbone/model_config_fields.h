// SPDX-License-Identifier: GPL-3.0-or-later
// Typed field readers for parsing HF config.json objects strictly: each one names the source
// (`where`) and the field in its ModelError and says what was expected. Used by ModelConfig.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace apportion::config_fields {

/// Throws ModelError("<where>: <field>: <what>; fix the model config.json").
[[noreturn]] void fail(const std::string& where, const std::string& field, const std::string& what);

/// A positive integer (≤ 2^30); `def` when absent and not required.
int get_int(
    const nlohmann::json& j, const std::string& where, const char* field, bool required, int def);
/// A non-negative integer; `def` when absent.
int get_non_negative_int(const nlohmann::json& j,
                         const std::string& where,
                         const char* field,
                         int def);
/// A positive integer or null (→ 0); `def` when absent.
int get_optional_size(const nlohmann::json& j,
                      const std::string& where,
                      const char* field,
                      int def);
/// A positive number; `def` when absent.
double get_positive_double(const nlohmann::json& j,
                           const std::string& where,
                           const char* field,
                           double def);
/// A number ≥ 0; `def` when absent.
double get_non_negative_double(const nlohmann::json& j,
                               const std::string& where,
                               const char* field,
                               double def);
/// A boolean; `def` when absent.
bool get_bool(const nlohmann::json& j, const std::string& where, const char* field, bool def);
/// A token id: absent → def, null → -1, a list → its first entry.
int get_token_id(const nlohmann::json& j, const std::string& where, const char* field, int def);
/// Every id of a token-id field (a list or one id); absent → {def} (or {} when def < 0).
std::vector<int> get_token_ids(const nlohmann::json& j,
                               const std::string& where,
                               const char* field,
                               int def);

}  // namespace apportion::config_fields
