// SPDX-License-Identifier: GPL-3.0-or-later
// Reading config files, `--set key=value` overrides and flattening to dotted params.
#include <fstream>
#include <sstream>

#include "core/common/error.h"
#include "core/common/json_parse.h"
#include "core/config/experiment_config.h"

namespace apportion {

nlohmann::json load_json_file(const std::string& path) {
  try {
    return read_json_file_bounded(path, JsonLimits::config());
  } catch (const JsonInputError& e) {
    if (e.where() == "file") throw ConfigError(path + ": " + e.reason());
    if (e.line() == 0) throw ConfigError(path + ": invalid JSON " + e.where() + ": " + e.reason());
    throw ConfigError(path + ":" + std::to_string(e.line()) + ":" + std::to_string(e.column()) +
                      ": invalid JSON (byte " + std::to_string(e.byte()) + "): " + e.reason() +
                      " — fix the file and try again");
  }
}

void apply_overrides(nlohmann::json& j, const std::vector<std::string>& overrides) {
  for (const auto& whole : overrides) {
    // Messages quote the override; a hostile 70 KB value is cut to its first 80 bytes.
    const std::string item =
        whole.size() <= 80 ? whole
                           : whole.substr(0, 80) + "… (" + std::to_string(whole.size()) + " bytes)";
    const auto eq = whole.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw ConfigError("--set " + item + ": expected key=value, e.g. --set train.lr=3e-4");
    }
    const std::string key = whole.substr(0, eq);
    const std::string text = whole.substr(eq + 1);
    nlohmann::json value;
    try {
      value = parse_json_bounded(text, JsonLimits::config());
    } catch (const JsonInputError& e) {
      // Bare words are strings (--set allocation.preset=2468 stays a string below, and so does
      // a regex such as [A-D]); JSON that is hostile rather than broken is an error.
      const std::string& why = e.reason();
      if (e.where() == "file" || why.find("nested deeper") != std::string::npos ||
          why.find("duplicate key") != std::string::npos ||
          why.find("out of range") != std::string::npos) {
        throw ConfigError("--set " + item + ": invalid JSON value, " + e.where() + ": " + why);
      }
      value = text;
    }
    nlohmann::json* node = &j;
    std::string walked;
    std::stringstream parts(key);
    std::string part;
    std::vector<std::string> path;
    while (std::getline(parts, part, '.')) path.push_back(part);
    for (size_t i = 0; i < path.size(); ++i) {
      if (path[i].empty()) throw ConfigError("--set " + item + ": empty path component");
      walked += (walked.empty() ? "" : ".") + path[i];
      if (node->is_array()) {
        // An array element by index: --set data.datasets.0.train=boolq/train.json
        size_t index = 0;
        const bool numeric =
            path[i].size() <= 9 && path[i].find_first_not_of("0123456789") == std::string::npos;
        if (numeric) index = std::stoul(path[i]);
        if (!numeric || index >= node->size()) {
          throw ConfigError("--set " + item + ": " + walked + " is not an element of the array (" +
                            std::to_string(node->size()) + " elements, indexes from 0)");
        }
        if (i + 1 == path.size()) {
          auto& slot = (*node)[index];
          if (slot.is_string() && !value.is_string()) value = text;
          slot = value;
        } else {
          node = &(*node)[index];
        }
        continue;
      }
      if (!node->is_object()) {
        throw ConfigError("--set " + item + ": " + walked + " is inside a non-object value");
      }
      if (i + 1 == path.size()) {
        // Keep strings strings when the existing value is a string (e.g. preset "2468").
        auto it = node->find(path[i]);
        if (it != node->end() && it->is_string() && !value.is_string()) value = text;
        (*node)[path[i]] = value;
      } else {
        if (!node->contains(path[i])) (*node)[path[i]] = nlohmann::json::object();
        node = &(*node)[path[i]];
      }
    }
  }
}

namespace {
void flatten_into(const nlohmann::json& j,
                  const std::string& prefix,
                  std::map<std::string, std::string>& out) {
  if (j.is_object() && !j.empty()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      flatten_into(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
    }
  } else {
    out[prefix] = j.is_string() ? j.get<std::string>() : j.dump();
  }
}
}  // namespace

std::map<std::string, std::string> flatten_json(const nlohmann::json& j) {
  std::map<std::string, std::string> out;
  flatten_into(j, "", out);
  return out;
}

}  // namespace apportion
