// SPDX-License-Identifier: GPL-3.0-or-later
// Protocol specs: ids, descriptions, defaults, strict parse and validation.
#include "core/scoring/protocol.h"

#include <algorithm>
#include <regex>
#include <set>

#include "core/config/json_reader.h"

namespace apportion {

const std::vector<std::string>& protocol_ids() {
  static const std::vector<std::string> ids = {kProtocolTeacherForced,  kProtocolGreedyFirstMatch,
                                               kProtocolMolaRegex,      kProtocolBeamFirstMatch,
                                               kProtocolLabelNextToken, kProtocolMcLoglik,
                                               kProtocolGsm8k,          kProtocolMathAnswerIs};
  return ids;
}

std::string protocol_description(const std::string& id) {
  if (id == kProtocolTeacherForced) {
    return "teacher-forced exact match: every answer token and EOS is the argmax (Apportion)";
  }
  if (id == kProtocolGreedyFirstMatch) return "greedy generation, first regex match";
  if (id == kProtocolMolaRegex) {
    return "(a) MoLA: greedy generation, exactly one regex match counts, else a failure";
  }
  if (id == kProtocolBeamFirstMatch) {
    return "(b) LLM-Adapters: beam search, first regex match, none counts wrong";
  }
  if (id == kProtocolLabelNextToken) {
    return "(c) MoE-PEFT: argmax of the next token over the label list";
  }
  if (id == kProtocolMcLoglik) {
    return "(d) lm-evaluation-harness multiple choice: summed log-likelihood (acc) and per "
           "byte (acc_norm)";
  }
  if (id == kProtocolGsm8k) {
    return "(e) lm-evaluation-harness GSM8K: greedy until a stop string, '#### N', exact match";
  }
  if (id == kProtocolMathAnswerIs) {
    return "(e') GuiLoMo math: 'The answer is: …', numeric comparison";
  }
  return "unknown protocol";
}

bool protocol_generates(const std::string& id) {
  return id == kProtocolGreedyFirstMatch || id == kProtocolMolaRegex ||
         id == kProtocolBeamFirstMatch || id == kProtocolGsm8k || id == kProtocolMathAnswerIs;
}

ProtocolSpec parse_protocol(const nlohmann::json& j, const std::string& path) {
  ProtocolSpec p;
  if (j.is_string()) {
    p.id = j.get<std::string>();
    return p;
  }
  if (!j.is_object()) {
    config_fail(path,
                "must be a protocol id string or an object {\"id\": …}, got " + json_type_name(j));
  }
  JsonObjectReader r(j, path);
  r.get("id", p.id);
  r.get("pattern", p.pattern);
  r.get("max_new_tokens", p.max_new_tokens);
  r.get("num_beams", p.num_beams);
  r.get("labels", p.labels);
  r.get("num_fewshot", p.num_fewshot);
  r.get("stop", p.stop);
  r.finish();
  return p;
}

void validate_protocol(const ProtocolSpec& p, const std::string& path) {
  const auto& ids = protocol_ids();
  if (std::find(ids.begin(), ids.end(), p.id) == ids.end()) {
    std::string known;
    for (const auto& id : ids) known += (known.empty() ? "" : ", ") + id;
    config_fail(path + ".id", "unknown protocol \"" + p.id + "\" (known: " + known + ")");
  }
  config_require(p.max_new_tokens >= 0 && p.max_new_tokens <= 4096, path + ".max_new_tokens",
                 "must be in 0..4096 (0: the protocol's default)" + got(p.max_new_tokens));
  config_require(p.num_beams >= 1 && p.num_beams <= 64, path + ".num_beams",
                 "must be in 1..64" + got(p.num_beams));
  config_require(p.num_fewshot >= 0 && p.num_fewshot <= 64, path + ".num_fewshot",
                 "must be in 0..64" + got(p.num_fewshot));
  if (p.id == kProtocolLabelNextToken) {
    config_require(p.labels.size() >= 2, path + ".labels",
                   "label_next_token needs at least two labels, e.g. [\"A\",\"B\",\"C\",\"D\"]");
    std::set<std::string> seen;
    for (const auto& l : p.labels) {
      config_require(!l.empty(), path + ".labels", "a label is empty");
      config_require(seen.insert(l).second, path + ".labels", "label \"" + l + "\" is repeated");
    }
  } else {
    config_require(p.labels.empty(), path + ".labels",
                   "only label_next_token uses labels (protocol " + p.id + ")");
  }
  if (p.id == kProtocolBeamFirstMatch) {
    config_require(!p.pattern.empty(), path + ".pattern",
                   "beam_first_match needs the task's answer pattern, e.g. "
                   "\"answer[1-5]\" or \"true|false\" (BENCHMARKS.md, protocol B)");
  }
  const std::string pattern = protocol_pattern(p);
  if (!pattern.empty()) {
    try {
      const std::regex re(pattern);
      (void)re;
    } catch (const std::regex_error& e) {
      config_fail(path + ".pattern",
                  std::string("not a valid regular expression (") + e.what() + ")" + got(pattern));
    }
  }
}

nlohmann::json protocol_to_json(const ProtocolSpec& p) {
  return {{"id", p.id},
          {"pattern", p.pattern},
          {"max_new_tokens", p.max_new_tokens},
          {"num_beams", p.num_beams},
          {"labels", p.labels},
          {"num_fewshot", p.num_fewshot},
          {"stop", p.stop}};
}

int protocol_max_new_tokens(const ProtocolSpec& p) {
  if (p.max_new_tokens > 0) return p.max_new_tokens;
  if (p.id == kProtocolMolaRegex) return 128;
  if (p.id == kProtocolGsm8k) return 256;
  if (p.id == kProtocolMathAnswerIs) return 512;
  return 32;
}

std::string protocol_pattern(const ProtocolSpec& p) {
  if (!p.pattern.empty()) return p.pattern;
  if (p.id == kProtocolMolaRegex) return "The answer is ([A-Z]).";
  if (p.id == kProtocolGreedyFirstMatch) return "The answer is ([A-Z])";
  if (p.id == kProtocolGsm8k) return "#### (\\-?[0-9\\.\\,]+)";
  if (p.id == kProtocolMathAnswerIs) return "The answer is: (.*)</s>";
  return {};
}

}  // namespace apportion
