// SPDX-License-Identifier: GPL-3.0-or-later
// Min/max column buckets of a scalar series and the polyline drawn from them.
#include "core/series/series_buckets.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace apportion {

bool SeriesBucket::operator==(const SeriesBucket& o) const {
  auto same = [](double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); };
  return first_step == o.first_step && last_step == o.last_step && same(first, o.first) &&
         same(last, o.last) && same(min, o.min) && same(max, o.max) && count == o.count &&
         gaps == o.gaps && std::abs(sum - o.sum) <= 1e-9 * std::max(1.0, std::abs(sum));
}

int64_t bucket_column(int64_t step, int64_t lo, int64_t hi, int64_t columns) {
  const int64_t span = std::max<int64_t>(1, hi - lo + 1);
  return (step - lo) * std::max<int64_t>(1, columns) / span;
}

namespace {

SeriesBucket row_bucket(int64_t step, double value) {
  SeriesBucket b;
  b.first_step = b.last_step = step;
  if (std::isfinite(value)) {
    b.first = b.last = b.min = b.max = b.sum = value;
    b.count = 1;
  } else {
    b.gaps = 1;
  }
  return b;
}

}  // namespace

void merge_bucket(SeriesBucket& into, const SeriesBucket& b) {
  if (b.count > 0) {
    if (into.count == 0) {
      into.first_step = b.first_step;
      into.first = b.first;
      into.min = b.min;
      into.max = b.max;
    } else {
      into.min = std::min(into.min, b.min);
      into.max = std::max(into.max, b.max);
    }
    into.last_step = b.last_step;
    into.last = b.last;
    into.sum += b.sum;
    into.count += b.count;
  } else if (into.count == 0) {
    into.last_step = b.last_step;
  }
  into.gaps += b.gaps;
}

BucketedSeries raw_buckets(const std::vector<int64_t>& steps, const std::vector<double>& values) {
  BucketedSeries out;
  const size_t n = std::min(steps.size(), values.size());
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(row_bucket(steps[i], values[i]));
  return out;
}

BucketedSeries bucket_minmax(const std::vector<int64_t>& steps,
                             const std::vector<double>& values,
                             int64_t lo,
                             int64_t hi,
                             int64_t columns) {
  BucketedSeries out;
  const size_t n = std::min(steps.size(), values.size());
  const int64_t span = std::max<int64_t>(1, hi - lo + 1);
  const int64_t cols = std::max<int64_t>(1, columns);
  size_t i = static_cast<size_t>(
      std::lower_bound(steps.begin(), steps.begin() + static_cast<long>(n), lo) - steps.begin());
  // One tight pass per column: rows up to the first step of the next column (the inverse of
  // bucket_column: the smallest s with (s − lo)·cols / span ≥ c + 1).
  while (i < n && steps[i] <= hi) {
    const int64_t c = bucket_column(steps[i], lo, hi, cols);
    const int64_t next = std::min(hi + 1, lo + ((c + 1) * span + cols - 1) / cols);
    SeriesBucket b;
    b.first_step = b.last_step = steps[i];
    bool any = false;
    for (; i < n && steps[i] < next; ++i) {
      const double v = values[i];
      if (!std::isfinite(v)) {
        ++b.gaps;
        if (!any) b.last_step = steps[i];
        continue;
      }
      if (!any) {
        b.first_step = steps[i];
        b.first = b.min = b.max = v;
        any = true;
      } else {
        b.min = std::min(b.min, v);
        b.max = std::max(b.max, v);
      }
      b.last_step = steps[i];
      b.last = v;
      b.sum += v;
      ++b.count;
    }
    out.push_back(b);
  }
  return out;
}

BucketedSeries rebucket(const BucketedSeries& buckets, int64_t lo, int64_t hi, int64_t columns) {
  BucketedSeries out;
  int64_t column = -1;
  for (const SeriesBucket& b : buckets) {
    if (b.last_step < lo || b.first_step > hi) continue;
    const int64_t c = bucket_column(std::max(b.first_step, lo), lo, hi, columns);
    if (c != column || out.empty()) {
      out.push_back(b);
      column = c;
    } else {
      merge_bucket(out.back(), b);
    }
  }
  return out;
}

int64_t bucket_rows(const BucketedSeries& buckets) {
  int64_t n = 0;
  for (const SeriesBucket& b : buckets) n += b.count + b.gaps;
  return n;
}

DrawnSeries drawn_points(const BucketedSeries& buckets) {
  DrawnSeries d;
  d.steps.reserve(buckets.size() * 4);
  d.values.reserve(buckets.size() * 4);
  auto add = [&d](double step, double value) {
    if (!d.steps.empty() && d.steps.back() == step && d.values.back() == value) return;
    d.steps.push_back(step);
    d.values.push_back(value);
  };
  for (const SeriesBucket& b : buckets) {
    if (b.count > 0) {
      const double s0 = static_cast<double>(b.first_step);
      const double s1 = static_cast<double>(b.last_step);
      const double mid = 0.5 * (s0 + s1);
      add(s0, b.first);
      // The extremes sit inside the column; the one nearer the first value is drawn first so
      // the vertical stroke joins its neighbours without crossing itself.
      const bool minFirst = std::abs(b.first - b.min) <= std::abs(b.first - b.max);
      if (b.count > 2 || (b.min != b.first && b.min != b.last) ||
          (b.max != b.first && b.max != b.last)) {
        add(mid, minFirst ? b.min : b.max);
        add(mid, minFirst ? b.max : b.min);
      }
      add(s1, b.last);
    }
    if (b.gaps > 0) {
      d.steps.push_back(static_cast<double>(b.last_step));
      d.values.push_back(std::numeric_limits<double>::quiet_NaN());
    }
  }
  return d;
}

BucketedSeries buckets_in_range(const BucketedSeries& buckets, int64_t lo, int64_t hi) {
  const auto first =
      std::lower_bound(buckets.begin(), buckets.end(), lo,
                       [](const SeriesBucket& b, int64_t step) { return b.last_step < step; });
  BucketedSeries out;
  for (auto it = first; it != buckets.end() && it->first_step <= hi; ++it) out.push_back(*it);
  return out;
}

}  // namespace apportion
