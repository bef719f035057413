// SPDX-License-Identifier: GPL-3.0-or-later
// The invented fact base shared by the "facts" task and the pretraining corpus: ~120 entities
// with a city, a favourite colour and a job each, generated from the data seed. The same seed
// always gives the same facts, so a backbone pretrained with data.seed = s knows the answers
// to the facts questions of a suite with data.seed = s.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace apportion {

struct Fact {
  std::string entity;     ///< invented name, e.g. "Vorn"
  std::string attribute;  ///< "city", "colour" or "job"
  std::string value;      ///< e.g. "Kelda"
};

/// Number of invented entities in the fact base.
inline constexpr int kFactEntities = 120;

/// The attributes every entity has, in order.
const std::vector<std::string>& fact_attributes();
/// The possible values of an attribute (the pool distractors are drawn from).
const std::vector<std::string>& fact_attribute_values(const std::string& attribute);

/// All facts (entity-major, attributes in fact_attributes() order), deterministic in seed.
std::vector<Fact> make_fact_base(uint64_t seed);

/// The question of a facts example, e.g. "Where does Vorn live?".
std::string fact_question(const Fact& fact);
/// The paraphrases of the fact used in the pretraining corpus, e.g. "Vorn lives in Kelda.".
std::vector<std::string> fact_sentences(const Fact& fact);

}  // namespace apportion
