// SPDX-License-Identifier: GPL-3.0-or-later
// The pretraining corpus of the tiny backbone: short documents (at most kMaxDocumentBytes) that
// write out the whole fact base in paraphrases, many times over, mixed with arithmetic lines
// and key=value lines so the backbone learns the alphabet and formats of the task suite.
#include <algorithm>
#include <utility>

#include "core/common/error.h"
#include "core/data/task_generators.h"
#include "core/data/task_suite.h"

namespace apportion {

namespace {

constexpr size_t kMaxDocumentBytes = 90;
/// Copy documents are shorter (three "cp WORD=WORD" pieces): the same copy examples per step
/// at less than half the tokens, which halves the demo backbone's pretraining time.
constexpr size_t kCopyDocumentBytes = 40;

/// Endless stream of fact sentences: the facts in a shuffled order (reshuffled each pass),
/// each written with a randomly chosen paraphrase.
class FactSentenceStream {
 public:
  FactSentenceStream(std::vector<Fact> facts, SplitMix64& rng)
      : facts_(std::move(facts)), rng_(rng), cursor_(facts_.size()) {}

  const std::string& peek() {
    if (pending_.empty()) {
      if (cursor_ == facts_.size()) {
        rng_.shuffle(facts_);
        cursor_ = 0;
      }
      const std::vector<std::string> sentences = fact_sentences(facts_[cursor_++]);
      pending_ = sentences[static_cast<size_t>(rng_.uniform(sentences.size()))];
    }
    return pending_;
  }
  std::string take() {
    peek();
    return std::exchange(pending_, std::string());
  }

 private:
  std::vector<Fact> facts_;
  SplitMix64& rng_;
  size_t cursor_;
  std::string pending_;
};

/// Joins pieces with spaces while the document stays within the byte limit.
void append_if_fits(std::string& doc, const std::string& piece) {
  if (doc.size() + 1 + piece.size() <= kMaxDocumentBytes) {
    doc += " " + piece;
  }
}

std::string arithmetic_document(SplitMix64& rng) {
  const Example first = random_equation(rng);
  std::string doc = first.prompt + first.answer;
  const int more = rng.range(2, 5);
  for (int i = 0; i < more; ++i) {
    const Example eq = random_equation(rng);
    append_if_fits(doc, eq.prompt + eq.answer);
  }
  return doc;
}

/// Key=value pairs, then some of them recalled (teaches the copy/induction pattern of lookup):
/// either repeated as `k7=dr` or queried as `; k7? dr`, the form the lookup task asks in.
std::string key_value_document(SplitMix64& rng) {
  KeyValueLine line = random_key_values(rng, rng.range(3, 5));
  std::string doc = line.text;
  rng.shuffle(line.pairs);
  const int repeats = rng.range(2, 3);
  const bool as_queries = rng.uniform(2) == 0;
  for (int i = 0; i < repeats; ++i) {
    const auto& [key, value] = line.pairs[static_cast<size_t>(i)];
    append_if_fits(doc, as_queries ? "; " + key + "? " + value : key + "=" + value);
  }
  return doc;
}

bool is_mapping_task(const std::string& t) {
  return t == "encode" || t == "decode" || t == "increment" || t == "flip";
}

/// The document kinds a task list asks for, in first-listed order ("copy" for the letter-mapping
/// tasks, "facts", "arithmetic", "key_value"); empty when only the original tasks are listed.
std::vector<std::string> mapping_corpus_kinds(const std::vector<std::string>& tasks) {
  bool any_mapping = false;
  for (const std::string& t : tasks) {
    any_mapping = any_mapping || is_mapping_task(t);
  }
  std::vector<std::string> kinds;
  if (!any_mapping) {
    return kinds;
  }
  for (const std::string& t : tasks) {
    const std::string kind = is_mapping_task(t) ? "copy" : t == "lookup" ? "key_value" : t;
    if (kind != "reverse" && std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
      kinds.push_back(kind);
    }
  }
  return kinds;
}

}  // namespace

std::vector<std::string> make_pretraining_corpus(const DataConfig& cfg, int num_documents) {
  AP_CHECK_AS(ConfigError, num_documents >= 0,
              "pretraining corpus: num_documents must be >= 0, "
              "got ",
              num_documents);
  // One sequential stream, so the first k documents of a larger corpus equal a corpus of k.
  SplitMix64 rng(derive_seed(cfg.seed, "pretraining_corpus"));
  const std::vector<std::string> kinds = mapping_corpus_kinds(cfg.tasks);
  if (!kinds.empty()) {
    // A suite with the letter-mapping tasks: the kinds its tasks need, in turn.
    FactSentenceStream facts(make_fact_base(cfg.seed), rng);
    std::vector<std::string> docs;
    docs.reserve(static_cast<size_t>(num_documents));
    for (int i = 0; i < num_documents; ++i) {
      const std::string& kind = kinds[static_cast<size_t>(i) % kinds.size()];
      if (kind == "copy") {
        docs.push_back(copy_document(rng, kCopyDocumentBytes));
      } else if (kind == "facts") {
        docs.push_back(facts.take());
      } else if (kind == "arithmetic") {
        docs.push_back(arithmetic_document(rng));
      } else {
        docs.push_back(key_value_document(rng));
      }
    }
    return docs;
  }
  // The original three-task corpus (unchanged, so existing backbones stay reproducible).
  FactSentenceStream facts(make_fact_base(cfg.seed), rng);
  std::vector<std::string> docs;
  docs.reserve(static_cast<size_t>(num_documents));
  for (int i = 0; i < num_documents; ++i) {
    const int kind = i % 10;  // 5 in 10 documents are facts, 2 arithmetic, 3 key=value
    if (kind < 5) {
      std::string doc = facts.take();
      for (int s = 1; s < 3 && doc.size() + 1 + facts.peek().size() <= kMaxDocumentBytes; ++s) {
        doc += " " + facts.take();
      }
      docs.push_back(std::move(doc));
    } else if (kind < 7) {
      docs.push_back(arithmetic_document(rng));
    } else {
      docs.push_back(key_value_document(rng));
    }
  }
  return docs;
}

}  // namespace apportion
