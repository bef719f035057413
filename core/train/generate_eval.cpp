// SPDX-License-Identifier: GPL-3.0-or-later
// Greedy generation + regex answer extraction over the eval split.
#include "core/train/generate_eval.h"

#include <regex>

#include "core/common/error.h"
#include "core/model/generation.h"

namespace apportion {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

/// Group 1 of the first match, or empty.
std::string extract(const std::string& text, const std::regex& re) {
  std::smatch m;
  if (std::regex_search(text, m, re) && m.size() > 1) return m[1].str();
  return {};
}

}  // namespace

std::string gold_answer(const Example& ex, const std::string& answer_pattern) {
  if (!ex.gold.empty()) return trim(ex.gold);
  const std::string from_output = extract(ex.answer, std::regex(answer_pattern));
  return from_output.empty() ? trim(ex.answer) : from_output;
}

GenerateEvalResult evaluate_generate(TransformerLM& model,
                                     const Tokenizer& tokenizer,
                                     const std::vector<Example>& examples,
                                     const GenerateEvalOptions& options) {
  const std::regex re(options.answer_pattern);
  const int prompt_limit = std::max(2, options.max_seq_len - options.max_new_tokens);
  GenerationOptions gen;
  gen.max_new_tokens = options.max_new_tokens;
  if (tokenizer.eos_id()) gen.eos_token_ids = {*tokenizer.eos_id()};
  gen.pad_token_id = tokenizer.pad_id();
  GenerateEvalResult result;
  std::map<std::string, std::pair<int64_t, int64_t>> correct_total;
  for (size_t begin = 0; begin < examples.size();
       begin += static_cast<size_t>(options.batch_size)) {
    const size_t end = std::min(examples.size(), begin + static_cast<size_t>(options.batch_size));
    std::vector<std::vector<int64_t>> prompts;
    for (size_t i = begin; i < end; ++i) {
      std::vector<int64_t> ids = tokenizer.encode(examples[i].prompt, /*add_special_tokens=*/true);
      if (ids.size() > static_cast<size_t>(prompt_limit)) {
        // Keep a leading BOS, drop the oldest prompt tokens.
        const bool bos = tokenizer.bos_id() && ids.front() == *tokenizer.bos_id();
        std::vector<int64_t> cut(ids.end() - (prompt_limit - (bos ? 1 : 0)), ids.end());
        if (bos) cut.insert(cut.begin(), ids.front());
        ids = std::move(cut);
      }
      prompts.push_back(std::move(ids));
    }
    const GenerationResult out = generate_greedy(model, prompts, gen);
    for (size_t i = begin; i < end; ++i) {
      const Example& ex = examples[i];
      Prediction p;
      p.task = ex.task;
      p.prompt = ex.prompt;
      p.output = tokenizer.decode(out.tokens[i - begin], /*skip_special_tokens=*/true);
      p.extracted = extract(p.output, re);
      p.gold = gold_answer(ex, options.answer_pattern);
      p.correct = !p.extracted.empty() && p.extracted == p.gold;
      auto& ct = correct_total[ex.task];
      ct.first += p.correct ? 1 : 0;
      ct.second += 1;
      result.predictions.push_back(std::move(p));
    }
  }
  double sum = 0.0;
  for (const auto& [task, ct] : correct_total) {
    const double acc = static_cast<double>(ct.first) / static_cast<double>(ct.second);
    result.task_accuracy[task] = acc;
    sum += acc;
  }
  result.accuracy = correct_total.empty() ? 0.0 : sum / static_cast<double>(correct_total.size());
  return result;
}

}  // namespace apportion
