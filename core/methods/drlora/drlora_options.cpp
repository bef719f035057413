// SPDX-License-Identifier: GPL-3.0-or-later
// DrLoraOptions validation and the saliency-mode strings.
#include "core/methods/drlora/drlora_options.h"

#include <array>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/config/experiment_config.h"
#include "core/config/json_reader.h"

namespace apportion {
namespace {

constexpr std::array<std::pair<SaliencyMode, const char*>, 5> kModes = {{
    {SaliencyMode::Geometric, "geometric"},
    {SaliencyMode::Product, "product"},
    {SaliencyMode::Sum, "sum"},
    {SaliencyMode::Frequency, "frequency"},
    {SaliencyMode::Importance, "importance"},
}};

}  // namespace

const char* to_string(SaliencyMode mode) {
  for (const auto& [m, name] : kModes) {
    if (m == mode) return name;
  }
  return "?";
}

SaliencyMode saliency_from_string(const std::string& text, const std::string& path) {
  for (const auto& [m, name] : kModes) {
    if (text == name) return m;
  }
  config_fail(path, "must be \"geometric\", \"product\", \"sum\", \"frequency\" or \"importance\"" +
                        got(text));
}

void DrLoraOptions::validate(const std::string& prefix) const {
  auto require = [&](bool ok, const char* field, const std::string& message) {
    if (!ok) config_fail(prefix + "." + field, message);
  };
  require(r_init >= 1, "r_init", "must be >= 1" + got(r_init));
  require(r_target >= r_init, "r_target",
          "must be >= r_init (" + std::to_string(r_init) + ")" + got(r_target));
  require(r_max >= r_target, "r_max",
          "must be >= r_target (" + std::to_string(r_target) + ")" + got(r_max));
  require(delta_r >= 1, "delta_r", "must be >= 1" + got(delta_r));
  require(interval >= 1, "interval", "must be >= 1 optimiser step" + got(interval));
  require(t_warm >= 0.0 && t_warm <= 1.0, "t_warm",
          "must be a fraction of the total steps in [0, 1]" + got(t_warm));
  require(t_stop >= t_warm && t_stop <= 1.0, "t_stop",
          "must be in [t_warm, 1] (t_warm = " + nlohmann::json(t_warm).dump() + ")" + got(t_stop));
  require(beta_f >= 0.0 && beta_f < 1.0, "beta_f", "must be in [0, 1)" + got(beta_f));
  require(beta_g >= 0.0 && beta_g < 1.0, "beta_g", "must be in [0, 1)" + got(beta_g));
  require(gamma >= 0.0 && gamma <= 1.0, "gamma", "must be in [0, 1]" + got(gamma));
}

DrLoraOptions to_drlora_options(const DrLoraConfig& c) {
  DrLoraOptions o;
  o.r_init = c.r_init;
  o.r_target = c.r_target;
  o.r_max = c.r_max;
  o.delta_r = c.delta_r;
  o.interval = c.interval;
  o.t_warm = c.t_warm;
  o.t_stop = c.t_stop;
  o.beta_f = c.beta_f;
  o.beta_g = c.beta_g;
  o.gamma = c.gamma;
  o.saliency = saliency_from_string(c.saliency, "allocation.drlora.saliency");
  return o;
}

}  // namespace apportion
