// SPDX-License-Identifier: GPL-3.0-or-later
// Text ↔ JSON for the Sweep dialog's fields: a grid row's comma-separated values ("0.001, 3e-3",
// "[2,4], [4,4]", "mola, uniform") and a seed list ("0-2", "0,1,2", "0-2,5"). Pure functions,
// so the dialog and its tests share one definition.
//
// Intended usage:
//   const nlohmann::json values = parseGridValues("0.001, 0.003");       // [0.001, 0.003]
//   const nlohmann::json presets = parseGridValues("2468, 8642", true);  // ["2468", "8642"]
//   QString error;
//   const auto seeds = parseSeeds("0-2", &error);                        // {0, 1, 2}
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include <QString>

#include <nlohmann/json.hpp>

namespace apportion::ui {

/// Splits `text` at commas outside quotes and brackets; each trimmed item becomes its JSON value
/// when it parses as JSON (numbers, true, null, "quoted", [arrays], {objects}), else the item as
/// a string. With `strings`, items that are not "quoted" JSON strings stay strings (for keys
/// whose experiment value is a string: "2468" must not turn into a number). Empty items are
/// dropped. Returns a JSON array.
nlohmann::json parseGridValues(const QString& text, bool strings = false);

/// The inverse of parseGridValues: values joined by ", ", strings bare unless they would read
/// back as something else (then quoted JSON).
QString formatGridValues(const nlohmann::json& values, bool strings = false);

/// "0-2", "0,1,2", "0-2, 5" → seeds in the order written (duplicates dropped); "" → none (the
/// experiment's own seed). std::nullopt with `*error` set when malformed or over 10,000 seeds.
std::optional<std::vector<uint64_t>> parseSeeds(const QString& text, QString* error = nullptr);

/// Seeds as parseSeeds reads them: runs of three or more consecutive seeds as "a-b".
QString formatSeeds(const std::vector<uint64_t>& seeds);

}  // namespace apportion::ui
