// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to core/data: the per-task example generators used by make_task_suite and the small
// shared helpers (unique-prompt generation). Each generator draws from the rng it is given and
// skips prompts already in `used`, which is how train and eval stay disjoint.
#pragma once

#include <functional>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/data/fact_base.h"
#include "core/data/rng.h"
#include "core/data/task_suite.h"

namespace apportion {

using PromptSet = std::unordered_set<std::string>;

/// Calls make_one until `count` examples with prompts not in `used` exist (adding them to it).
/// Throws DataError when the task's prompt space looks exhausted.
std::vector<Example> generate_unique(const std::string& task,
                                     int count,
                                     PromptSet& used,
                                     const std::function<Example()>& make_one);

std::vector<Example> generate_lookup(SplitMix64& rng, int count, PromptSet& used);
std::vector<Example> generate_arithmetic(SplitMix64& rng, int count, PromptSet& used);
std::vector<Example> generate_reverse(SplitMix64& rng, int count, PromptSet& used);
std::vector<Example> generate_facts(const std::vector<Fact>& facts,
                                    SplitMix64& rng,
                                    int count,
                                    PromptSet& used);

/// One random key-value line, e.g. "k3=ab k7=xq k1=mm", with the pairs (used by the corpus).
struct KeyValueLine {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::string text;
};
KeyValueLine random_key_values(SplitMix64& rng, int num_pairs);

/// One random equation (prompt "23+58=", answer "81"), as used by the task and the corpus.
Example random_equation(SplitMix64& rng);

}  // namespace apportion
