// SPDX-License-Identifier: GPL-3.0-or-later
// Reading and expanding sweep files (see sweep_spec.h).
#include "core/remote/sweep_spec.h"

#include <filesystem>

#include "core/common/error.h"
#include "core/common/json_parse.h"
#include "core/config/json_reader.h"

namespace apportion {
namespace fs = std::filesystem;

namespace {
constexpr size_t kMaxMembers = 10000;

/// A grid value as `--set` writes it: strings bare, everything else as JSON.
std::string override_text(const nlohmann::json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}
}  // namespace

SweepSpec sweep_spec_from_json(const nlohmann::json& j, const std::string& where) {
  try {
    if (!j.is_object()) config_fail("", "a sweep must be a JSON object {…}");
    SweepSpec s;
    JsonObjectReader r(j, "");
    if (r.has("name")) r.get("name", s.name);
    r.get("experiment", s.experiment_path);
    const nlohmann::json* grid = r.raw("grid");
    if (grid) {
      if (!grid->is_object()) config_fail("grid", "must be an object {\"key\": [values…]}");
      for (const auto& [key, values] : grid->items()) {
        if (key.empty() || key.find('=') != std::string::npos) {
          config_fail("grid", "a key must be a dotted config path without '='" + got(key));
        }
        if (!values.is_array() || values.empty()) {
          config_fail("grid." + key, "must be a non-empty array of values");
        }
        std::vector<nlohmann::json> list(values.begin(), values.end());
        s.grid.emplace_back(key, list);
      }
    }
    if (const nlohmann::json* seeds = r.raw("seeds")) {
      if (!seeds->is_array()) config_fail("seeds", "must be an array of seeds, e.g. [0, 1, 2]");
      for (size_t i = 0; i < seeds->size(); ++i) {
        const auto v = json_to_integer<uint64_t>((*seeds)[i]);
        if (!v) config_fail("seeds[" + std::to_string(i) + "]", "must be an integer ≥ 0");
        s.seeds.push_back(*v);
      }
    }
    if (r.has("set")) r.get("set", s.set);
    for (const auto& o : s.set) {
      if (o.find('=') == std::string::npos) config_fail("set", "write key=value" + got(o));
    }
    if (r.has("max_steps")) {
      int steps = 0;
      r.get("max_steps", steps);
      config_require(steps >= 1, "max_steps", "must be ≥ 1" + got(steps));
      s.max_steps = steps;
    }
    if (r.has("max_parallel")) r.get("max_parallel", s.max_parallel);
    config_require(s.max_parallel >= 0 && s.max_parallel <= 10000, "max_parallel",
                   "must be 1..10000 (0 or absent: the profile's)" + got(s.max_parallel));
    r.finish();
    return s;
  } catch (const ConfigError& e) {
    throw ConfigError(where + ": " + e.what());
  }
}

SweepSpec load_sweep_spec(const std::string& path) {
  nlohmann::json j;
  try {
    j = read_json_file_bounded(path, JsonLimits::config());
  } catch (const std::exception& e) {
    throw ConfigError(path + ": " + e.what());
  }
  SweepSpec s = sweep_spec_from_json(j, path);
  s.file = path;
  if (fs::path(s.experiment_path).is_relative()) {
    s.experiment_path =
        (fs::absolute(path).parent_path() / s.experiment_path).lexically_normal().string();
  }
  return s;
}

std::vector<SweepMember> expand_sweep(const SweepSpec& spec) {
  size_t points = 1;
  for (const auto& [key, values] : spec.grid) {
    points *= values.size();
    if (points > kMaxMembers) break;
  }
  const size_t seeds = spec.seeds.empty() ? 1 : spec.seeds.size();
  if (points * seeds > kMaxMembers) {
    throw ConfigError(spec.file + ": grid × seeds gives more than " + std::to_string(kMaxMembers) +
                      " runs; split the sweep");
  }
  std::vector<SweepMember> out;
  for (size_t p = 0; p < points; ++p) {
    std::vector<std::string> overrides = spec.set;
    std::string label;
    size_t rest = p;
    std::vector<std::string> point_parts(spec.grid.size());
    for (size_t g = spec.grid.size(); g-- > 0;) {  // the last key varies fastest
      const auto& [key, values] = spec.grid[g];
      point_parts[g] = key + "=" + override_text(values[rest % values.size()]);
      rest /= values.size();
    }
    for (const auto& part : point_parts) {
      overrides.push_back(part);
      label += (label.empty() ? "" : " ") + part;
    }
    for (size_t s = 0; s < seeds; ++s) {
      SweepMember m;
      m.index = static_cast<int>(out.size());
      m.point = static_cast<int>(p);
      m.overrides = overrides;
      m.label = label;
      if (!spec.seeds.empty()) {
        m.has_seed = true;
        m.seed = spec.seeds[s];
        m.overrides.push_back("seed=" + std::to_string(m.seed));
      }
      out.push_back(m);
    }
  }
  return out;
}

}  // namespace apportion
