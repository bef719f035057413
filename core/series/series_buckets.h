// SPDX-License-Identifier: GPL-3.0-or-later
// Min/max ("M4") buckets of a scalar series: the rows of a step range split into equal-width
// step columns (one per pixel column of a plot), each column keeping its first, last, minimum
// and maximum finite value, the count and the sum. Drawing the first → min → max → last points
// of every column paints exactly the pixels the full series would (Jugel et al., "M4", VLDB
// 2014): no spike is ever dropped from view. Buckets merge exactly, so a coarse overview can be
// kept up to date from appended rows, and raw rows are simply buckets of one row. Torch- and
// Qt-free; the run store computes the same buckets in SQL (RunReader::metric_buckets).
//
// Intended usage:
//   BucketedSeries b = bucket_minmax(steps, values, lo, hi, /*columns=*/plot_width_px);
//   DrawnSeries d = drawn_points(b);              // ≤ 4 points per column, steps ascending
//   BucketedSeries coarse = rebucket(b, lo, hi, 300);   // exact: same as bucketing the rows
#pragma once

#include <cstdint>
#include <vector>

namespace apportion {

/// One column of a bucketed series. Non-finite rows (NaN, ±inf) are counted in `gaps` and
/// take no part in first/last/min/max/sum; a column with no finite row has count == 0.
struct SeriesBucket {
  int64_t first_step = 0;  ///< step of the first finite row (of the first row when count == 0)
  int64_t last_step = 0;   ///< step of the last finite row (of the last row when count == 0)
  double first = 0.0;
  double last = 0.0;
  double min = 0.0;
  double max = 0.0;
  double sum = 0.0;
  int64_t count = 0;  ///< finite rows
  int64_t gaps = 0;   ///< non-finite rows (drawn as a break in the line)

  double mean() const { return count > 0 ? sum / static_cast<double>(count) : 0.0; }
  bool operator==(const SeriesBucket& o) const;
};

using BucketedSeries = std::vector<SeriesBucket>;

/// The points a plot draws for a bucketed series, steps ascending: per column first, min, max,
/// last (fewer when they coincide); a NaN value after a column with gaps breaks the line.
struct DrawnSeries {
  std::vector<double> steps;
  std::vector<double> values;
};

/// The column of `step` among `columns` equal-width columns over [lo, hi]:
/// (step − lo) · columns / (hi − lo + 1), the formula the SQL query uses too.
int64_t bucket_column(int64_t step, int64_t lo, int64_t hi, int64_t columns);

/// One bucket per row (steps ascending).
BucketedSeries raw_buckets(const std::vector<int64_t>& steps, const std::vector<double>& values);

/// Buckets the rows with lo ≤ step ≤ hi into `columns` (≥ 1) columns; empty columns are absent.
BucketedSeries bucket_minmax(const std::vector<int64_t>& steps,
                             const std::vector<double>& values,
                             int64_t lo,
                             int64_t hi,
                             int64_t columns);

/// Merges buckets into `columns` columns over [lo, hi] (a bucket goes to the column of its
/// first_step; buckets outside the range are dropped). Exact when no input bucket straddles
/// an output column boundary, which holds for raw rows and for any finer bucketing on an
/// aligned grid.
BucketedSeries rebucket(const BucketedSeries& buckets, int64_t lo, int64_t hi, int64_t columns);

/// Folds bucket `b` into `into` (steps of `b` after those of `into`).
void merge_bucket(SeriesBucket& into, const SeriesBucket& b);

/// Total finite rows and total rows.
int64_t bucket_rows(const BucketedSeries& buckets);

/// The polyline of the buckets (see DrawnSeries).
DrawnSeries drawn_points(const BucketedSeries& buckets);

/// The buckets whose steps intersect [lo, hi] (binary search; buckets sorted by step).
BucketedSeries buckets_in_range(const BucketedSeries& buckets, int64_t lo, int64_t hi);

}  // namespace apportion
