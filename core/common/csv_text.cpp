// SPDX-License-Identifier: GPL-3.0-or-later
// CSV field quoting and round-trip number formatting.
#include "core/common/csv_text.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace apportion {

std::string csv_escape(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string csv_exact_number(double value) {
  if (!std::isfinite(value)) return {};
  char buffer[40];
  for (int precision = 6; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof buffer, "%.*g", precision, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  return buffer;
}

}  // namespace apportion
