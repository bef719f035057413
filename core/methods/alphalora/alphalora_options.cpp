// SPDX-License-Identifier: GPL-3.0-or-later
// allocation.alphalora: parse, JSON form, validation.
#include "core/methods/alphalora/alphalora_options.h"

#include <numeric>

#include "core/allocation/expert_allocation.h"
#include "core/config/json_reader.h"

namespace apportion {

int AlphaLoraOptions::total_for(int num_layers) const {
  if (total_experts > 0) return total_experts;
  const auto counts = expand_blocks(mola_preset_blocks("2468"), num_layers);
  return std::accumulate(counts.begin(), counts.end(), 0);
}

AlphaLoraOptions parse_alphalora_options(const nlohmann::json& j) {
  AlphaLoraOptions o;
  JsonObjectReader r(j, std::string("allocation.") + kAlphaLoraSection);
  r.get("total_experts", o.total_experts);
  r.get("beta", o.beta);
  r.get("pl_fitting", o.pl_fitting);
  r.get("filter_zeros", o.filter_zeros);
  r.finish();
  return o;
}

nlohmann::json alphalora_options_json(const AlphaLoraOptions& o) {
  return {{"total_experts", o.total_experts},
          {"beta", o.beta},
          {"pl_fitting", o.pl_fitting},
          {"filter_zeros", o.filter_zeros}};
}

void validate_alphalora_options(const AlphaLoraOptions& o) {
  const std::string p = std::string("allocation.") + kAlphaLoraSection + ".";
  config_require(o.total_experts >= 0 && o.total_experts <= 65536, p + "total_experts",
                 "must be in 0..65536 (0 = MoLA 2468's total)" + got(o.total_experts));
  config_require(o.beta >= 0.0 && o.beta <= 20.0, p + "beta", "must be in [0, 20]" + got(o.beta));
}

AlphaLoraOptions alphalora_options(const ExperimentConfig& cfg) {
  const auto it = cfg.allocation.sections.find(kAlphaLoraSection);
  return it == cfg.allocation.sections.end() ? AlphaLoraOptions{}
                                             : parse_alphalora_options(it->second);
}

}  // namespace apportion
