// SPDX-License-Identifier: GPL-3.0-or-later
// load_tokenizer(): picks the tokenizer of a model folder (tokenizer.json, tokenizer.model,
// or the built-in byte tokenizer) and reports a folder it cannot tokenize for.
#include <filesystem>

#include "core/common/error.h"
#include "core/tokenizer/builtin_byte_tokenizer.h"
#include "core/tokenizer/folder_config.h"
#include "core/tokenizer/hf_tokenizer.h"
#include "core/tokenizer/sentencepiece_tokenizer.h"
#include "core/tokenizer/tokenizer.h"

namespace apportion {

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& model_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(model_dir, ec)) {
    throw TokenizerError(model_dir +
                         ": not a folder; pass the model folder that holds "
                         "tokenizer.json, tokenizer.model or config.json");
  }
  const tok::FolderTokenConfig folder = tok::read_folder_token_config(model_dir);
  const fs::path json_path = fs::path(model_dir) / "tokenizer.json";
  const fs::path model_path = fs::path(model_dir) / "tokenizer.model";
  if (folder.apportion_tokenizer && *folder.apportion_tokenizer != "byte") {
    throw TokenizerError((fs::path(model_dir) / "config.json").string() +
                         ": apportion_tokenizer: unsupported \"" + *folder.apportion_tokenizer +
                         "\"; use \"byte\" or remove the key to use the folder's tokenizer files");
  }
  if (fs::exists(json_path)) {
    return std::make_unique<tok::HfTokenizer>(json_path.string(), folder);
  }
  if (fs::exists(model_path)) {
    return std::make_unique<tok::SentencePieceTokenizer>(model_path.string(), folder);
  }
  const bool byte_sized = folder.vocab_size == 259 || folder.vocab_size == 260;
  if (folder.apportion_tokenizer || byte_sized) {
    return std::make_unique<tok::BuiltinByteTokenizer>();
  }
  throw TokenizerError(model_dir +
                       ": no tokenizer.json or tokenizer.model, and config.json does not say "
                       "\"apportion_tokenizer\": \"byte\"; copy the base model's tokenizer files "
                       "into the folder");
}

}  // namespace apportion
