// SPDX-License-Identifier: GPL-3.0-or-later
// Reads the special-token facts of tokenizer_config.json and config.json.
#include "core/tokenizer/folder_config.h"

#include <filesystem>

#include "core/tokenizer/json_field.h"

namespace apportion::tok {
namespace {

/// A token named as "…", as {"content": "…", …} (AddedToken), or null.
std::optional<std::string> token_name(const JsonField& root, const std::string& key) {
  auto field = root.find(key);
  if (!field) return std::nullopt;
  if (field->value().is_object()) return field->at("content").as_string();
  return field->as_string();
}

std::optional<int64_t> token_id(const JsonField& root, const std::string& key) {
  auto field = root.find(key);
  if (!field) return std::nullopt;
  if (field->value().is_array()) {
    if (field->array_size() == 0) return std::nullopt;
    return field->at(0).as_int();
  }
  return field->as_int();
}

}  // namespace

FolderTokenConfig read_folder_token_config(const std::string& dir) {
  namespace fs = std::filesystem;
  FolderTokenConfig c;
  const fs::path tc_path = fs::path(dir) / "tokenizer_config.json";
  if (fs::exists(tc_path)) {
    const nlohmann::json j = read_json_file(tc_path.string());
    const JsonField root(j, tc_path.string(), "");
    root.require_object();
    c.bos_token = token_name(root, "bos_token");
    c.eos_token = token_name(root, "eos_token");
    c.pad_token = token_name(root, "pad_token");
    c.unk_token = token_name(root, "unk_token");
    if (auto f = root.find("add_bos_token")) c.add_bos_token = f->as_bool();
    if (auto f = root.find("add_eos_token")) c.add_eos_token = f->as_bool();
  }
  const fs::path config_path = fs::path(dir) / "config.json";
  if (fs::exists(config_path)) {
    c.has_config_json = true;
    const nlohmann::json j = read_json_file(config_path.string());
    const JsonField root(j, config_path.string(), "");
    root.require_object();
    c.bos_token_id = token_id(root, "bos_token_id");
    c.eos_token_id = token_id(root, "eos_token_id");
    c.pad_token_id = token_id(root, "pad_token_id");
    if (auto f = root.find("vocab_size")) c.vocab_size = f->as_int();
    if (auto f = root.find("apportion_tokenizer")) c.apportion_tokenizer = f->as_string();
  }
  return c;
}

}  // namespace apportion::tok
