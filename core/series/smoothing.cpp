// SPDX-License-Identifier: GPL-3.0-or-later
// Debiased EMA and trailing-window smoothing over (bucketed) rows.
#include "core/series/smoothing.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace apportion {

std::string smoothing_name(SmoothingKind kind) {
  switch (kind) {
    case SmoothingKind::Ema:
      return "ema";
    case SmoothingKind::Window:
      return "window";
    case SmoothingKind::None:
      break;
  }
  return "none";
}

SmoothingKind smoothing_kind_from_name(const std::string& name) {
  if (name == "ema") return SmoothingKind::Ema;
  if (name == "window") return SmoothingKind::Window;
  return SmoothingKind::None;
}

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> ema(const BucketedSeries& buckets, double weight) {
  // TensorBoard: last = last·w + (1 − w)·v; shown last / (1 − w^n) over the n finite rows.
  const double w = std::clamp(weight, 0.0, 0.999999);
  std::vector<double> out;
  out.reserve(buckets.size());
  double last = 0.0;
  double decay = 1.0;  // w^n
  for (const SeriesBucket& b : buckets) {
    if (b.count > 0) {
      const double wc = std::pow(w, static_cast<double>(b.count));
      last = last * wc + (1.0 - wc) * b.mean();
      decay *= wc;
    }
    out.push_back(decay < 1.0 ? last / (1.0 - decay) : kNaN);
  }
  return out;
}

std::vector<double> window_mean(const BucketedSeries& buckets, int64_t window) {
  const int64_t w = std::max<int64_t>(1, window);
  // Prefix sums over finite rows: the window of bucket i holds the last w rows up to its end;
  // a bucket cut by the window's start contributes its mean times the rows it keeps.
  std::vector<int64_t> rows(buckets.size() + 1, 0);
  std::vector<double> sums(buckets.size() + 1, 0.0);
  for (size_t i = 0; i < buckets.size(); ++i) {
    rows[i + 1] = rows[i] + buckets[i].count;
    sums[i + 1] = sums[i] + buckets[i].sum;
  }
  std::vector<double> out;
  out.reserve(buckets.size());
  for (size_t i = 0; i < buckets.size(); ++i) {
    const int64_t end = rows[i + 1];
    if (end == 0) {
      out.push_back(kNaN);
      continue;
    }
    const int64_t start = std::max<int64_t>(0, end - w);
    // First bucket j with rows[j + 1] > start: it holds row `start`.
    const size_t j =
        static_cast<size_t>(std::upper_bound(rows.begin(), rows.end(), start) - rows.begin() - 1);
    const int64_t keep = rows[j + 1] - start;  // rows of bucket j inside the window
    const double partial =
        buckets[j].count > 0 ? buckets[j].mean() * static_cast<double>(keep) : 0.0;
    const double total = partial + (sums[i + 1] - sums[j + 1]);
    out.push_back(total / static_cast<double>(end - start));
  }
  return out;
}

}  // namespace

std::vector<double> smooth_series(const BucketedSeries& buckets, const Smoothing& smoothing) {
  switch (smoothing.kind) {
    case SmoothingKind::Ema:
      return ema(buckets, smoothing.ema_weight);
    case SmoothingKind::Window:
      return window_mean(buckets, smoothing.window);
    case SmoothingKind::None:
      break;
  }
  std::vector<double> out;
  out.reserve(buckets.size());
  for (const SeriesBucket& b : buckets) out.push_back(b.count > 0 ? b.last : kNaN);
  return out;
}

}  // namespace apportion
