// SPDX-License-Identifier: GPL-3.0-or-later
// evaluate_protocol: one entry point that scores an eval split under any protocol but
// teacher_forced (see protocol_eval.h).
#include "core/train/protocol_eval.h"

#include <algorithm>

#include "core/common/error.h"
#include "core/model/beam_search.h"
#include "core/model/generation.h"
#include "core/scoring/answer_rules.h"
#include "core/train/choice_scoring.h"

namespace apportion {
namespace {

std::string regex_escape(const std::string& s) {
  static const std::string special = "\\^$.|?*+()[]{}/";
  std::string out;
  for (char c : s) {
    if (special.find(c) != std::string::npos) out += '\\';
    out += c;
  }
  return out;
}

/// GuiLoMo's pattern ends in LLaMA-2's EOS text "</s>"; other tokenizers decode their EOS
/// differently, so the literal stands for any of the stop ids' token texts.
std::string pattern_for_eos(const std::string& pattern,
                            const Tokenizer& tok,
                            const std::vector<int64_t>& eos) {
  const std::string literal = "</s>";
  const size_t at = pattern.find(literal);
  if (at == std::string::npos) return pattern;
  std::vector<std::string> texts;
  for (int64_t id : eos) {
    if (auto t = tok.id_to_token(id)) {
      if (std::find(texts.begin(), texts.end(), *t) == texts.end()) texts.push_back(*t);
    }
  }
  if (texts.empty() || (texts.size() == 1 && texts.front() == literal)) return pattern;
  std::string alt = "(?:";
  for (size_t i = 0; i < texts.size(); ++i) alt += (i ? "|" : "") + regex_escape(texts[i]);
  alt += ")";
  std::string out = pattern;
  for (size_t p = out.find(literal); p != std::string::npos; p = out.find(literal, p)) {
    out.replace(p, literal.size(), alt);
    p += alt.size();
  }
  return out;
}

/// Drops the oldest prompt tokens so at most `limit` remain, keeping a leading BOS.
std::vector<int64_t> cut_prompt(std::vector<int64_t> ids, size_t limit, const Tokenizer& tok) {
  if (ids.size() <= limit) return ids;
  const bool bos = tok.bos_id() && ids.front() == *tok.bos_id();
  std::vector<int64_t> cut(ids.end() - static_cast<std::ptrdiff_t>(limit - (bos ? 1 : 0)),
                           ids.end());
  if (bos) cut.insert(cut.begin(), ids.front());
  return cut;
}

double fraction(int64_t n, int64_t total) {
  return total == 0 ? 0.0 : static_cast<double>(n) / static_cast<double>(total);
}

void score_generation(TransformerLM& model,
                      const Tokenizer& tok,
                      const std::vector<Example>& examples,
                      const std::vector<std::string>& prompts,
                      const ProtocolSpec& spec,
                      int max_seq_len,
                      int batch_size,
                      ProtocolEvalResult& result) {
  const int max_new = protocol_max_new_tokens(spec);
  const size_t prompt_limit =
      static_cast<size_t>(std::max(2, (max_seq_len > 0 ? max_seq_len : 1 << 30) - max_new));
  GenerationOptions gen;
  gen.max_new_tokens = max_new;
  for (int id : model->config().eos_token_ids()) gen.eos_token_ids.push_back(id);
  if (tok.eos_id() && std::find(gen.eos_token_ids.begin(), gen.eos_token_ids.end(),
                                *tok.eos_id()) == gen.eos_token_ids.end()) {
    gen.eos_token_ids.push_back(*tok.eos_id());
  }
  if (tok.pad_id() < model->config().vocab_size) gen.pad_token_id = tok.pad_id();
  const bool keep_specials = spec.id == kProtocolMathAnswerIs;
  ProtocolSpec rule = spec;
  rule.pattern = protocol_pattern(spec);
  if (keep_specials) rule.pattern = pattern_for_eos(rule.pattern, tok, gen.eos_token_ids);
  const std::vector<std::string> stop = protocol_stop(spec);
  const size_t step = static_cast<size_t>(std::max(1, batch_size));
  for (size_t begin = 0; begin < examples.size(); begin += step) {
    const size_t end = std::min(examples.size(), begin + step);
    std::vector<std::vector<int64_t>> ids;
    for (size_t i = begin; i < end; ++i) {
      ids.push_back(
          cut_prompt(tok.encode(prompts[i], /*add_special_tokens=*/true), prompt_limit, tok));
    }
    const GenerationResult out = spec.id == kProtocolBeamFirstMatch
                                     ? generate_beam(model, ids, gen, spec.num_beams)
                                     : generate_greedy(model, ids, gen);
    for (size_t i = begin; i < end; ++i) {
      const Example& ex = examples[i];
      Prediction p;
      p.task = ex.task;
      p.prompt = prompts[i];
      p.protocol = spec.id;
      p.output = cut_at_stop(tok.decode(out.tokens[i - begin], !keep_specials), stop);
      p.gold = gold_answer(ex, rule.pattern);
      const AnswerMatch m = score_answer(rule, p.output, p.gold);
      p.extracted = m.extracted;
      p.parse_ok = m.parse_ok;
      p.correct = m.correct;
      result.parse_failures += m.parse_ok ? 0 : 1;
      result.predictions.push_back(std::move(p));
    }
  }
}

void score_mc(TransformerLM& model,
              const Tokenizer& tok,
              const std::vector<Example>& examples,
              const std::vector<std::string>& prompts,
              int max_seq_len,
              int batch_size,
              ProtocolEvalResult& result) {
  std::vector<ChoiceRequest> requests;
  for (size_t i = 0; i < examples.size(); ++i) {
    const Example& ex = examples[i];
    if (ex.choices.empty() || ex.gold_index < 0 ||
        ex.gold_index >= static_cast<int>(ex.choices.size())) {
      throw DataError("mc_loglik: example " + std::to_string(i) + " of task \"" + ex.task +
                      "\" has " + std::to_string(ex.choices.size()) + " choices and gold index " +
                      std::to_string(ex.gold_index) +
                      "; the protocol needs the choices and the right one's index (give the "
                      "dataset's choice columns, or pick a generation protocol)");
    }
    requests.push_back({prompts[i], ex.choices});
  }
  const std::vector<ChoiceScores> scores =
      loglik_choices(model, tok, requests, batch_size, max_seq_len);
  int64_t norm_correct = 0;
  for (size_t i = 0; i < examples.size(); ++i) {
    const Example& ex = examples[i];
    const ChoiceScores& s = scores[i];
    Prediction p;
    p.task = ex.task;
    p.prompt = prompts[i];
    p.protocol = kProtocolMcLoglik;
    p.output = ex.choices[static_cast<size_t>(s.best)];
    p.extracted = std::to_string(s.best);
    p.gold = std::to_string(ex.gold_index);
    p.parse_ok = true;
    p.correct = s.best == ex.gold_index;
    p.correct_norm = s.best_norm == ex.gold_index;
    p.scores = s.loglik;
    p.scores_norm = s.loglik_norm;
    norm_correct += p.correct_norm ? 1 : 0;
    result.predictions.push_back(std::move(p));
  }
  result.acc_norm = fraction(norm_correct, static_cast<int64_t>(examples.size()));
}

void score_labels(TransformerLM& model,
                  const Tokenizer& tok,
                  const std::vector<Example>& examples,
                  const std::vector<std::string>& prompts,
                  const ProtocolSpec& spec,
                  int max_seq_len,
                  int batch_size,
                  ProtocolEvalResult& result) {
  const std::vector<LabelScores> scores =
      label_next_token(model, tok, prompts, spec.labels, batch_size, max_seq_len);
  for (size_t i = 0; i < examples.size(); ++i) {
    const Example& ex = examples[i];
    Prediction p;
    p.task = ex.task;
    p.prompt = prompts[i];
    p.protocol = kProtocolLabelNextToken;
    p.output = spec.labels[static_cast<size_t>(scores[i].best)];
    p.extracted = trim_text(p.output);
    if (ex.gold_index >= 0 && ex.gold_index < static_cast<int>(spec.labels.size())) {
      p.gold = trim_text(spec.labels[static_cast<size_t>(ex.gold_index)]);
    } else {
      p.gold = trim_text(ex.gold.empty() ? ex.answer : ex.gold);
    }
    p.parse_ok = true;
    p.correct = p.extracted == p.gold;
    p.scores = scores[i].logits;
    result.predictions.push_back(std::move(p));
  }
}

}  // namespace

std::string fewshot_prompt(const Example& ex,
                           size_t index,
                           const ProtocolSpec& spec,
                           const std::vector<Example>& fewshot_pool,
                           uint64_t fewshot_seed) {
  if (spec.num_fewshot <= 0 || fewshot_pool.empty()) return ex.prompt;
  std::vector<size_t> same;  // pool entries that are this example
  for (size_t j = 0; j < fewshot_pool.size(); ++j) {
    if (fewshot_pool[j].prompt == ex.prompt) same.push_back(j);
  }
  const int64_t exclude = same.empty() ? -1 : static_cast<int64_t>(same.front());
  const int extra = same.empty() ? 0 : static_cast<int>(same.size()) - 1;
  const uint64_t seed = fewshot_seed ^ (0xD1B54A32D192ED03ULL * (static_cast<uint64_t>(index) + 1));
  std::vector<std::string> shots;
  for (size_t j : fewshot_indices(fewshot_pool.size(), spec.num_fewshot + extra, seed, exclude)) {
    if (static_cast<int>(shots.size()) == spec.num_fewshot) break;
    const Example& shot = fewshot_pool[j];
    if (shot.prompt == ex.prompt) continue;
    const bool has_choice =
        shot.gold_index >= 0 && shot.gold_index < static_cast<int>(shot.choices.size());
    shots.push_back(shot.prompt + (has_choice ? shot.choices[static_cast<size_t>(shot.gold_index)]
                                              : shot.answer));
  }
  return join_fewshot(shots, ex.prompt);
}

ProtocolEvalResult evaluate_protocol(TransformerLM& model,
                                     const Tokenizer& tok,
                                     const std::vector<Example>& examples,
                                     const ProtocolSpec& spec,
                                     const std::vector<Example>& fewshot_pool,
                                     uint64_t fewshot_seed,
                                     int max_seq_len,
                                     int batch_size) {
  validate_protocol(spec, "protocol");
  if (spec.id == kProtocolTeacherForced) {
    throw ConfigError(
        "evaluate_protocol: teacher_forced is scored by evaluate_examples (core/train/"
        "evaluator.h), not here");
  }
  std::vector<std::string> prompts;
  prompts.reserve(examples.size());
  for (size_t i = 0; i < examples.size(); ++i) {
    prompts.push_back(fewshot_prompt(examples[i], i, spec, fewshot_pool, fewshot_seed));
  }
  ProtocolEvalResult result;
  result.examples = static_cast<int64_t>(examples.size());
  if (protocol_generates(spec.id)) {
    score_generation(model, tok, examples, prompts, spec, max_seq_len, batch_size, result);
  } else if (spec.id == kProtocolMcLoglik) {
    score_mc(model, tok, examples, prompts, max_seq_len, batch_size, result);
  } else if (spec.id == kProtocolLabelNextToken) {
    score_labels(model, tok, examples, prompts, spec, max_seq_len, batch_size, result);
  } else {
    throw ConfigError("evaluate_protocol: protocol \"" + spec.id + "\" is not scored here");
  }
  int64_t correct = 0;
  for (const auto& p : result.predictions) correct += p.correct ? 1 : 0;
  result.accuracy = fraction(correct, result.examples);
  return result;
}

}  // namespace apportion
