// SPDX-License-Identifier: GPL-3.0-or-later
// RFC 4180 field quoting for every CSV this project writes (results tables, run lists, figure
// data): a field with a comma, quote, CR or LF is quoted, its quotes doubled.
//
// Intended usage:
//   out << csv_escape(name) << ',' << csv_number(value) << '\n';
#pragma once

#include <string>

namespace apportion {

std::string csv_escape(const std::string& field);
/// Shortest text that reads back to the same double ("%.17g" trimmed); empty for NaN/inf.
std::string csv_exact_number(double value);

}  // namespace apportion
