// SPDX-License-Identifier: GPL-3.0-or-later
// Parsing, serialisation and validation of the per-method allocation sections
// (allocation.guilomo, allocation.drlora), kept apart from the experiment config's main parser.
#pragma once

#include <nlohmann/json.hpp>

#include "core/config/experiment_config.h"

namespace apportion {

/// Strict parse of allocation.guilomo / allocation.drlora (unknown keys are ConfigErrors).
GuiLoMoConfig parse_guilomo_config(const nlohmann::json& j);
DrLoraConfig parse_drlora_config(const nlohmann::json& j);
/// Every field written out.
nlohmann::json guilomo_config_to_json(const GuiLoMoConfig& g);
nlohmann::json drlora_config_to_json(const DrLoraConfig& d);
/// Range and enum checks, each error naming allocation.guilomo.<field> / allocation.drlora.<field>.
void validate_guilomo_config(const GuiLoMoConfig& g, const ExperimentConfig& cfg);
void validate_drlora_config(const DrLoraConfig& d);

}  // namespace apportion
