// SPDX-License-Identifier: GPL-3.0-or-later
// Differing configuration keys across N runs.
#include "core/store/config_diff.h"

#include <set>

namespace apportion {

std::vector<ParamRow> param_rows(const std::vector<const Run*>& runs, bool only_differences) {
  std::vector<const Run*> present;
  for (const Run* r : runs)
    if (r) present.push_back(r);
  std::set<std::string> keys;
  for (const Run* r : present)
    for (const auto& [key, value] : r->params) keys.insert(key);
  std::vector<ParamRow> rows;
  for (const std::string& key : keys) {
    ParamRow row;
    row.key = key;
    for (const Run* r : present) {
      const auto it = r->params.find(key);
      row.values.push_back(it == r->params.end() ? std::nullopt
                                                 : std::optional<std::string>(it->second));
    }
    for (const auto& v : row.values)
      if (v != row.values.front()) row.differs = true;
    if (row.differs || !only_differences) rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace apportion
