// SPDX-License-Identifier: GPL-3.0-or-later
// Hugging Face decoders for BPE tokenizers (byte-level and SentencePiece-style).
#include "core/tokenizer/token_decoder.h"

#include <cctype>
#include <cstdlib>

#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/text_pattern.h"
#include "core/tokenizer/utf8.h"

namespace apportion::tok {
namespace {

class SequenceDecoder : public TokenDecoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<TokenDecoder>> steps)
      : steps_(std::move(steps)) {}
  std::vector<DecodePiece> decode_chain(std::vector<DecodePiece> pieces) const override {
    for (const auto& step : steps_) pieces = step->decode_chain(std::move(pieces));
    return pieces;
  }

 private:
  std::vector<std::unique_ptr<TokenDecoder>> steps_;
};

/// Byte-level tokens back to bytes, then lossy UTF-8; a token with a character outside the
/// byte map contributes its own UTF-8 bytes (as Hugging Face does).
class ByteLevelDecoder : public TokenDecoder {
 public:
  std::vector<DecodePiece> decode_chain(std::vector<DecodePiece> pieces) const override {
    std::vector<DecodePiece> out;
    std::string bytes;
    bool open = false;
    for (DecodePiece& p : pieces) {
      if (p.added) {
        if (open) out.push_back({utf8_lossy(bytes), false}), bytes.clear(), open = false;
        out.push_back(std::move(p));
        continue;
      }
      if (!byte_level_decode(p.text, bytes)) bytes += p.text;
      open = true;
    }
    if (open) out.push_back({utf8_lossy(bytes), false});
    return out;
  }
};

class ReplaceDecoder : public TokenDecoder {
 public:
  ReplaceDecoder(TextPattern pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  std::vector<DecodePiece> decode_chain(std::vector<DecodePiece> pieces) const override {
    for (DecodePiece& p : pieces) p.text = pattern_.replace_all(p.text, content_);
    return pieces;
  }

 private:
  TextPattern pattern_;
  std::string content_;
};

/// Runs of <0xNN> tokens become their bytes when those form valid UTF-8, else one U+FFFD
/// per byte.
class ByteFallbackDecoder : public TokenDecoder {
 public:
  std::vector<DecodePiece> decode_chain(std::vector<DecodePiece> pieces) const override {
    std::vector<DecodePiece> out;
    std::string run;
    size_t run_length = 0;
    auto flush = [&] {
      if (run_length == 0) return;
      if (utf8_valid_prefix(run) == run.size()) {
        out.push_back({run, false});
      } else {
        for (size_t k = 0; k < run_length; ++k) out.push_back({"\xEF\xBF\xBD", false});
      }
      run.clear();
      run_length = 0;
    };
    for (DecodePiece& p : pieces) {
      const std::string& t = p.text;
      if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' &&
          std::isxdigit(static_cast<unsigned char>(t[3])) &&
          std::isxdigit(static_cast<unsigned char>(t[4]))) {
        run.push_back(static_cast<char>(std::strtol(t.substr(3, 2).c_str(), nullptr, 16)));
        ++run_length;
        continue;
      }
      flush();
      out.push_back(std::move(p));
    }
    flush();
    return out;
  }
};

class FuseDecoder : public TokenDecoder {
 public:
  std::vector<DecodePiece> decode_chain(std::vector<DecodePiece> pieces) const override {
    std::string all;
    for (const DecodePiece& p : pieces) all += p.text;
    return {DecodePiece{all, false}};
  }
};

/// Removes up to `start` leading and `stop` trailing copies of one character from each token.
class StripDecoder : public TokenDecoder {
 public:
  StripDecoder(std::string content, size_t start, size_t stop)
      : content_(std::move(content)), start_(start), stop_(stop) {}
  std::vector<DecodePiece> decode_chain(std::vector<DecodePiece> pieces) const override {
    const size_t n = content_.size();
    for (DecodePiece& p : pieces) {
      std::string& t = p.text;
      size_t begin = 0;
      for (size_t k = 0; k < start_ && t.compare(begin, n, content_) == 0; ++k) begin += n;
      size_t end = t.size();
      for (size_t k = 0; k < stop_ && end >= begin + n && t.compare(end - n, n, content_) == 0;
           ++k) {
        end -= n;
      }
      t = t.substr(begin, end - begin);
    }
    return pieces;
  }

 private:
  std::string content_;
  size_t start_, stop_;
};

/// '▁' -> ' ', except that the first token loses its '▁'s when a prefix was prepended.
class MetaspaceDecoder : public TokenDecoder {
 public:
  MetaspaceDecoder(std::string replacement, bool prepended)
      : replacement_(std::move(replacement)), prepended_(prepended) {}
  std::vector<DecodePiece> decode_chain(std::vector<DecodePiece> pieces) const override {
    const TextPattern marks = TextPattern::literal(replacement_);
    for (size_t i = 0; i < pieces.size(); ++i) {
      pieces[i].text = marks.replace_all(pieces[i].text, i == 0 && prepended_ ? "" : " ");
    }
    return pieces;
  }

 private:
  std::string replacement_;
  bool prepended_;
};

/// BPEDecoder: the end-of-word suffix becomes a space (none after the last token).
class BpeSuffixDecoder : public TokenDecoder {
 public:
  explicit BpeSuffixDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  std::vector<DecodePiece> decode_chain(std::vector<DecodePiece> pieces) const override {
    const TextPattern marks = TextPattern::literal(suffix_);
    for (size_t i = 0; i < pieces.size(); ++i) {
      pieces[i].text = marks.replace_all(pieces[i].text, i + 1 == pieces.size() ? "" : " ");
    }
    return pieces;
  }

 private:
  std::string suffix_;
};

}  // namespace

std::unique_ptr<TokenDecoder> parse_decoder(const JsonField& node) {
  if (node.is_null()) return nullptr;
  const std::string type = node.at("type").as_string();
  if (type == "Sequence") {
    const JsonField list = node.at("decoders");
    std::vector<std::unique_ptr<TokenDecoder>> steps;
    for (size_t i = 0; i < list.array_size(); ++i) {
      if (auto step = parse_decoder(list.at(i))) steps.push_back(std::move(step));
    }
    return std::make_unique<SequenceDecoder>(std::move(steps));
  }
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "Replace") {
    return std::make_unique<ReplaceDecoder>(TextPattern::parse(node.at("pattern")),
                                            node.at("content").as_string());
  }
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    const std::string content = node.get_string("content", " ");
    const int64_t start = node.get_int("start", 0), stop = node.get_int("stop", 0);
    if (content.empty() || start < 0 || stop < 0) {
      node.fail("needs a non-empty content and non-negative start/stop", "the file is corrupt");
    }
    return std::make_unique<StripDecoder>(content, static_cast<size_t>(start),
                                          static_cast<size_t>(stop));
  }
  if (type == "Metaspace") {
    bool prepended = node.get_bool("add_prefix_space", true);
    if (auto scheme = node.find("prepend_scheme")) prepended = scheme->as_string() != "never";
    return std::make_unique<MetaspaceDecoder>(node.get_string("replacement", "\xE2\x96\x81"),
                                              prepended);
  }
  if (type == "BPEDecoder") {
    return std::make_unique<BpeSuffixDecoder>(node.get_string("suffix", "</w>"));
  }
  node.at("type").fail("unsupported \"" + type + "\"",
                       "supported decoders: ByteLevel, Replace, ByteFallback, Fuse, Strip, "
                       "Metaspace, BPEDecoder, Sequence");
}

std::string run_decoder(const TokenDecoder* decoder, std::vector<DecodePiece> pieces) {
  std::string out;
  if (decoder == nullptr) {
    for (size_t i = 0; i < pieces.size(); ++i) {
      if (i > 0) out += ' ';
      out += pieces[i].text;
    }
    return out;
  }
  for (const DecodePiece& p : decoder->decode_chain(std::move(pieces))) out += p.text;
  return out;
}

}  // namespace apportion::tok
