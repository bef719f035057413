// SPDX-License-Identifier: GPL-3.0-or-later
// The "lookup" task (copy the value of a queried key from the prompt) and the random key=value
// lines it shares with the pretraining corpus.
#include <numeric>

#include "core/data/task_generators.h"

namespace apportion {

KeyValueLine random_key_values(SplitMix64& rng, int num_pairs) {
  // Distinct keys k0..k9 (a partial Fisher-Yates draw), values of two lowercase letters.
  std::vector<int> keys(10);
  std::iota(keys.begin(), keys.end(), 0);
  rng.shuffle(keys);
  KeyValueLine line;
  for (int i = 0; i < num_pairs && i < 10; ++i) {
    std::string key = "k" + std::to_string(keys[static_cast<size_t>(i)]);
    std::string value;
    value += static_cast<char>('a' + rng.uniform(26));
    value += static_cast<char>('a' + rng.uniform(26));
    line.text += (line.text.empty() ? "" : " ") + key + "=" + value;
    line.pairs.emplace_back(std::move(key), std::move(value));
  }
  return line;
}

std::vector<Example> generate_lookup(SplitMix64& rng, int count, PromptSet& used) {
  return generate_unique("lookup", count, used, [&rng]() {
    const KeyValueLine line = random_key_values(rng, rng.range(2, 4));
    const auto& [key, value] = line.pairs[static_cast<size_t>(rng.uniform(line.pairs.size()))];
    return Example{"lookup", line.text + " ; " + key + "?", value, ""};
  });
}

}  // namespace apportion
