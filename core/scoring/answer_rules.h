// SPDX-License-Identifier: GPL-3.0-or-later
// The text rules of the evaluation protocols (protocol.h, ../shared/BENCHMARKS.md): how a
// generated output is turned into an extracted answer, whether it parsed, and whether it is
// correct against the gold answer; plus the few-shot prompt helpers. Pure functions on strings
// (torch-free); the model calls are core/train/protocol_eval.h.
//
// Intended usage:
//   AnswerMatch m = score_answer(spec, output, gold);              // dispatch on spec.id
//   AnswerMatch a = score_mola_regex("The answer is B.", "B", "The answer is ([A-Z]).");
//   // a.extracted == "B", a.parse_ok, a.correct
//   std::vector<size_t> shots = fewshot_indices(pool.size(), 5, seed, /*exclude_index=*/-1);
//   std::string prompt = join_fewshot({"Q: 1+1\nA: 2"}, "Q: 2+2\nA:");
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/scoring/protocol.h"

namespace apportion {

/// The outcome of one text rule. A parse failure (parse_ok false) always counts wrong.
struct AnswerMatch {
  std::string extracted;  ///< the extracted answer (empty when nothing parsed)
  bool parse_ok = false;
  bool correct = false;
};

/// Strips leading and trailing ASCII whitespace.
std::string trim_text(const std::string& s);

/// All matches of `pattern` in `text`, non-overlapping, left to right (Python's re.findall):
/// each match's group 1 when the pattern has a group, else the whole match (group 0).
/// ECMAScript syntax (std::regex): '.' matches anything but a line terminator (\n, \r; Python's
/// only excludes \n). Throws ConfigError for an invalid pattern.
std::vector<std::string> find_all_matches(const std::string& text, const std::string& pattern);

/// (a) MoLA: every match of `pattern`; exactly one match → compared with `gold` (both trimmed,
/// exact); zero or several matches → a parse failure. The default pattern's final '.' is an
/// unescaped wildcard, as in MoLA's code ("The answer is B!" matches).
AnswerMatch score_mola_regex(const std::string& output,
                             const std::string& gold,
                             const std::string& pattern);

/// greedy_first_match and (b) beam_first_match: the first match (trimmed) compared exactly with
/// the trimmed gold; no match → a parse failure.
AnswerMatch score_first_match(const std::string& output,
                              const std::string& gold,
                              const std::string& pattern);

/// `text` cut at the earliest occurrence of any stop string (lm-eval's `until`).
std::string cut_at_stop(const std::string& text, const std::vector<std::string>& stop);

/// The stop strings a protocol uses: spec.stop, else {"\n\n", "Question:"} for gsm8k_hash,
/// else none.
std::vector<std::string> protocol_stop(const ProtocolSpec& spec);

/// lm-eval's exact_match normalisation for GSM8K (its regexes_to_ignore, in order: ",", "\$",
/// "(?s).*#### ", "\.$", then ignore_case), applied to prediction and reference alike.
std::string gsm8k_normalize(const std::string& s);

/// (e) lm-eval GSM8K ("strict-match"): `continuation` cut at the first stop string, the first
/// match of `pattern` (default "#### (\-?[0-9\.\,]+)"), stripped; no match → a parse failure.
/// Correct when gsm8k_normalize(extracted) == gsm8k_normalize(gold); the gold may be the bare
/// number or the whole reference solution ("… #### 1,234").
AnswerMatch score_gsm8k(const std::string& continuation,
                        const std::string& gold,
                        const std::string& pattern,
                        const std::vector<std::string>& stop);

/// Parses a whole string (trimmed, "," removed) as a number; false when anything is left over.
bool parse_number(const std::string& s, double& value);

/// Absolute tolerance of math_answer_is's numeric comparison.
constexpr double kMathAnswerTolerance = 1e-4;

/// (e') GuiLoMo math: the first match of `pattern` (default "The answer is: (.*)</s>") in the
/// output decoded WITH special tokens; when both the extracted text and the gold parse as
/// numbers (parse_number), correct iff |a − b| < kMathAnswerTolerance, else an exact comparison
/// of the trimmed strings. No match → a parse failure.
AnswerMatch score_math_answer_is(const std::string& output_with_specials,
                                 const std::string& gold,
                                 const std::string& pattern);

/// Applies the rule of spec.id (a generation protocol) with the protocol's effective pattern
/// and stop strings. `output` is the decoded generation (with special tokens for
/// math_answer_is). Throws ConfigError for a protocol without a text rule.
AnswerMatch score_answer(const ProtocolSpec& spec,
                         const std::string& output,
                         const std::string& gold);

/// `k` distinct indices of a pool of `n_pool` examples (fewer when the pool is smaller), drawn
/// without replacement in a seeded order that is the same on every platform (SplitMix64 + partial
/// Fisher-Yates); `exclude_index` (-1: none) is never drawn (the scored example itself).
std::vector<size_t> fewshot_indices(size_t n_pool, int k, uint64_t seed, int64_t exclude_index);

/// The shots then the prompt, joined with "\n\n" (lm-eval's fewshot_delimiter); no shots: the
/// prompt unchanged.
std::string join_fewshot(const std::vector<std::string>& shots, const std::string& prompt);

}  // namespace apportion
