// SPDX-License-Identifier: GPL-3.0-or-later
// FolderTokenConfig: what a model folder's tokenizer_config.json and config.json say about
// special tokens (names, ids, add_bos_token/add_eos_token) and Apportion's own tokenizer key.
// Both files are optional; a malformed one is a TokenizerError naming the file and field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace apportion::tok {

struct FolderTokenConfig {
  // tokenizer_config.json
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;
  std::optional<std::string> pad_token;
  std::optional<std::string> unk_token;
  std::optional<bool> add_bos_token;
  std::optional<bool> add_eos_token;
  // config.json
  std::optional<int64_t> bos_token_id;
  std::optional<int64_t> eos_token_id;  ///< the first one when config.json lists several
  std::optional<int64_t> pad_token_id;
  std::optional<int64_t> vocab_size;
  std::optional<std::string> apportion_tokenizer;  ///< "byte" for the built-in tokenizer
  bool has_config_json = false;
};

/// Reads <dir>/tokenizer_config.json and <dir>/config.json when present.
FolderTokenConfig read_folder_token_config(const std::string& dir);

}  // namespace apportion::tok
