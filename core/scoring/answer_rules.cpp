// SPDX-License-Identifier: GPL-3.0-or-later
// The protocols' text rules (answer extraction and comparison) and the few-shot helpers.
#include "core/scoring/answer_rules.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <locale>
#include <map>
#include <memory>
#include <regex>
#include <sstream>

#include "core/common/error.h"

namespace apportion {
namespace {

/// Compiled patterns, cached per thread (an eval split scores thousands of outputs with one).
const std::regex& compiled(const std::string& pattern) {
  thread_local std::map<std::string, std::unique_ptr<std::regex>> cache;
  auto it = cache.find(pattern);
  if (it != cache.end()) return *it->second;
  if (cache.size() > 64) cache.clear();
  std::unique_ptr<std::regex> re;
  try {
    re = std::make_unique<std::regex>(pattern);
  } catch (const std::regex_error& e) {
    throw ConfigError("answer pattern \"" + pattern + "\" is not a valid regular expression (" +
                      e.what() + "); fix the protocol's pattern");
  }
  return *cache.emplace(pattern, std::move(re)).first->second;
}

/// The first match's answer group, or false when the pattern does not match.
bool first_match(const std::string& text, const std::string& pattern, std::string& out) {
  const std::regex& re = compiled(pattern);
  std::smatch m;
  if (!std::regex_search(text, m, re)) return false;
  out = m[re.mark_count() > 0 ? 1 : 0].str();
  return true;
}

std::string remove_all(std::string s, char c) {
  s.erase(std::remove(s.begin(), s.end(), c), s.end());
  return s;
}

/// The splitmix64 generator of core/data/rng.h (same constants, so the same stream), repeated
/// here because ap_core does not reach into the torch library's folders.
class FewshotRng {
 public:
  explicit FewshotRng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n) by rejection sampling (no modulo bias).
  uint64_t uniform(uint64_t n) {
    if (n <= 1) return 0;
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x = next();
    while (x >= limit) x = next();
    return x % n;
  }

 private:
  uint64_t state_;
};

}  // namespace

std::string trim_text(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n\f\v");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n\f\v");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> find_all_matches(const std::string& text, const std::string& pattern) {
  const std::regex& re = compiled(pattern);
  const int group = re.mark_count() > 0 ? 1 : 0;
  std::vector<std::string> out;
  // sregex_iterator continues after each match (and steps past an empty one), as re.findall.
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back((*it)[group].str());
  }
  return out;
}

AnswerMatch score_mola_regex(const std::string& output,
                             const std::string& gold,
                             const std::string& pattern) {
  // MoLA: `re.findall(pattern, output)`; a prediction only when there is exactly one match.
  const std::vector<std::string> matches = find_all_matches(output, pattern);
  AnswerMatch m;
  if (matches.size() != 1) return m;  // none or ambiguous: a failure, counted wrong
  m.extracted = trim_text(matches.front());
  m.parse_ok = true;
  m.correct = m.extracted == trim_text(gold);
  return m;
}

AnswerMatch score_first_match(const std::string& output,
                              const std::string& gold,
                              const std::string& pattern) {
  AnswerMatch m;
  std::string found;
  if (!first_match(output, pattern, found)) return m;
  m.extracted = trim_text(found);
  m.parse_ok = true;
  m.correct = m.extracted == trim_text(gold);
  return m;
}

std::string cut_at_stop(const std::string& text, const std::vector<std::string>& stop) {
  size_t cut = text.size();
  for (const auto& s : stop) {
    if (s.empty()) continue;
    const size_t at = text.find(s);
    if (at != std::string::npos) cut = std::min(cut, at);
  }
  return text.substr(0, cut);
}

std::vector<std::string> protocol_stop(const ProtocolSpec& spec) {
  if (!spec.stop.empty()) return spec.stop;
  if (spec.id == kProtocolGsm8k) return {"\n\n", "Question:"};
  return {};
}

std::string gsm8k_normalize(const std::string& s) {
  // lm-eval gsm8k.yaml, metric exact_match: regexes_to_ignore [",", "\\$", "(?s).*#### ",
  // "\\.$"], ignore_case true, ignore_punctuation false; each regex is re.sub'd to "".
  std::string t = remove_all(remove_all(s, ','), '$');
  const size_t hash = t.rfind("#### ");  // greedy "(?s).*#### " eats through the last one
  if (hash != std::string::npos) t = t.substr(hash + 5);
  // Python's "$" also matches before a final "\n".
  if (!t.empty() && t.back() == '.') {
    t.pop_back();
  } else if (t.size() >= 2 && t[t.size() - 1] == '\n' && t[t.size() - 2] == '.') {
    t.erase(t.size() - 2, 1);
  }
  for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // lm-eval compares without trimming; its prediction is already stripped by the regex filter
  // and its reference is `answer.split('####')[-1].strip()`, so trimming here changes nothing
  // for its inputs and tolerates a gold with stray whitespace.
  return trim_text(t);
}

AnswerMatch score_gsm8k(const std::string& continuation,
                        const std::string& gold,
                        const std::string& pattern,
                        const std::vector<std::string>& stop) {
  // lm-eval: generation until a stop string, the regex filter (first match, stripped; none →
  // "[invalid]"), then exact_match on the normalised strings.
  const std::string text = cut_at_stop(continuation, stop);
  AnswerMatch m;
  std::string found;
  if (!first_match(text, pattern.empty() ? "#### (\\-?[0-9\\.\\,]+)" : pattern, found)) return m;
  m.extracted = trim_text(found);
  m.parse_ok = true;
  m.correct = gsm8k_normalize(m.extracted) == gsm8k_normalize(gold);
  return m;
}

bool parse_number(const std::string& s, double& value) {
  const std::string t = trim_text(remove_all(s, ','));
  if (t.empty()) return false;
  std::istringstream in(t);
  in.imbue(std::locale::classic());
  double v = 0.0;
  in >> v;
  if (in.fail()) return false;
  in.peek();  // sets eof when everything was consumed
  if (!in.eof() || !std::isfinite(v)) return false;
  value = v;
  return true;
}

AnswerMatch score_math_answer_is(const std::string& output_with_specials,
                                 const std::string& gold,
                                 const std::string& pattern) {
  // GuiLoMo's math scorer could not be located (its repository is not in our code index), so
  // the comparison is ours: the MetaMath-style rule its pattern comes from, numbers within an
  // absolute 1e-4 (kMathAnswerTolerance), anything else exact after trimming.
  AnswerMatch m;
  std::string found;
  if (!first_match(output_with_specials, pattern.empty() ? "The answer is: (.*)</s>" : pattern,
                   found)) {
    return m;
  }
  m.extracted = trim_text(found);
  m.parse_ok = true;
  double a = 0.0, b = 0.0;
  if (parse_number(m.extracted, a) && parse_number(gold, b)) {
    m.correct = std::fabs(a - b) < kMathAnswerTolerance;
  } else {
    m.correct = m.extracted == trim_text(gold);
  }
  return m;
}

AnswerMatch score_answer(const ProtocolSpec& spec,
                         const std::string& output,
                         const std::string& gold) {
  const std::string pattern = protocol_pattern(spec);
  const std::vector<std::string> stop = protocol_stop(spec);
  if (spec.id == kProtocolMolaRegex) {
    return score_mola_regex(cut_at_stop(output, stop), gold, pattern);
  }
  if (spec.id == kProtocolGreedyFirstMatch || spec.id == kProtocolBeamFirstMatch) {
    return score_first_match(cut_at_stop(output, stop), gold, pattern);
  }
  if (spec.id == kProtocolGsm8k) return score_gsm8k(output, gold, pattern, stop);
  if (spec.id == kProtocolMathAnswerIs) {
    return score_math_answer_is(cut_at_stop(output, stop), gold, pattern);
  }
  throw ConfigError("protocol \"" + spec.id +
                    "\" has no text rule (it scores log-likelihoods or teacher-forced tokens)");
}

std::vector<size_t> fewshot_indices(size_t n_pool, int k, uint64_t seed, int64_t exclude_index) {
  std::vector<size_t> candidates;
  candidates.reserve(n_pool);
  for (size_t i = 0; i < n_pool; ++i) {
    if (static_cast<int64_t>(i) != exclude_index) candidates.push_back(i);
  }
  const size_t take = std::min(candidates.size(), static_cast<size_t>(std::max(0, k)));
  FewshotRng rng(seed);
  for (size_t i = 0; i < take; ++i) {  // partial Fisher-Yates: position i from [i, n)
    const size_t j = i + static_cast<size_t>(rng.uniform(candidates.size() - i));
    std::swap(candidates[i], candidates[j]);
  }
  candidates.resize(take);
  return candidates;
}

std::string join_fewshot(const std::vector<std::string>& shots, const std::string& prompt) {
  std::string out;
  for (const auto& s : shots) out += s + "\n\n";
  return out + prompt;
}

}  // namespace apportion
