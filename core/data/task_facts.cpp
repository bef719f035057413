// SPDX-License-Identifier: GPL-3.0-or-later
// The invented fact base (entities with a city, colour and job, generated from the seed), its
// question and sentence templates, and the "facts" multiple-choice task over it.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "core/common/error.h"
#include "core/data/fact_base.h"
#include "core/data/task_generators.h"

namespace apportion {

const std::vector<std::string>& fact_attributes() {
  static const std::vector<std::string> attributes = {"city", "colour", "job"};
  return attributes;
}

const std::vector<std::string>& fact_attribute_values(const std::string& attribute) {
  static const std::map<std::string, std::vector<std::string>> values = {
      {"city",
       {"Kelda", "Tamsin", "Orrin", "Varrow", "Esmet", "Dunmere", "Halvik", "Brisa", "Corvel",
        "Peldor", "Ostra", "Wenmoor"}},
      {"colour",
       {"teal", "amber", "crimson", "olive", "violet", "silver", "indigo", "ochre", "scarlet",
        "ivory"}},
      {"job",
       {"baker", "miller", "potter", "weaver", "tailor", "smith", "farmer", "sailor", "hunter",
        "mason", "healer", "scribe"}},
  };
  const auto it = values.find(attribute);
  AP_CHECK_AS(DataError, it != values.end(), "unknown fact attribute '", attribute, "'");
  return it->second;
}

namespace {

/// A pronounceable invented name of two syllables, e.g. "Vorn", "Talim", "Brisek".
std::string invent_name(SplitMix64& rng) {
  static const char* const kOnsets[] = {"b", "d", "f", "g", "h", "k",  "l",  "m",  "n",  "p",
                                        "r", "s", "t", "v", "z", "br", "dr", "gr", "th", "st"};
  static const char* const kVowels[] = {"a", "e", "i", "o", "u"};
  static const char* const kCodas[] = {"", "", "n", "r", "l", "s", "k", "m"};
  std::string name;
  for (int syllable = 0; syllable < 2; ++syllable) {
    name += kOnsets[rng.uniform(std::size(kOnsets))];
    name += kVowels[rng.uniform(std::size(kVowels))];
    name += kCodas[rng.uniform(std::size(kCodas))];
  }
  name[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(name[0])));
  return name;
}

}  // namespace

std::vector<Fact> make_fact_base(uint64_t seed) {
  SplitMix64 rng(derive_seed(seed, "fact_base"));
  const std::vector<std::string> cities = fact_attribute_values("city");
  std::set<std::string> taken(cities.begin(), cities.end());
  std::vector<Fact> facts;
  int entities = 0;
  while (entities < kFactEntities) {
    const std::string name = invent_name(rng);
    if (name.size() < 4 || name.size() > 7 || !taken.insert(name).second) {
      continue;
    }
    ++entities;
    for (const std::string& attribute : fact_attributes()) {
      const std::vector<std::string>& values = fact_attribute_values(attribute);
      facts.push_back({name, attribute, values[static_cast<size_t>(rng.uniform(values.size()))]});
    }
  }
  return facts;
}

std::string fact_question(const Fact& fact) {
  if (fact.attribute == "city") {
    return "Where does " + fact.entity + " live?";
  }
  if (fact.attribute == "colour") {
    return "What is " + fact.entity + "'s favourite colour?";
  }
  return "What is " + fact.entity + "'s job?";
}

std::vector<std::string> fact_sentences(const Fact& fact) {
  const std::string& e = fact.entity;
  const std::string& v = fact.value;
  if (fact.attribute == "city") {
    return {e + " lives in " + v + ".", "The city of " + e + " is " + v + ".",
            e + " has a home in " + v + ".", "Where does " + e + " live? In " + v + "."};
  }
  if (fact.attribute == "colour") {
    return {e + "'s favourite colour is " + v + ".", e + " likes the colour " + v + ".",
            "The favourite colour of " + e + " is " + v + ".",
            "What is " + e + "'s favourite colour? It is " + v + "."};
  }
  return {e + " works as a " + v + ".", e + " is a " + v + ".",
          e + " earns a living as a " + v + ".",
          "What is " + e + "'s job? " + e + " is a " + v + "."};
}

std::vector<Example> generate_facts(const std::vector<Fact>& facts,
                                    SplitMix64& rng,
                                    int count,
                                    PromptSet& used) {
  AP_CHECK_AS(DataError, !facts.empty(), "facts task: empty fact base");
  // Walk the facts in a shuffled order (reshuffled each pass) so every fact is asked about
  // equally often; each question gets fresh distractors and a uniform correct letter.
  std::vector<size_t> order(facts.size());
  for (size_t i = 0; i < order.size(); ++i) {
    order[i] = i;
  }
  size_t cursor = order.size();
  return generate_unique("facts", count, used, [&]() {
    if (cursor == order.size()) {
      rng.shuffle(order);
      cursor = 0;
    }
    const Fact& fact = facts[order[cursor++]];
    std::vector<std::string> pool;
    for (const std::string& value : fact_attribute_values(fact.attribute)) {
      if (value != fact.value) {
        pool.push_back(value);
      }
    }
    rng.shuffle(pool);
    std::vector<std::string> options = {pool[0], pool[1]};
    const size_t correct = static_cast<size_t>(rng.uniform(3));
    options.insert(options.begin() + static_cast<std::ptrdiff_t>(correct), fact.value);
    std::string prompt = fact_question(fact);
    for (size_t i = 0; i < options.size(); ++i) {
      prompt += std::string(" ") + static_cast<char>('A' + i) + ") " + options[i];
    }
    // The answer is the option's text (not its letter): the tiny backbone can recall or copy a
    // city, while mapping a recalled value to a letter is beyond it in a few hundred steps.
    prompt += ". Answer: ";
    return Example{"facts", prompt, fact.value, ""};
  });
}

}  // namespace apportion
