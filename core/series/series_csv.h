// SPDX-License-Identifier: GPL-3.0-or-later
// The data behind an exported figure as one CSV: for every curve the points drawn (min/max
// buckets, smoothed when smoothing is on) and the raw rows behind them, one row per point:
//   series,label,kind,step,value
// kind is "drawn", "raw", "band_min" or "band_max"; numbers round-trip exactly (csv_exact_number),
// an empty value is NaN (a gap). Written by the GUI's "Export data (CSV)…".
//
// Intended usage:
//   std::vector<ExportedCurve> curves = ...;
//   write_series_csv(std::cout, curves);
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace apportion {

struct ExportedCurve {
  std::string series;  ///< stable id (e.g. "<run id>|train/loss")
  std::string label;   ///< legend text
  std::string kind;    ///< drawn, raw, band_min, band_max
  std::vector<double> steps;
  std::vector<double> values;
};

void write_series_csv(std::ostream& out, const std::vector<ExportedCurve>& curves);

}  // namespace apportion
