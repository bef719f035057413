// SPDX-License-Identifier: GPL-3.0-or-later
// CurveData: in-memory or store-backed rows of one curve, bucketed for the visible range.
#include "ui/plots/curve_data.h"

#include <algorithm>

namespace apportion::ui {

void CurveData::invalidate() {
  m_smoothedFor.reset();
  m_detailHi = m_detailLo - 1;
}

void CurveData::append(const std::vector<int64_t>& steps, const std::vector<double>& values) {
  const size_t n = std::min(steps.size(), values.size());
  for (size_t i = 0; i < n; ++i) {
    if (!m_steps.empty() && steps[i] <= m_steps.back()) continue;  // keep steps ascending
    m_steps.push_back(steps[i]);
    m_values.push_back(values[i]);
  }
  invalidate();
}

void CurveData::set(const std::vector<int64_t>& steps, const std::vector<double>& values) {
  m_steps.assign(steps.begin(),
                 steps.begin() + static_cast<long>(std::min(steps.size(), values.size())));
  m_values.assign(values.begin(), values.begin() + static_cast<long>(m_steps.size()));
  m_rawComplete = true;
  m_overview.clear();
  invalidate();
}

void CurveData::setStore(std::shared_ptr<RunReader> reader, std::string runId, std::string key) {
  m_reader = std::move(reader);
  m_runId = std::move(runId);
  m_key = std::move(key);
  m_steps.clear();
  m_values.clear();
  m_overview.clear();
  m_rawComplete = false;
  invalidate();
}

bool CurveData::refresh() {
  if (!m_reader) return false;
  if (m_overview.empty() && m_steps.empty()) {
    const auto range = m_reader->metric_step_range(m_runId, m_key);
    if (!range) return false;
    BucketedSeries overview =
        m_reader->metric_buckets(m_runId, m_key, range->first, range->second, kOverviewColumns);
    if (bucket_rows(overview) <= kRawLimit) {
      ensureRaw();
    } else {
      m_overview = std::move(overview);
    }
    invalidate();
    return true;
  }
  // A live run: append the rows after the last one held.
  const int64_t after = m_overview.empty() ? m_steps.back() : m_overview.back().last_step;
  const MetricSeries tail = m_reader->metric_series(m_runId, m_key, after);
  if (tail.steps.empty()) return false;
  if (m_overview.empty()) {
    m_steps.insert(m_steps.end(), tail.steps.begin(), tail.steps.end());
    m_values.insert(m_values.end(), tail.values.begin(), tail.values.end());
    if (static_cast<int64_t>(m_steps.size()) > 4 * kRawLimit && !m_smoothedFor) {
      // Grown long while watched: keep an overview instead of every row.
      m_overview =
          bucket_minmax(m_steps, m_values, m_steps.front(), m_steps.back(), kOverviewColumns);
      m_steps.clear();
      m_values.clear();
      m_rawComplete = false;
    }
  } else {
    const BucketedSeries rows = raw_buckets(tail.steps, tail.values);
    m_overview.insert(m_overview.end(), rows.begin(), rows.end());
    if (static_cast<int64_t>(m_overview.size()) > 2 * kOverviewColumns)
      m_overview = rebucket(m_overview, m_overview.front().first_step, m_overview.back().last_step,
                            kOverviewColumns);
    if (m_rawComplete) {
      m_steps.insert(m_steps.end(), tail.steps.begin(), tail.steps.end());
      m_values.insert(m_values.end(), tail.values.begin(), tail.values.end());
    }
  }
  invalidate();
  return true;
}

std::optional<std::pair<int64_t, int64_t>> CurveData::stepRange() const {
  if (!m_overview.empty())
    return std::make_pair(m_overview.front().first_step, m_overview.back().last_step);
  if (m_steps.empty()) return std::nullopt;
  return std::make_pair(m_steps.front(), m_steps.back());
}

int64_t CurveData::rowCount() const {
  return m_overview.empty() ? static_cast<int64_t>(m_steps.size()) : bucket_rows(m_overview);
}

BucketedSeries CurveData::buckets(int64_t lo, int64_t hi, int64_t columns) {
  if (m_overview.empty() || (m_rawComplete && !m_steps.empty()))
    return bucket_minmax(m_steps, m_values, lo, hi, columns);
  // Store overview: enough when it has at least one bucket per column in view.
  const BucketedSeries inView = buckets_in_range(m_overview, lo, hi);
  const int64_t viewColumns = std::max<int64_t>(1, columns);
  if (static_cast<int64_t>(inView.size()) >= viewColumns ||
      bucket_rows(inView) == static_cast<int64_t>(inView.size()))
    return rebucket(inView, lo, hi, viewColumns);
  if (lo != m_detailLo || hi != m_detailHi || columns != m_detailColumns) {
    m_detail = m_reader->metric_buckets(m_runId, m_key, lo, hi, viewColumns);
    m_detailLo = lo;
    m_detailHi = hi;
    m_detailColumns = columns;
  }
  return m_detail;
}

void CurveData::ensureRaw() {
  if (m_rawComplete || !m_reader) return;
  const MetricSeries all = m_reader->metric_series(m_runId, m_key, -1);
  m_steps = all.steps;
  m_values = all.values;
  m_rawComplete = true;
  invalidate();
}

const std::vector<double>& CurveData::smoothed(const Smoothing& smoothing) {
  const bool same = m_smoothedFor && m_smoothedFor->kind == smoothing.kind &&
                    m_smoothedFor->ema_weight == smoothing.ema_weight &&
                    m_smoothedFor->window == smoothing.window;
  if (!same) {
    m_smoothed = smooth_series(raw_buckets(m_steps, m_values), smoothing);
    m_smoothedFor = smoothing;
  }
  return m_smoothed;
}

}  // namespace apportion::ui
