// SPDX-License-Identifier: GPL-3.0-or-later
// Evaluation protocols (../shared/BENCHMARKS.md): how an eval split is scored, as a config value
// with a stable id recorded on every eval record (tag protocol/<task>, each predictions line).
// Torch-free: the spec, its parse/validation and defaults. The scoring itself is
// core/scoring/answer_rules.h (text rules) and core/train/protocol_eval.h (model calls).
//
// Intended usage:
//   ProtocolSpec p = parse_protocol(json, "data.datasets[0].protocol");  // strict, defaults filled
//   validate_protocol(p, "data.datasets[0].protocol");
//   std::string id = p.id;                                               // "mola_regex", …
//   nlohmann::json j = protocol_to_json(p);                             // every field written
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace apportion {

// Stable protocol ids (never rename: they are stored on every eval record).
/// Apportion's own: every answer token (and EOS) is the argmax under teacher forcing.
constexpr const char* kProtocolTeacherForced = "teacher_forced";
/// Greedy generation, first regex match (the jsonl suite's eval_mode "generate").
constexpr const char* kProtocolGreedyFirstMatch = "greedy_first_match";
/// (a) MoLA: greedy generation, all matches of the pattern; exactly one match counts, else a
/// parse failure counted wrong.
constexpr const char* kProtocolMolaRegex = "mola_regex";
/// (b) LLM-Adapters: beam search (num_beams), first match of the pattern; none counts wrong.
constexpr const char* kProtocolBeamFirstMatch = "beam_first_match";
/// (c) MoE-PEFT: argmax of the next-token distribution over a fixed label list.
constexpr const char* kProtocolLabelNextToken = "label_next_token";
/// (d) lm-evaluation-harness multiple choice: summed log-likelihood of each choice (acc) and
/// divided by the choice's byte length (acc_norm).
constexpr const char* kProtocolMcLoglik = "mc_loglik";
/// (e) lm-evaluation-harness GSM8K: few-shot, greedy until a stop string, `#### N` extraction,
/// exact match after removing "," and "$".
constexpr const char* kProtocolGsm8k = "gsm8k_hash";
/// (e') GuiLoMo math: greedy, "The answer is: (.*)</s>" on the output with special tokens kept,
/// numeric comparison when both sides parse as numbers, else exact string match.
constexpr const char* kProtocolMathAnswerIs = "math_answer_is";

/// How one eval split is scored. Fields a protocol does not use keep their defaults.
struct ProtocolSpec {
  std::string id = kProtocolTeacherForced;
  /// Answer regex (generation protocols). Empty: the protocol's default (answer_rules.h).
  std::string pattern;
  /// Generation length; 0: the protocol's default (128 mola_regex, 32 beam_first_match and
  /// greedy_first_match, 256 gsm8k_hash, 512 math_answer_is).
  int max_new_tokens = 0;
  /// beam_first_match: beams (LLM-Adapters: 4).
  int num_beams = 4;
  /// label_next_token: the label list (e.g. ["A","B","C","D","E"]); each must start with a
  /// distinct token.
  std::vector<std::string> labels;
  /// Few-shot examples drawn (seeded, without the scored example) from the dataset's train split,
  /// each rendered as prompt + answer and joined with "\n\n" before the prompt.
  int num_fewshot = 0;
  /// Generation stops when the decoded continuation contains one of these (gsm8k_hash default:
  /// "\n\n", "Question:"); the text from the stop string on is cut before extraction.
  std::vector<std::string> stop;
};

/// All known ids, in the order above.
const std::vector<std::string>& protocol_ids();
/// One line describing a protocol id (CLI help, GUI tooltips, table headers).
std::string protocol_description(const std::string& id);
/// Whether the protocol generates text (and so writes predictions with outputs).
bool protocol_generates(const std::string& id);

/// Strict parse of a protocol object (unknown keys rejected, ConfigError naming `path`). A bare
/// string is accepted as {"id": string}.
ProtocolSpec parse_protocol(const nlohmann::json& j, const std::string& path);
/// Range and consistency checks (known id, labels for label_next_token, compilable pattern…).
void validate_protocol(const ProtocolSpec& p, const std::string& path);
nlohmann::json protocol_to_json(const ProtocolSpec& p);

/// The protocol's effective generation length and pattern (the defaults filled in).
int protocol_max_new_tokens(const ProtocolSpec& p);
std::string protocol_pattern(const ProtocolSpec& p);

}  // namespace apportion
