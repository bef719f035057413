// SPDX-License-Identifier: GPL-3.0-or-later
// TokenDecoder: tokenizer.json's "decoder" (ByteLevel, Replace, ByteFallback, Fuse, Strip,
// Metaspace, BPEDecoder, Sequence) turning token strings back into text. Added tokens pass
// through ByteLevel untouched (tokenizers.js; identical to Rust for ASCII added tokens).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/tokenizer/json_field.h"

namespace apportion::tok {

/// A token string on its way back to text.
struct DecodePiece {
  std::string text;
  bool added = false;  ///< an added/special token (not byte-level encoded)
};

class TokenDecoder {
 public:
  virtual ~TokenDecoder() = default;
  /// One step of the chain (Hugging Face's decode_chain).
  virtual std::vector<DecodePiece> decode_chain(std::vector<DecodePiece> pieces) const = 0;
};

/// Parses a decoder object (null -> nullptr); TokenizerError names unsupported types.
std::unique_ptr<TokenDecoder> parse_decoder(const JsonField& node);

/// The decoded text: the chain's pieces concatenated, or with no decoder the tokens joined by
/// spaces (Hugging Face's fallback).
std::string run_decoder(const TokenDecoder* decoder, std::vector<DecodePiece> pieces);

}  // namespace apportion::tok
