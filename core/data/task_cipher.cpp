// SPDX-License-Identifier: GPL-3.0-or-later
// The mapping tasks of the default demo suite: "encode" (each letter of a 4-letter word through
// a secret substitution), "decode" (the inverse substitution, read from capitals), "increment"
// (each digit plus one, mod 10); the optional "flip" (the word reversed: new attention offsets);
// and the "cp WORD=WORD" copy lines the pretraining corpus teaches the backbone with.
#include <numeric>

#include "core/data/task_generators.h"

namespace apportion {

std::string random_word(SplitMix64& rng, int length, char first, int size) {
  std::string word;
  for (int i = 0; i < length; ++i) {
    word += static_cast<char>(first + rng.uniform(static_cast<uint64_t>(size)));
  }
  return word;
}

std::array<char, 26> letter_substitution(uint64_t data_seed) {
  // A derangement (no letter maps to itself), so copying the word is never the answer.
  SplitMix64 rng(derive_seed(data_seed, "letter_substitution"));
  std::vector<int> perm(26);
  for (;;) {
    std::iota(perm.begin(), perm.end(), 0);
    rng.shuffle(perm);
    bool fixed_point = false;
    for (int i = 0; i < 26; ++i) {
      fixed_point = fixed_point || perm[static_cast<size_t>(i)] == i;
    }
    if (!fixed_point) {
      break;
    }
  }
  std::array<char, 26> table{};
  for (size_t i = 0; i < 26; ++i) {
    table[i] = static_cast<char>('a' + perm[i]);
  }
  return table;
}

namespace {

std::array<char, 26> inverse(const std::array<char, 26>& table) {
  std::array<char, 26> inv{};
  for (size_t i = 0; i < 26; ++i) {
    inv[static_cast<size_t>(table[i] - 'a')] = static_cast<char>('a' + i);
  }
  return inv;
}

std::string substitute(const std::string& word, const std::array<char, 26>& table) {
  std::string out;
  for (char c : word) {
    out += table[static_cast<size_t>(c - 'a')];
  }
  return out;
}

}  // namespace

std::vector<Example> generate_encode(uint64_t data_seed,
                                     SplitMix64& rng,
                                     int count,
                                     PromptSet& used) {
  const std::array<char, 26> table = letter_substitution(data_seed);
  return generate_unique("encode", count, used, [&]() {
    const std::string word = random_word(rng, kMappingWordLength);
    return Example{"encode", "enc " + word + "=", substitute(word, table), ""};
  });
}

std::vector<Example> generate_decode(uint64_t data_seed,
                                     SplitMix64& rng,
                                     int count,
                                     PromptSet& used) {
  // The code word is written in capitals: the same substitution read backwards, on its own
  // input letters, so decode competes with encode for adapter capacity (a second table) but a
  // router can tell the two apart from the tokens themselves.
  const std::array<char, 26> table = inverse(letter_substitution(data_seed));
  return generate_unique("decode", count, used, [&]() {
    const std::string word = random_word(rng, kMappingWordLength);
    std::string upper;
    for (char c : word) {
      upper += static_cast<char>(c - 'a' + 'A');
    }
    return Example{"decode", "dec " + upper + "=", substitute(word, table), ""};
  });
}

std::vector<Example> generate_increment(SplitMix64& rng, int count, PromptSet& used) {
  return generate_unique("increment", count, used, [&rng]() {
    const std::string digits = random_word(rng, kMappingWordLength, '0', 10);
    std::string next;
    for (char c : digits) {
      next += static_cast<char>('0' + (c - '0' + 1) % 10);
    }
    return Example{"increment", "inc " + digits + "=", next, ""};
  });
}

std::vector<Example> generate_flip(SplitMix64& rng, int count, PromptSet& used) {
  return generate_unique("flip", count, used, [&rng]() {
    const std::string word = random_word(rng, kMappingWordLength);
    return Example{"flip", "rev " + word + "=", std::string(word.rbegin(), word.rend()), ""};
  });
}

std::string copy_document(SplitMix64& rng, size_t max_bytes) {
  // "cp abcd=abcd cp QWER=QWER cp 4821=4821": the copy circuit the mapping tasks build on, on
  // every alphabet they use (half lowercase, a quarter capitals, a quarter digits).
  std::string doc;
  for (;;) {
    const uint64_t alphabet = rng.uniform(4);
    const std::string word = alphabet < 2    ? random_word(rng, kMappingWordLength)
                             : alphabet == 2 ? random_word(rng, kMappingWordLength, 'A', 26)
                                             : random_word(rng, kMappingWordLength, '0', 10);
    const std::string piece = "cp " + word + "=" + word;
    if (!doc.empty() && doc.size() + 1 + piece.size() > max_bytes) {
      return doc;
    }
    doc += (doc.empty() ? "" : " ") + piece;
  }
}

}  // namespace apportion
