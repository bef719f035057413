// SPDX-License-Identifier: GPL-3.0-or-later
// Smoothing of a scalar series for display: TensorBoard's debiased exponential moving average
// and a trailing moving average over a window of rows. Both take a bucketed series
// (core/series/series_buckets.h): on raw rows (buckets of one row) they are the textbook
// formulas; on coarser buckets each bucket counts as `count` rows at its mean, which is exact
// for the window's row accounting and for the EMA's decay (weight^count) and approximates only
// the variation inside one pixel column. Non-finite rows are skipped, as TensorBoard does.
//
// Intended usage:
//   std::vector<double> y = smooth_series(buckets, {SmoothingKind::Ema, 0.9, 0});
//   // y[i] is the smoothed value at the end of buckets[i] (at its last_step)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/series/series_buckets.h"

namespace apportion {

enum class SmoothingKind { None, Ema, Window };

struct Smoothing {
  SmoothingKind kind = SmoothingKind::None;
  double ema_weight = 0.9;  ///< 0 ≤ w < 1 (TensorBoard's slider)
  int64_t window = 25;      ///< rows in the trailing window (≥ 1)
  bool active() const { return kind != SmoothingKind::None; }
};

/// "none", "ema", "window" (for settings and CSV headers).
std::string smoothing_name(SmoothingKind kind);
SmoothingKind smoothing_kind_from_name(const std::string& name);

/// One smoothed value per bucket (NaN for a bucket without finite rows before any data).
std::vector<double> smooth_series(const BucketedSeries& buckets, const Smoothing& smoothing);

}  // namespace apportion
