// SPDX-License-Identifier: GPL-3.0-or-later
// Tokenizer: the torch-free interface every tokenizer implements (the tiny backbone's byte
// tokenizer, Hugging Face tokenizer.json models, SentencePiece tokenizer.model), and the factory
// that picks one for a model folder. Token ids must equal Hugging Face's for the same files.
//
// Intended usage:
//   std::unique_ptr<Tokenizer> tok = load_tokenizer("models/llama3-8b");  // TokenizerError
//   std::vector<int64_t> ids = tok->encode("Hello", /*add_special_tokens=*/true);
//   std::string text = tok->decode(ids, /*skip_special_tokens=*/true);
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace apportion {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  /// Text -> ids. With add_special_tokens, adds what HF's post-processor adds (e.g. BOS for
  /// LLaMA); special/added tokens written in the text are matched as HF does.
  virtual std::vector<int64_t> encode(const std::string& text, bool add_special_tokens) const = 0;
  /// Ids -> text (HF decode semantics); ids outside the vocabulary are a TokenizerError.
  virtual std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const = 0;
  virtual int64_t vocab_size() const = 0;
  virtual std::optional<int64_t> bos_id() const = 0;
  virtual std::optional<int64_t> eos_id() const = 0;
  /// Padding id: the tokenizer's own, else what the model folder's config says, else 0.
  virtual int64_t pad_id() const = 0;
  /// Token string of an id, and the id of a token string (special tokens included).
  virtual std::optional<std::string> id_to_token(int64_t id) const = 0;
  virtual std::optional<int64_t> token_to_id(const std::string& token) const = 0;
  /// "byte", "bpe-bytelevel", "bpe-sentencepiece", "sentencepiece-model", …
  virtual std::string kind() const = 0;
};

/// Picks the tokenizer of a model folder: tokenizer.json if present, else tokenizer.model
/// (libsentencepiece), else the built-in byte tokenizer when config.json says so
/// ("apportion_tokenizer": "byte", which `apportion pretrain` writes). TokenizerError names the
/// file, field or offset and what to do.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& model_dir);

}  // namespace apportion
