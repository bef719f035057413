// SPDX-License-Identifier: GPL-3.0-or-later
// The Hugging Face normalizers a causal-LM tokenizer.json uses.
#include "core/tokenizer/normalizer.h"

#include <vector>

#include "core/tokenizer/text_pattern.h"
#include "core/tokenizer/unicode_text.h"
#include "core/tokenizer/utf8.h"

namespace apportion::tok {
namespace {

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps)
      : steps_(std::move(steps)) {}
  std::string normalize(std::string text) const override {
    for (const auto& step : steps_) text = step->normalize(std::move(text));
    return text;
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

class UnicodeNormalizer : public Normalizer {
 public:
  explicit UnicodeNormalizer(NormalForm form) : form_(form) {}
  std::string normalize(std::string text) const override { return unicode_normalize(text, form_); }

 private:
  NormalForm form_;
};

class LowercaseNormalizer : public Normalizer {
 public:
  std::string normalize(std::string text) const override { return unicode_lowercase(text); }
};

class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prefix) : prefix_(std::move(prefix)) {}
  std::string normalize(std::string text) const override {
    return text.empty() ? text : prefix_ + text;
  }

 private:
  std::string prefix_;
};

class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(TextPattern pattern, std::string content)
      : pattern_(std::move(pattern)), content_(std::move(content)) {}
  std::string normalize(std::string text) const override {
    return pattern_.replace_all(text, content_);
  }

 private:
  TextPattern pattern_;
  std::string content_;
};

class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  std::string normalize(std::string text) const override {
    size_t begin = 0, end = text.size();
    if (left_) {
      while (begin < text.size()) {
        size_t next = begin;
        if (!is_unicode_whitespace(utf8_next(text, next))) break;
        begin = next;
      }
    }
    if (right_) {
      size_t i = begin;
      size_t last_non_space = begin;
      while (i < text.size()) {
        if (!is_unicode_whitespace(utf8_next(text, i))) last_non_space = i;
      }
      end = last_non_space;
    }
    return text.substr(begin, end - begin);
  }

 private:
  bool left_, right_;
};

class StripAccentsNormalizer : public Normalizer {
 public:
  std::string normalize(std::string text) const override {
    std::string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
      const size_t start = i;
      if (!is_combining_mark(utf8_next(text, i))) out.append(text, start, i - start);
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<Normalizer> parse_normalizer(const JsonField& node) {
  if (node.is_null()) return nullptr;
  const std::string type = node.at("type").as_string();
  if (type == "Sequence") {
    const JsonField list = node.at("normalizers");
    std::vector<std::unique_ptr<Normalizer>> steps;
    for (size_t i = 0; i < list.array_size(); ++i) {
      if (auto step = parse_normalizer(list.at(i))) steps.push_back(std::move(step));
    }
    return std::make_unique<SequenceNormalizer>(std::move(steps));
  }
  if (type == "NFC") return std::make_unique<UnicodeNormalizer>(NormalForm::Nfc);
  if (type == "NFD") return std::make_unique<UnicodeNormalizer>(NormalForm::Nfd);
  if (type == "NFKC") return std::make_unique<UnicodeNormalizer>(NormalForm::Nfkc);
  if (type == "NFKD") return std::make_unique<UnicodeNormalizer>(NormalForm::Nfkd);
  if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (type == "Prepend") return std::make_unique<PrependNormalizer>(node.at("prepend").as_string());
  if (type == "Replace") {
    return std::make_unique<ReplaceNormalizer>(TextPattern::parse(node.at("pattern")),
                                               node.at("content").as_string());
  }
  if (type == "Strip") {
    return std::make_unique<StripNormalizer>(node.get_bool("strip_left", true),
                                             node.get_bool("strip_right", true));
  }
  if (type == "StripAccents") return std::make_unique<StripAccentsNormalizer>();
  node.at("type").fail("unsupported \"" + type + "\"",
                       "supported normalizers: Sequence, NFC, NFD, NFKC, NFKD, Lowercase, "
                       "Prepend, Replace, Strip, StripAccents");
}

}  // namespace apportion::tok
