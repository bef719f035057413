// SPDX-License-Identifier: GPL-3.0-or-later
// TextPattern matching and Hugging Face's split behaviours.
#include "core/tokenizer/text_pattern.h"

#include <algorithm>

#include "core/common/error.h"
#include "core/tokenizer/utf8.h"

namespace apportion::tok {

TextPattern TextPattern::parse(const JsonField& node) {
  node.require_object();
  TextPattern p;
  if (auto s = node.find("String")) {
    p.literal_ = s->as_string();
    return p;
  }
  if (auto r = node.find("Regex")) {
    const std::string pattern = r->as_string();
    try {
      p.regex_ = std::make_shared<const PcreRegex>(pattern);
    } catch (const TokenizerError& e) {
      r->fail(e.what(), "the pattern is not supported by PCRE2; report it with the file");
    }
    return p;
  }
  node.fail("expected {\"String\": …} or {\"Regex\": …}", "the file is corrupt");
}

TextPattern TextPattern::literal(std::string text) {
  TextPattern p;
  p.literal_ = std::move(text);
  return p;
}

TextPattern TextPattern::chars(std::function<bool(char32_t)> predicate) {
  TextPattern p;
  p.predicate_ = std::move(predicate);
  return p;
}

std::vector<RegexMatch> TextPattern::find_all(std::string_view text) const {
  if (regex_) return regex_->find_all(text);
  std::vector<RegexMatch> matches;
  if (predicate_) {
    size_t i = 0;
    while (i < text.size()) {
      const size_t start = i;
      if (predicate_(utf8_next(text, i))) matches.push_back({start, i});
    }
    return matches;
  }
  if (literal_.empty()) return matches;
  size_t pos = text.find(literal_);
  while (pos != std::string_view::npos) {
    matches.push_back({pos, pos + literal_.size()});
    pos = text.find(literal_, pos + literal_.size());
  }
  return matches;
}

std::string TextPattern::replace_all(std::string_view text, const std::string& content) const {
  std::string out;
  size_t last = 0;
  for (const RegexMatch& m : find_all(text)) {
    if (m.end == m.start) continue;
    out.append(text.substr(last, m.start - last));
    out += content;
    last = m.end;
  }
  out.append(text.substr(last));
  return out;
}

SplitBehavior parse_split_behavior(const JsonField& node) {
  const std::string b = node.as_string();
  if (b == "Removed") return SplitBehavior::Removed;
  if (b == "Isolated") return SplitBehavior::Isolated;
  if (b == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (b == "Contiguous") return SplitBehavior::Contiguous;
  node.fail("unsupported \"" + b + "\"",
            "use Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous");
}

std::vector<RegexMatch> split_ranges(size_t size,
                                     const std::vector<RegexMatch>& matches,
                                     SplitBehavior behavior,
                                     bool invert) {
  // Segments covering the whole text, each flagged as match or not (Pattern::find_matches).
  struct Segment {
    RegexMatch range;
    bool is_match;
  };
  std::vector<Segment> segments;
  size_t prev = 0;
  for (const RegexMatch& m : matches) {
    if (m.start > prev) segments.push_back({{prev, m.start}, invert});
    segments.push_back({m, !invert});
    prev = m.end;
  }
  if (prev < size) segments.push_back({{prev, size}, invert});

  std::vector<RegexMatch> parts;
  switch (behavior) {
    case SplitBehavior::Removed:
      for (const Segment& s : segments) {
        if (!s.is_match) parts.push_back(s.range);
      }
      break;
    case SplitBehavior::Isolated:
      for (const Segment& s : segments) parts.push_back(s.range);
      break;
    case SplitBehavior::MergedWithPrevious: {
      bool previous_match = false;
      for (const Segment& s : segments) {
        if (s.is_match && !previous_match && !parts.empty()) {
          parts.back().end = s.range.end;
        } else {
          parts.push_back(s.range);
        }
        previous_match = s.is_match;
      }
      break;
    }
    case SplitBehavior::MergedWithNext: {
      bool previous_match = false;
      for (auto it = segments.rbegin(); it != segments.rend(); ++it) {
        if (it->is_match && !previous_match && !parts.empty()) {
          parts.back().start = it->range.start;
        } else {
          parts.push_back(it->range);
        }
        previous_match = it->is_match;
      }
      std::reverse(parts.begin(), parts.end());
      break;
    }
    case SplitBehavior::Contiguous: {
      bool previous_match = false;
      for (const Segment& s : segments) {
        if (s.is_match == previous_match && !parts.empty()) {
          parts.back().end = s.range.end;
        } else {
          parts.push_back(s.range);
        }
        previous_match = s.is_match;
      }
      break;
    }
  }
  std::vector<RegexMatch> non_empty;
  non_empty.reserve(parts.size());
  for (const RegexMatch& r : parts) {
    if (r.end > r.start) non_empty.push_back(r);
  }
  return non_empty;
}

}  // namespace apportion::tok
