// SPDX-License-Identifier: GPL-3.0-or-later
// The Hugging Face pre-tokenizers of causal-LM tokenizers (GPT-2, LLaMA, Qwen, Mistral).
#include "core/tokenizer/pre_tokenizer.h"

#include "core/tokenizer/byte_level.h"
#include "core/tokenizer/text_pattern.h"
#include "core/tokenizer/unicode_text.h"

namespace apportion::tok {

const char* const kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

namespace {

/// Splits every piece at the pattern's matches; a part keeps at_start when it begins its piece.
void split_pieces(std::vector<PreToken>& pieces,
                  const TextPattern& pattern,
                  SplitBehavior behavior,
                  bool invert) {
  std::vector<PreToken> out;
  out.reserve(pieces.size());
  for (PreToken& piece : pieces) {
    const auto matches = pattern.find_all(piece.text);
    for (const RegexMatch& r : split_ranges(piece.text.size(), matches, behavior, invert)) {
      out.push_back({piece.text.substr(r.start, r.end - r.start), piece.at_start && r.start == 0});
    }
  }
  pieces = std::move(out);
}

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps)
      : steps_(std::move(steps)) {}
  void pre_tokenize(std::vector<PreToken>& pieces) const override {
    for (const auto& step : steps_) step->pre_tokenize(pieces);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

class SplitPreTokenizer : public PreTokenizer {
 public:
  SplitPreTokenizer(TextPattern pattern, SplitBehavior behavior, bool invert)
      : pattern_(std::move(pattern)), behavior_(behavior), invert_(invert) {}
  void pre_tokenize(std::vector<PreToken>& pieces) const override {
    split_pieces(pieces, pattern_, behavior_, invert_);
  }

 private:
  TextPattern pattern_;
  SplitBehavior behavior_;
  bool invert_;
};

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
      : add_prefix_space_(add_prefix_space), use_regex_(use_regex) {
    if (use_regex_) {
      static const TextPattern gpt2 = TextPattern::parse(
          JsonField(nlohmann::json{{"Regex", kGpt2Pattern}}, "(built-in)", "ByteLevel.regex"));
      gpt2_ = &gpt2;
    }
  }
  void pre_tokenize(std::vector<PreToken>& pieces) const override {
    if (add_prefix_space_) {
      for (PreToken& p : pieces) {
        if (p.text.empty() || p.text[0] != ' ') p.text.insert(0, 1, ' ');
      }
    }
    if (use_regex_) split_pieces(pieces, *gpt2_, SplitBehavior::Isolated, false);
    for (PreToken& p : pieces) p.text = byte_level_encode(p.text);
  }

 private:
  bool add_prefix_space_;
  bool use_regex_;
  const TextPattern* gpt2_ = nullptr;
};

enum class PrependScheme {
  Always,
  First,
  Never,
};

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)),
        scheme_(scheme),
        split_(split),
        spaces_(TextPattern::literal(" ")),
        marks_(TextPattern::literal(replacement_)) {}
  void pre_tokenize(std::vector<PreToken>& pieces) const override {
    for (PreToken& p : pieces) {
      p.text = spaces_.replace_all(p.text, replacement_);
      const bool starts = p.text.compare(0, replacement_.size(), replacement_) == 0;
      if (!starts &&
          (scheme_ == PrependScheme::Always || (scheme_ == PrependScheme::First && p.at_start))) {
        p.text.insert(0, replacement_);
      }
    }
    if (split_) split_pieces(pieces, marks_, SplitBehavior::MergedWithNext, false);
  }

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
  TextPattern spaces_;
  TextPattern marks_;
};

std::unique_ptr<PreTokenizer> parse_metaspace(const JsonField& node) {
  const std::string replacement = node.get_string("replacement", "\xE2\x96\x81");
  if (replacement.empty()) node.at("replacement").fail("must not be empty", "use \"▁\"");
  PrependScheme scheme =
      node.get_bool("add_prefix_space", true) ? PrependScheme::Always : PrependScheme::Never;
  if (auto s = node.find("prepend_scheme")) {
    const std::string v = s->as_string();
    if (v == "always") {
      scheme = PrependScheme::Always;
    } else if (v == "first") {
      scheme = PrependScheme::First;
    } else if (v == "never") {
      scheme = PrependScheme::Never;
    } else {
      s->fail("unsupported \"" + v + "\"", "use \"always\", \"first\" or \"never\"");
    }
  }
  return std::make_unique<MetaspacePreTokenizer>(replacement, scheme, node.get_bool("split", true));
}

}  // namespace

std::unique_ptr<PreTokenizer> parse_pre_tokenizer(const JsonField& node) {
  if (node.is_null()) return nullptr;
  const std::string type = node.at("type").as_string();
  if (type == "Sequence") {
    const JsonField list = node.at("pretokenizers");
    std::vector<std::unique_ptr<PreTokenizer>> steps;
    for (size_t i = 0; i < list.array_size(); ++i) {
      if (auto step = parse_pre_tokenizer(list.at(i))) steps.push_back(std::move(step));
    }
    return std::make_unique<SequencePreTokenizer>(std::move(steps));
  }
  if (type == "Split") {
    return std::make_unique<SplitPreTokenizer>(TextPattern::parse(node.at("pattern")),
                                               parse_split_behavior(node.at("behavior")),
                                               node.get_bool("invert", false));
  }
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevelPreTokenizer>(node.get_bool("add_prefix_space", true),
                                                   node.get_bool("use_regex", true));
  }
  if (type == "Metaspace") return parse_metaspace(node);
  if (type == "Digits") {
    return std::make_unique<SplitPreTokenizer>(TextPattern::chars(is_numeric_char),
                                               node.get_bool("individual_digits", false)
                                                   ? SplitBehavior::Isolated
                                                   : SplitBehavior::Contiguous,
                                               false);
  }
  if (type == "Whitespace") {
    return std::make_unique<SplitPreTokenizer>(
        TextPattern::parse(
            JsonField(nlohmann::json{{"Regex", R"(\w+|[^\w\s]+)"}}, node.file(), node.path())),
        SplitBehavior::Removed, true);
  }
  if (type == "WhitespaceSplit") {
    return std::make_unique<SplitPreTokenizer>(TextPattern::chars(is_unicode_whitespace),
                                               SplitBehavior::Removed, false);
  }
  node.at("type").fail("unsupported \"" + type + "\"",
                       "supported pre-tokenizers: Sequence, Split, ByteLevel, Metaspace, "
                       "Digits, Whitespace, WhitespaceSplit");
}

}  // namespace apportion::tok
