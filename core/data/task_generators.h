// SPDX-License-Identifier: GPL-3.0-or-later
// Internal to core/data: the per-task example generators used by make_task_suite and the small
// shared helpers (unique-prompt generation). Each generator draws from the rng it is given and
// skips prompts already in `used`, which is how train and eval stay disjoint.
#pragma once

#include <array>
#include <cstdint>
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

/// Word length of the letter-mapping tasks (fixed, so every answer letter sits at a fixed
/// offset from its source letter: the pretrained copy circuit finds it).
inline constexpr int kMappingWordLength = 4;

std::vector<Example> generate_encode(uint64_t data_seed,
                                     SplitMix64& rng,
                                     int count,
                                     PromptSet& used);
std::vector<Example> generate_decode(uint64_t data_seed,
                                     SplitMix64& rng,
                                     int count,
                                     PromptSet& used);
std::vector<Example> generate_flip(SplitMix64& rng, int count, PromptSet& used);
std::vector<Example> generate_increment(SplitMix64& rng, int count, PromptSet& used);

/// The secret letter substitution of encode (a derangement of a..z, deterministic in the data
/// seed): table[c - 'a'] is the code letter of c. decode applies its inverse.
std::array<char, 26> letter_substitution(uint64_t data_seed);
/// `length` random characters from [first, first + size) (default: lowercase letters).
std::string random_word(SplitMix64& rng, int length, char first = 'a', int size = 26);
/// A pretraining document of copy lines "cp abcd=abcd cp …" of at most max_bytes bytes.
std::string copy_document(SplitMix64& rng, size_t max_bytes);

/// One random key-value line, e.g. "k3=ab k7=xq k1=mm", with the pairs (used by the corpus).
struct KeyValueLine {
  std::vector<std::pair<std::string, std::string>> pairs;
  std::string text;
};
KeyValueLine random_key_values(SplitMix64& rng, int num_pairs);

/// One random equation (prompt "23+58=", answer "81"), as used by the task and the corpus.
Example random_equation(SplitMix64& rng);

}  // namespace apportion
