// SPDX-License-Identifier: GPL-3.0-or-later
// The built-in task suite: task registry and documentation, and make_task_suite, which spreads
// the train/eval counts over data.tasks, generates each task from its own seed stream (eval
// first, then train avoiding every eval prompt) and interleaves the tasks round-robin.
#include "core/data/task_suite.h"

#include <algorithm>
#include <set>

#include "core/common/error.h"
#include "core/data/task_generators.h"

namespace apportion {

std::vector<TaskInfo> builtin_tasks() {
  return {
      {"encode",
       "Substitution cipher: \"enc abcd=\" -> each letter of the 4-letter word through a secret "
       "substitution of a..z (a derangement drawn from data.seed, never seen in pretraining). "
       "The backbone already copies (\"cp abcd=abcd\" in its corpus); the adapter must learn a "
       "26-entry letter table. Eval words are unseen, their letters are not. Tests adapter "
       "capacity: a rank-1 adapter cannot hold the table.",
       "The pretrained copy circuit already brings the source letter to the answer position; "
       "what is new is the letter-to-letter map applied to it, which is output-side work in the "
       "upper layers (their MLPs and the last projections). Expect upper-layer adapters to "
       "suffice and lower-layer-only adapters to struggle."},
      {"decode",
       "The inverse substitution, read from capitals: \"dec GZCE=\" -> the plain word in "
       "lowercase. A second 26-entry table next to encode's: the two tasks compete for the "
       "capacity of one adapter, while the capitals let a router tell them apart from the tokens "
       "themselves (a mixture of experts can give each table its own experts).",
       "Like encode: the copy circuit brings the capital to the answer position; the new work is "
       "the table applied to it, in the upper layers."},
      {"increment",
       "Each digit plus one, mod 10: \"inc 4821=\" -> \"5932\". A small (10-entry) table on "
       "digits: easy, learned first; it shows how a method treats a task that needs little "
       "capacity next to two that need much.",
       "Output-side like encode and decode (upper layers), with a smaller table."},
      {"flip",
       "Reverse the 4-letter word: \"rev abcd=\" -> \"dcba\" (optional, not in the demo "
       "list). No new letters, only new positions: the pretrained copy circuit reads the letter "
       "4 positions back, flip needs offsets 1, 3, 5 and 7 back. Measured: a rank-22 LoRA on "
       "the demo backbone stays at 0 % after 400 steps, and adding flip to encode's mixture "
       "stopped encode from being learned too, so it is kept out of the default suite.",
       "Changing where attention reads is attention work in the lower and middle layers (the "
       "queries and keys of the heads that move the letter)."},
      {"lookup",
       "Key-value lookup inside the prompt: 3-5 pairs such as \"k3=ab k7=xq k1=mm ; k7?\" and the "
       "model must copy the value of the queried key (\"xq\"). Tests in-context retrieval: find "
       "the earlier occurrence of the key and copy the two bytes after it.",
       "Attention/copy heavy (an induction-head circuit: match key, attend to the position after "
       "it, copy). The work happens in the attention of lower and middle layers, so methods that "
       "put capacity (experts, rank) low in the stack should help most here."},
      {"arithmetic",
       "Addition or subtraction of two numbers in 0..49 (\"23+58=\" -> \"81\", \"70-15=\" -> "
       "\"55\"; subtraction never goes negative). Tests digit-wise computation with carries and "
       "borrows, written most-significant digit first.",
       "Needs the carry/borrow computed before the first answer digit: attention gathers the "
       "aligned digits, MLPs of the middle and upper layers combine them. Capacity in the "
       "middle/upper layers should matter most."},
      {"facts",
       "Three-way multiple choice over the invented fact base that the backbone saw during "
       "pretraining (\"Where does Vorn live? A) Tamsin B) Kelda C) Orrin. Answer: \" -> "
       "\"Kelda\"). "
       "Distractors come from the same attribute's values; the correct option's position is "
       "uniform over A/B/C; the answer is the option's text. Tests recall of pretrained knowledge "
       "and choosing the option that names it.",
       "Knowledge recall: the facts are stored in the MLPs of the pretrained backbone, so the "
       "adapter mainly has to learn the answer format (match the recalled value to an option and "
       "emit it). That is late, output-side work: upper layers."},
      {"reverse",
       "Reverse a short lowercase word (\"reverse abcd:\" -> \"dcba\"). Optional fourth task, not "
       "in the default list. Tests position-aware copying.",
       "Attention with positional offsets (copy the byte k positions back from a moving "
       "pointer); like lookup, mostly lower/middle-layer attention."},
  };
}

std::vector<Example> generate_unique(const std::string& task,
                                     int count,
                                     PromptSet& used,
                                     const std::function<Example()>& make_one) {
  std::vector<Example> out;
  out.reserve(static_cast<size_t>(std::max(count, 0)));
  const long max_attempts = 1000L + 100L * count;
  long attempts = 0;
  while (static_cast<int>(out.size()) < count) {
    AP_CHECK_AS(DataError, ++attempts <= max_attempts, "task '", task, "': could not generate ",
                count,
                " distinct prompts (prompt space exhausted); lower data.train_examples "
                "or data.eval_examples");
    Example ex = make_one();
    if (used.insert(ex.prompt).second) {
      out.push_back(std::move(ex));
    }
  }
  return out;
}

namespace {

std::string known_tasks() {
  std::string names;
  for (const TaskInfo& info : builtin_tasks()) {
    names += (names.empty() ? "" : ", ") + info.name;
  }
  return names;
}

bool is_known_task(const std::string& name) {
  for (const TaskInfo& info : builtin_tasks()) {
    if (info.name == name) {
      return true;
    }
  }
  return false;
}

std::vector<Example> generate_task(const std::string& name,
                                   uint64_t data_seed,
                                   const std::vector<Fact>& facts,
                                   SplitMix64& rng,
                                   int count,
                                   PromptSet& used) {
  if (name == "encode") {
    return generate_encode(data_seed, rng, count, used);
  }
  if (name == "decode") {
    return generate_decode(data_seed, rng, count, used);
  }
  if (name == "flip") {
    return generate_flip(rng, count, used);
  }
  if (name == "increment") {
    return generate_increment(rng, count, used);
  }
  if (name == "lookup") {
    return generate_lookup(rng, count, used);
  }
  if (name == "arithmetic") {
    return generate_arithmetic(rng, count, used);
  }
  if (name == "facts") {
    return generate_facts(facts, rng, count, used);
  }
  return generate_reverse(rng, count, used);
}

/// Count of task t when `total` is spread evenly over k tasks (the first ones get the rest).
int share(int total, size_t k, size_t t) {
  const int base = total / static_cast<int>(k);
  const int rest = total % static_cast<int>(k);
  return base + (static_cast<int>(t) < rest ? 1 : 0);
}

/// Round-robin over the per-task lists: out[i] cycles through the tasks while they last.
std::vector<Example> interleave(std::vector<std::vector<Example>>& per_task) {
  std::vector<Example> out;
  size_t longest = 0;
  for (const auto& list : per_task) {
    longest = std::max(longest, list.size());
  }
  for (size_t i = 0; i < longest; ++i) {
    for (auto& list : per_task) {
      if (i < list.size()) {
        out.push_back(std::move(list[i]));
      }
    }
  }
  return out;
}

}  // namespace

TaskSuite make_task_suite(const DataConfig& cfg) {
  AP_CHECK_AS(ConfigError, cfg.suite == "builtin", "data.suite: unknown suite '", cfg.suite,
              "' (known: builtin)");
  AP_CHECK_AS(ConfigError, !cfg.tasks.empty(),
              "data.tasks: needs at least one task (known: ", known_tasks(), ")");
  AP_CHECK_AS(ConfigError, cfg.train_examples >= 0, "data.train_examples: must be >= 0, got ",
              cfg.train_examples);
  AP_CHECK_AS(ConfigError, cfg.eval_examples >= 0, "data.eval_examples: must be >= 0, got ",
              cfg.eval_examples);
  std::set<std::string> seen;
  for (size_t t = 0; t < cfg.tasks.size(); ++t) {
    const std::string& name = cfg.tasks[t];
    AP_CHECK_AS(ConfigError, is_known_task(name), "data.tasks[", t, "]: unknown task '", name,
                "' (known: ", known_tasks(), ")");
    AP_CHECK_AS(ConfigError, seen.insert(name).second, "data.tasks[", t, "]: task '", name,
                "' is listed twice");
  }

  const std::vector<Fact> facts = make_fact_base(cfg.seed);
  std::vector<std::vector<Example>> train(cfg.tasks.size());
  std::vector<std::vector<Example>> eval(cfg.tasks.size());
  for (size_t t = 0; t < cfg.tasks.size(); ++t) {
    const std::string& name = cfg.tasks[t];
    // Eval first, from its own stream: the eval set depends only on (seed, eval count), so runs
    // with different train sizes are scored on the same questions. Train then skips eval prompts.
    PromptSet used;
    SplitMix64 eval_rng(derive_seed(cfg.seed, "eval/" + name));
    eval[t] = generate_task(name, cfg.seed, facts, eval_rng,
                            share(cfg.eval_examples, cfg.tasks.size(), t), used);
    SplitMix64 train_rng(derive_seed(cfg.seed, "train/" + name));
    train[t] = generate_task(name, cfg.seed, facts, train_rng,
                             share(cfg.train_examples, cfg.tasks.size(), t), used);
  }
  TaskSuite suite;
  suite.train = interleave(train);
  suite.eval = interleave(eval);
  return suite;
}

}  // namespace apportion
