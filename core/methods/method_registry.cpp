// SPDX-License-Identifier: GPL-3.0-or-later
// The registry's table and lookups.
#include "core/methods/method_registry.h"

#include <algorithm>

#include "core/common/error.h"
#include "core/methods/method_rows.h"
#include "core/store/matrix_keys.h"

namespace apportion {

const std::vector<const Method*>& methods() {
  static const std::vector<const Method*> kRows = {
      &lora_method(),   &uniform_method(),          &mola_method(),      &guilomo_method(),
      &drlora_method(), &static_frequency_method(), &alphalora_method(), &increlora_method(),
  };
  return kRows;
}

const Method* find_method(const std::string& name) {
  for (const Method* m : methods()) {
    if (m->name() == name) return m;
  }
  return nullptr;
}

const Method& method_named(const std::string& name) {
  if (const Method* m = find_method(name); m && m != &lora_method()) return *m;
  std::string known;
  for (const Method* m : methods()) {
    if (m != &lora_method()) known += (known.empty() ? "" : ", ") + m->name();
  }
  throw ConfigError("allocation.method: unknown method \"" + name + "\" (known: " + known +
                    "; plain LoRA is adapters.method \"lora\")");
}

const Method& method_of(const ExperimentConfig& cfg) {
  AP_CHECK(cfg.adapters.has_value(), "method_of needs an adapters section");
  if (lora_method().describes(cfg)) return lora_method();
  return method_named(cfg.allocation.method);
}

const Method* method_for_run_label(const std::string& run_label) {
  for (const Method* m : methods()) {
    const auto labels = m->run_labels();
    if (std::find(labels.begin(), labels.end(), run_label) != labels.end()) return m;
  }
  return nullptr;
}

std::vector<const Method*> methods_with_section(const std::string& key) {
  std::vector<const Method*> out;
  for (const Method* m : methods()) {
    if (!key.empty() && m->section() == key) out.push_back(m);
  }
  return out;
}

std::vector<MatrixView> matrix_views() {
  std::vector<MatrixView> out = {
      {matrix_keys::kAllocRank, "rank per expert (mean over modules)", "rank", "expert"},
  };
  for (const Method* m : methods()) {
    for (const MatrixView& v : m->matrix_views()) {
      const bool seen =
          std::any_of(out.begin(), out.end(), [&v](const MatrixView& o) { return o.key == v.key; });
      if (!seen) out.push_back(v);
    }
  }
  out.push_back(
      {matrix_keys::kBackboneLoadFraction, "backbone router load", "load fraction", "expert"});
  return out;
}

void select_method(nlohmann::json& experiment, const Method& m) {
  m.select(experiment);
  nlohmann::json& alloc = experiment["allocation"];
  if (!alloc.is_object()) return;
  const std::string allocation_method = alloc.value("method", std::string());
  const Method* used = find_method(allocation_method);
  const std::string kept = used ? used->section() : "";
  for (const Method* other : methods()) {
    if (!other->section().empty() && other->section() != kept) alloc.erase(other->section());
  }
  if (!(used && used->traits().uses_preset)) alloc.erase("preset");
  if (alloc.empty()) experiment.erase("allocation");
}

}  // namespace apportion
