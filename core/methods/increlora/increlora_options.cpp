// SPDX-License-Identifier: GPL-3.0-or-later
// allocation.increlora: parse, JSON form, validation.
#include "core/methods/increlora/increlora_options.h"

#include "core/config/json_reader.h"

namespace apportion {

void IncreLoraOptions::validate() const {
  const std::string p = std::string("allocation.") + kIncreLoraSection + ".";
  config_require(r_init >= 1, p + "r_init", "must be >= 1" + got(r_init));
  config_require(r_target >= r_init, p + "r_target", "must be >= r_init" + got(r_target));
  config_require(r_max >= r_target && r_max <= 4096, p + "r_max",
                 "must be in r_target..4096" + got(r_max));
  config_require(delta_r >= 1, p + "delta_r", "must be >= 1" + got(delta_r));
  config_require(interval >= 1, p + "interval", "must be >= 1" + got(interval));
  config_require(t_warm >= 0.0 && t_warm <= t_stop && t_stop <= 1.0, p + "t_warm",
                 "needs 0 <= t_warm <= t_stop <= 1" + got(t_warm));
  config_require(beta1 >= 0.0 && beta1 < 1.0, p + "beta1", "must be in [0, 1)" + got(beta1));
  config_require(beta2 >= 0.0 && beta2 < 1.0, p + "beta2", "must be in [0, 1)" + got(beta2));
}

IncreLoraOptions parse_increlora_options(const nlohmann::json& j) {
  IncreLoraOptions o;
  JsonObjectReader r(j, std::string("allocation.") + kIncreLoraSection);
  r.get("r_init", o.r_init);
  r.get("r_target", o.r_target);
  r.get("r_max", o.r_max);
  r.get("delta_r", o.delta_r);
  r.get("interval", o.interval);
  r.get("t_warm", o.t_warm);
  r.get("t_stop", o.t_stop);
  r.get("beta1", o.beta1);
  r.get("beta2", o.beta2);
  r.finish();
  return o;
}

nlohmann::json increlora_options_json(const IncreLoraOptions& o) {
  return {{"r_init", o.r_init},   {"r_target", o.r_target}, {"r_max", o.r_max},
          {"delta_r", o.delta_r}, {"interval", o.interval}, {"t_warm", o.t_warm},
          {"t_stop", o.t_stop},   {"beta1", o.beta1},       {"beta2", o.beta2}};
}

IncreLoraOptions increlora_options(const ExperimentConfig& cfg) {
  const auto it = cfg.allocation.sections.find(kIncreLoraSection);
  return it == cfg.allocation.sections.end() ? IncreLoraOptions{}
                                             : parse_increlora_options(it->second);
}

}  // namespace apportion
