// SPDX-License-Identifier: GPL-3.0-or-later
// JsonField: path-aware access to tokenizer JSON files with TokenizerError messages.
#include "core/tokenizer/json_field.h"

#include <fstream>
#include <sstream>

#include "core/common/error.h"
#include "core/common/json_parse.h"

namespace apportion::tok {

JsonField::JsonField(const nlohmann::json& value, std::string file, std::string path)
    : value_(&value), file_(std::move(file)), path_(std::move(path)) {}

void JsonField::fail(const std::string& problem, const std::string& hint) const {
  std::string message =
      file_ + ": " + (path_.empty() ? std::string("(top level)") : path_) + ": " + problem;
  if (!hint.empty()) message += "; " + hint;
  throw TokenizerError(message);
}

void JsonField::require_object() const {
  if (!value_->is_object()) {
    fail("expected an object, found " + json_kind(*value_),
         "the file is corrupt or not a Hugging Face tokenizer file");
  }
}

JsonField JsonField::at(const std::string& key) const {
  require_object();
  auto it = value_->find(key);
  const std::string child = path_.empty() ? key : path_ + "." + key;
  if (it == value_->end()) {
    JsonField(*value_, file_, child)
        .fail("missing", "the file is incomplete or not a Hugging Face tokenizer file");
  }
  return JsonField(*it, file_, child);
}

std::optional<JsonField> JsonField::find(const std::string& key) const {
  require_object();
  auto it = value_->find(key);
  if (it == value_->end() || it->is_null()) return std::nullopt;
  return JsonField(*it, file_, path_.empty() ? key : path_ + "." + key);
}

JsonField JsonField::at(size_t index) const {
  if (index >= array_size()) fail("index " + std::to_string(index) + " out of range", "");
  return JsonField((*value_)[index], file_, path_ + "[" + std::to_string(index) + "]");
}

size_t JsonField::array_size() const {
  if (!value_->is_array()) {
    fail("expected an array, found " + json_kind(*value_), "the file is corrupt");
  }
  return value_->size();
}

std::string JsonField::as_string() const {
  if (!value_->is_string()) {
    fail("expected a string, found " + json_kind(*value_), "the file is corrupt");
  }
  return value_->get<std::string>();
}

bool JsonField::as_bool() const {
  if (!value_->is_boolean()) {
    fail("expected true or false, found " + json_kind(*value_), "the file is corrupt");
  }
  return value_->get<bool>();
}

int64_t JsonField::as_int() const {
  if (!value_->is_number_integer()) {
    fail("expected an integer, found " + json_kind(*value_), "the file is corrupt");
  }
  const auto n = json_to_integer<int64_t>(*value_);
  if (!n) fail("integer " + value_->dump() + " is out of range", "the file is corrupt");
  return *n;
}

std::string JsonField::get_string(const std::string& key, const std::string& fallback) const {
  auto f = find(key);
  return f ? f->as_string() : fallback;
}

bool JsonField::get_bool(const std::string& key, bool fallback) const {
  auto f = find(key);
  return f ? f->as_bool() : fallback;
}

int64_t JsonField::get_int(const std::string& key, int64_t fallback) const {
  auto f = find(key);
  return f ? f->as_int() : fallback;
}

nlohmann::json read_json_file(const std::string& path) {
  try {
    return read_json_file_bounded(path, JsonLimits::tokenizer());
  } catch (const JsonInputError& e) {
    if (e.where() == "file") throw TokenizerError(path + ": " + e.reason());
    throw TokenizerError(path + ": " + (e.truncated() ? "truncated JSON" : "invalid JSON") + ", " +
                         e.where() + ": " + e.reason() + "; re-download or re-export the file");
  }
}

std::string json_kind(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return "a number";
    default:
      return "an unsupported value";
  }
}

}  // namespace apportion::tok
