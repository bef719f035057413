// SPDX-License-Identifier: GPL-3.0-or-later
// The "arithmetic" task (two-number addition/subtraction in 0..49) and the "reverse" task
// (reverse a short lowercase word). Equations are shared with the pretraining corpus.
#include <algorithm>

#include "core/data/task_generators.h"

namespace apportion {

Example random_equation(SplitMix64& rng) {
  // Operands 0..49: sums up to 98, so one carry at most and two answer digits.
  int a = static_cast<int>(rng.uniform(50));
  int b = static_cast<int>(rng.uniform(50));
  const bool subtract = rng.uniform(2) == 1;
  if (subtract && a < b) {
    std::swap(a, b);  // results stay non-negative
  }
  const int result = subtract ? a - b : a + b;
  return Example{"arithmetic", std::to_string(a) + (subtract ? "-" : "+") + std::to_string(b) + "=",
                 std::to_string(result), ""};
}

std::vector<Example> generate_arithmetic(SplitMix64& rng, int count, PromptSet& used) {
  return generate_unique("arithmetic", count, used, [&rng]() { return random_equation(rng); });
}

std::vector<Example> generate_reverse(SplitMix64& rng, int count, PromptSet& used) {
  return generate_unique("reverse", count, used, [&rng]() {
    const int length = rng.range(3, 6);
    std::string word;
    for (int i = 0; i < length; ++i) {
      word += static_cast<char>('a' + rng.uniform(26));
    }
    return Example{"reverse", "reverse " + word + ":", std::string(word.rbegin(), word.rend()), ""};
  });
}

}  // namespace apportion
