// SPDX-License-Identifier: GPL-3.0-or-later
// Reading and writing GuiLoMo allocations: our one-file layout and the reference code's
// expert.json / rank.json pair (METHODS.md §3.5). Readers reject anything they do not
// understand, naming the file and the key.
#include "core/allocation/guilomo_allocation_io.h"

#include <fstream>
#include <map>

#include "core/common/error.h"
#include "core/common/json_parse.h"
#include "core/config/experiment_config.h"
#include "core/config/json_reader.h"

namespace apportion {
namespace {

void write_json_file(const nlohmann::json& j, const std::string& path) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  AP_CHECK_AS(ConfigError, static_cast<bool>(out), path,
              ": cannot open the file for writing (check the directory)");
  out << j.dump(4) << "\n";
  AP_CHECK_AS(ConfigError, static_cast<bool>(out), path, ": write failed (disk full?)");
}

/// An integer JSON value of key `key` in file `where`, else ConfigError.
int integer_value(const nlohmann::json& v, const std::string& where, const std::string& key) {
  AP_CHECK_AS(ConfigError, v.is_number_integer(), where, ": key \"", key,
              "\": must be an integer, got ", v.is_number() ? v.dump() : json_type_name(v));
  const auto value = json_to_integer<int>(v);
  AP_CHECK_AS(ConfigError, value.has_value(), where, ": key \"", key,
              "\": integer out of range, got ", v.dump());
  return *value;
}

void check_experts(int experts,
                   const GuiLoMoReadoutOptions& o,
                   const std::string& where,
                   const std::string& key) {
  AP_CHECK_AS(ConfigError, experts >= o.top_k && experts <= o.n_max, where, ": key \"", key,
              "\": ", experts, " experts is outside [top_k=", o.top_k, ", n_max=", o.n_max,
              "]; check n_max/top_k or the file");
}

void check_rank(int rank, int r_max, const std::string& where, const std::string& key) {
  AP_CHECK_AS(ConfigError, rank >= 1 && rank <= r_max, where, ": key \"", key, "\": rank ", rank,
              " is outside [1, r_max=", r_max, "]; check r_max or the file");
}

}  // namespace

nlohmann::json allocation_to_json(const GuiLoMoAllocation& allocation) {
  nlohmann::json modules = nlohmann::json::array();
  for (const auto& m : allocation.modules) {
    modules.push_back({{"path", m.path},
                       {"layer", m.layer},
                       {"module", m.module},
                       {"experts", m.experts},
                       {"ranks", m.ranks}});
  }
  return {{"format", kGuiLoMoAllocationFormat}, {"version", 1},
          {"n_max", allocation.n_max},          {"r_max", allocation.r_max},
          {"top_k", allocation.top_k},          {"modules", modules}};
}

GuiLoMoAllocation allocation_from_json(const nlohmann::json& j, const std::string& where) {
  try {
    JsonObjectReader root(j, "");
    std::string format;
    int version = 0;
    root.get("format", format);
    root.get("version", version);
    if (format != kGuiLoMoAllocationFormat) {
      config_fail("format", std::string("must be \"") + kGuiLoMoAllocationFormat + "\", got \"" +
                                format + "\"");
    }
    if (version != 1) config_fail("version", "unsupported version " + std::to_string(version));
    GuiLoMoAllocation a;
    for (const char* key : {"n_max", "r_max", "top_k", "modules"}) {
      if (!root.has(key)) config_fail(key, "missing");
    }
    root.get("n_max", a.n_max);
    root.get("r_max", a.r_max);
    root.get("top_k", a.top_k);
    GuiLoMoReadoutOptions o{a.n_max, a.r_max, a.top_k, 1};
    o.validate();
    const auto* modules = root.raw("modules");
    if (!modules->is_array()) config_fail("modules", "must be an array");
    root.finish();
    for (size_t i = 0; i < modules->size(); ++i) {
      const std::string path = "modules[" + std::to_string(i) + "]";
      JsonObjectReader r((*modules)[i], path);
      GuiLoMoModuleAllocation m;
      for (const char* key : {"path", "experts", "ranks"}) {
        if (!r.has(key)) config_fail(r.child(key), "missing");
      }
      r.get("path", m.path);
      std::tie(m.layer, m.module) = parse_module_path(m.path);
      r.get("layer", m.layer);
      r.get("module", m.module);
      r.get("experts", m.experts);
      r.get("ranks", m.ranks);
      r.finish();
      if (a.find(m.path) != nullptr) config_fail(r.child("path"), "duplicate module " + m.path);
      check_experts(m.experts, o, where, path + ".experts");
      if (static_cast<int>(m.ranks.size()) != a.n_max) {
        config_fail(r.child("ranks"), "must have n_max=" + std::to_string(a.n_max) + " entries");
      }
      for (int s = 0; s < a.n_max; ++s) {
        const int rank = m.ranks[static_cast<size_t>(s)];
        // Unused slots may be 0 (unknown); used ones need a real rank.
        if (s >= m.experts && rank == 0) continue;
        check_rank(rank, a.r_max, where, path + ".ranks[" + std::to_string(s) + "]");
      }
      a.modules.push_back(std::move(m));
    }
    sort_modules(a.modules);
    return a;
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    if (what.rfind(where, 0) == 0) throw;
    throw ConfigError(where + ": " + what);
  }
}

void save_allocation(const GuiLoMoAllocation& allocation, const std::string& path) {
  write_json_file(allocation_to_json(allocation), path);
}

GuiLoMoAllocation load_allocation(const std::string& path) {
  return allocation_from_json(load_json_file(path), path);
}

GuiLoMoReferenceJson to_reference_json(const GuiLoMoAllocation& allocation) {
  GuiLoMoReferenceJson out{nlohmann::json::object(), nlohmann::json::object()};
  for (const auto& m : allocation.modules) {
    out.expert[m.path] = m.experts;
    for (size_t s = 0; s < m.ranks.size(); ++s) {
      if (m.ranks[s] > 0) out.rank[m.path + kGuiLoMoRankKeyInfix + std::to_string(s)] = m.ranks[s];
    }
  }
  return out;
}

GuiLoMoAllocation from_reference_json(const nlohmann::json& expert,
                                      const nlohmann::json& rank,
                                      const GuiLoMoReadoutOptions& options,
                                      const std::string& expert_where,
                                      const std::string& rank_where) {
  options.validate();
  AP_CHECK_AS(ConfigError, expert.is_object(), expert_where,
              ": must be a JSON object {module path: expert count}, got ", json_type_name(expert));
  AP_CHECK_AS(ConfigError, rank.is_object(), rank_where,
              ": must be a JSON object {module path.expertlora_E_vector_i: rank}, got ",
              json_type_name(rank));
  std::map<std::string, GuiLoMoModuleAllocation> modules;
  for (auto it = expert.begin(); it != expert.end(); ++it) {
    GuiLoMoModuleAllocation m;
    m.path = it.key();
    std::tie(m.layer, m.module) = parse_module_path(m.path);
    m.experts = integer_value(it.value(), expert_where, it.key());
    check_experts(m.experts, options, expert_where, it.key());
    m.ranks.assign(static_cast<size_t>(options.n_max), 0);
    modules.emplace(m.path, std::move(m));
  }
  const std::string infix = kGuiLoMoRankKeyInfix;
  for (auto it = rank.begin(); it != rank.end(); ++it) {
    const std::string& key = it.key();
    const auto pos = key.rfind(infix);
    AP_CHECK_AS(ConfigError, pos != std::string::npos, rank_where, ": key \"", key,
                "\": expected <module path>", infix, "<slot>");
    const std::string path = key.substr(0, pos);
    const std::string slot_text = key.substr(pos + infix.size());
    const bool digits = !slot_text.empty() && slot_text.size() <= 6 &&
                        slot_text.find_first_not_of("0123456789") == std::string::npos;
    const int slot = digits ? std::stoi(slot_text) : -1;
    AP_CHECK_AS(ConfigError, slot >= 0 && slot < options.n_max, rank_where, ": key \"", key,
                "\": slot \"", slot_text, "\" is not an index in [0, n_max=", options.n_max, ")");
    auto found = modules.find(path);
    AP_CHECK_AS(ConfigError, found != modules.end(), rank_where, ": key \"", key, "\": module \"",
                path, "\" is not in ", expert_where,
                "; the two files must come from the same search");
    const int r = integer_value(it.value(), rank_where, key);
    check_rank(r, options.r_max, rank_where, key);
    found->second.ranks[static_cast<size_t>(slot)] = r;
  }
  GuiLoMoAllocation a;
  a.n_max = options.n_max;
  a.r_max = options.r_max;
  a.top_k = options.top_k;
  for (auto& [path, m] : modules) {
    for (int s = 0; s < m.experts; ++s) {
      AP_CHECK_AS(ConfigError, m.ranks[static_cast<size_t>(s)] > 0, rank_where, ": key \"", path,
                  infix, s, "\" is missing, but ", expert_where, " gives \"", path, "\" ",
                  m.experts, " experts");
    }
    a.modules.push_back(std::move(m));
  }
  sort_modules(a.modules);
  return a;
}

void save_reference_files(const GuiLoMoAllocation& allocation, const std::string& directory) {
  const auto j = to_reference_json(allocation);
  write_json_file(j.expert, directory + "/expert.json");
  write_json_file(j.rank, directory + "/rank.json");
}

GuiLoMoAllocation load_reference_files(const std::string& expert_path,
                                       const std::string& rank_path,
                                       const GuiLoMoReadoutOptions& options) {
  return from_reference_json(load_json_file(expert_path), load_json_file(rank_path), options,
                             expert_path, rank_path);
}

}  // namespace apportion
