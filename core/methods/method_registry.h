// SPDX-License-Identifier: GPL-3.0-or-later
// The method registry: one row per allocation method (core/methods/method_rows.cpp lists them),
// and the lookups every caller uses instead of comparing method names.
//
// Intended usage:
//   const Method& m = method_of(cfg);                       // what a parsed config runs
//   const Method& n = method_named("mola");                  // ConfigError when unknown
//   const Method* r = method_for_run_label("guilomo_search"); // a stored run's method, or null
//   for (const Method* m : methods()) combo->addItem(m->name());   // form order
//   select_method(json, *m);                                 // a form's method choice
#pragma once

#include <string>
#include <vector>

#include "core/methods/method.h"

namespace apportion {

/// Every registered method, in the order forms list them.
const std::vector<const Method*>& methods();
/// The row of allocation.method `name`; ConfigError naming allocation.method when unknown.
const Method& method_named(const std::string& name);
/// The row of `name`, or nullptr.
const Method* find_method(const std::string& name);
/// The method a parsed config runs: the plain-LoRA baseline row for plain-LoRA uniform/MoLA
/// configs, else allocation.method's row. Needs cfg.adapters.
const Method& method_of(const ExperimentConfig& cfg);
/// The method of a stored run from its recorded allocation_method, or nullptr (pretraining,
/// unknown labels of other versions).
const Method* method_for_run_label(const std::string& run_label);
/// The methods whose config lives in allocation.<key> (empty when none).
std::vector<const Method*> methods_with_section(const std::string& key);
/// Every [layer, column] matrix view: the shared ones (ranks per expert, the backbone router's
/// load) and every method's, without duplicates, in a stable order.
std::vector<MatrixView> matrix_views();
/// A form's choice: `m.select(experiment)`, then drops allocation sections that belong to no
/// method the config now uses and allocation.preset unless the method reads it.
void select_method(nlohmann::json& experiment, const Method& m);

}  // namespace apportion
