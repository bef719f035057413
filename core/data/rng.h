// SPDX-License-Identifier: GPL-3.0-or-later
// The data module's own PRNG (splitmix64) with portable uniform draws and Fisher-Yates shuffles.
// Unlike std::uniform_int_distribution its output is the same with every standard library, so a
// seed names the same suite, corpus and sample order everywhere.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace apportion {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  /// Next raw 64-bit value.
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  /// Uniform integer in [0, n) (n > 0) by rejection sampling: no modulo bias, fully portable.
  uint64_t uniform(uint64_t n) {
    if (n <= 1) {
      return 0;
    }
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x = next();
    while (x >= limit) {
      x = next();
    }
    return x % n;
  }

  /// Uniform int in [lo, hi] (inclusive).
  int range(int lo, int hi) {
    return lo + static_cast<int>(uniform(static_cast<uint64_t>(hi - lo + 1)));
  }

  /// In-place Fisher-Yates shuffle (j drawn uniformly from [0, i]).
  template <typename T>
  void shuffle(std::vector<T>& values) {
    for (size_t i = values.size(); i > 1; --i) {
      const size_t j = static_cast<size_t>(uniform(i));
      std::swap(values[i - 1], values[j]);
    }
  }

 private:
  uint64_t state_;
};

/// Mixes two 64-bit values into a well-spread seed (splitmix64 finaliser of a combination).
inline uint64_t mix_seed(uint64_t a, uint64_t b) {
  SplitMix64 g(a ^ (b * 0xD1B54A32D192ED03ULL + 0x8CB92BA72F3D8DD7ULL));
  g.next();
  return g.next();
}

/// Seed of a named stream (e.g. a task) derived from a base seed: FNV-1a of the name mixed in.
inline uint64_t derive_seed(uint64_t seed, const std::string& name) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (unsigned char c : name) {
    h = (h ^ c) * 0x100000001B3ULL;
  }
  return mix_seed(seed, h);
}

}  // namespace apportion
