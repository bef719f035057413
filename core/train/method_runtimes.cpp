// SPDX-License-Identifier: GPL-3.0-or-later
// The torch rows of the method registry, by registry name, and the defaults.
#include <map>

#include "core/methods/method_registry.h"
#include "core/train/method_runtime.h"

namespace apportion {

ExpertAllocation MethodRuntime::allocation(const ExperimentConfig& cfg,
                                           const std::string& /*workspace_dir*/,
                                           BuiltModel& built) const {
  return plan_allocation(cfg, built.shape);
}

const MethodRuntime& runtime_of(const ExperimentConfig& cfg) {
  static const MethodRuntime kDefaults;
  if (!cfg.adapters) return kDefaults;
  static const std::map<std::string, const MethodRuntime*> kRows = {
      {"guilomo", guilomo_runtime()},
      {"drlora", drlora_runtime()},
      {"static_frequency", static_frequency_runtime()},
      {"alphalora", alphalora_runtime()},
      {"increlora", increlora_runtime()},
  };
  const auto it = kRows.find(method_of(cfg).name());
  return it == kRows.end() ? kDefaults : *it->second;
}

}  // namespace apportion
