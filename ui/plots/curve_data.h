// SPDX-License-Identifier: GPL-3.0-or-later
// CurveData: the rows behind one plotted curve, held in memory (points appended or replaced by
// a view: group means, bands, markers) or read from the run store on demand: a store curve
// first reads an SQL min/max overview (≤ kOverviewColumns buckets, however long the run), reads
// the visible range again in SQL when zoomed in past the overview's resolution (full resolution
// once a column holds one row), and loads its raw rows only when they are needed (smoothing,
// CSV export). Live runs append their new rows to the overview. Qt-free apart from nothing;
// kept in ui/ because only the plots use it.
//
// Intended usage:
//   CurveData c; c.setStore(reader, runId, "train/loss"); c.refresh();
//   BucketedSeries b = c.buckets(lo, hi, width_px);
//   c.ensureRaw(); c.rawSteps(); c.rawValues();
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/series/series_buckets.h"
#include "core/series/smoothing.h"
#include "core/store/run_reader.h"

namespace apportion::ui {

class CurveData {
 public:
  /// Buckets of the overview of a store curve.
  static constexpr int64_t kOverviewColumns = 4096;
  /// A store curve with at most this many rows keeps them all (no SQL bucketing needed).
  static constexpr int64_t kRawLimit = 20000;

  /// In-memory rows (steps ascending; appended rows come after the existing ones).
  void append(const std::vector<int64_t>& steps, const std::vector<double>& values);
  void set(const std::vector<int64_t>& steps, const std::vector<double>& values);

  /// Follows `key` of a run in the store; refresh() reads it.
  void setStore(std::shared_ptr<RunReader> reader, std::string runId, std::string key);
  bool isStore() const { return static_cast<bool>(m_reader); }
  const std::string& runId() const { return m_runId; }
  const std::string& key() const { return m_key; }
  /// Reads what the store has beyond what is held (new rows of a live run); returns whether
  /// anything changed. Throws StoreError from the reader.
  bool refresh();

  /// First and last step held (std::nullopt: no rows).
  std::optional<std::pair<int64_t, int64_t>> stepRange() const;
  /// Rows held or known from the overview.
  int64_t rowCount() const;
  /// The buckets of [lo, hi] at `columns` columns (may read the store when zoomed in).
  BucketedSeries buckets(int64_t lo, int64_t hi, int64_t columns);

  /// Loads every raw row of a store curve (no-op for in-memory rows or when loaded).
  void ensureRaw();
  bool hasRaw() const { return m_rawComplete; }
  const std::vector<int64_t>& rawSteps() const { return m_steps; }
  const std::vector<double>& rawValues() const { return m_values; }
  /// The smoothed raw rows (cached per setting); ensureRaw() first.
  const std::vector<double>& smoothed(const Smoothing& smoothing);

 private:
  void invalidate();

  std::shared_ptr<RunReader> m_reader;
  std::string m_runId;
  std::string m_key;
  std::vector<int64_t> m_steps;  ///< raw rows (complete when m_rawComplete)
  std::vector<double> m_values;
  bool m_rawComplete = true;  ///< in-memory curves always; store curves once loaded
  BucketedSeries m_overview;  ///< store curves beyond kRawLimit rows
  BucketedSeries m_detail;    ///< SQL buckets of the last zoomed range
  int64_t m_detailLo = 0;
  int64_t m_detailHi = -1;
  int64_t m_detailColumns = 0;
  std::vector<double> m_smoothed;
  std::optional<Smoothing> m_smoothedFor;
};

}  // namespace apportion::ui
