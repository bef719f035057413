// SPDX-License-Identifier: GPL-3.0-or-later
// CSV of a figure's curves: drawn points and raw rows.
#include "core/series/series_csv.h"

#include "core/common/csv_text.h"

namespace apportion {

void write_series_csv(std::ostream& out, const std::vector<ExportedCurve>& curves) {
  out << "series,label,kind,step,value\n";
  for (const ExportedCurve& c : curves) {
    const std::string prefix =
        csv_escape(c.series) + "," + csv_escape(c.label) + "," + csv_escape(c.kind) + ",";
    for (size_t i = 0; i < c.steps.size() && i < c.values.size(); ++i)
      out << prefix << csv_exact_number(c.steps[i]) << "," << csv_exact_number(c.values[i]) << "\n";
  }
}

}  // namespace apportion
