// SPDX-License-Identifier: GPL-3.0-or-later
// CompareView: any number of sides compared at once, each a run or a seed group (runs of one
// config that differ only by seed), named A, B, C, … in the order given and drawn in stable
// colours (a side keeps its Okabe–Ito colour while it stays selected; new sides take the first
// free one). Curves: loss and accuracy overlays (runs straight from the store, bucketed per
// pixel; groups: the mean curve with a translucent min–max band, n in the legend) under one
// smoothing / log-axis toolbar; click a legend entry to hide it, double-click to solo it.
// Below, in tabs: Statistics (per metric each side's mean over its runs' latest values; the
// Welch difference and 95 % interval of A − X for every other side X, in words), Config (only
// the keys that differ across all sides, one column per side; a group's `seed` lists its
// seeds), Tasks (per-task reported accuracy as grouped bars, one colour per side, 95 % interval
// whiskers for groups) and Allocation (small-multiple heatmaps on one shared colour scale, plus
// the A − B difference when exactly two sides are compared). A banner warns when the sides
// are not comparable task by task (comparability_warnings, core/store/results_table.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <QColor>
#include <QList>
#include <QStringList>
#include <QTimer>
#include <QWidget>

#include "core/store/run_reader.h"

class QCheckBox;
class QCustomPlot;
class QLabel;
class QTabWidget;
class QTableWidget;
class QTextBrowser;

namespace apportion::ui {

class AllocationDiffPlot;
class AllocationSmallMultiples;
class CurveToolbar;
class MetricPlot;

/// One side of a comparison: a single run, or the member runs of a seed group.
struct CompareSide {
  QString label;       ///< group label (runs: empty, the run's name is read from the store)
  QString groupKey;    ///< seed_group_key of a group; empty for a run
  QStringList runIds;  ///< the run, or the group's members (by seed)
  bool isGroup() const { return !groupKey.isEmpty() && runIds.size() > 1; }
  bool isEmpty() const { return runIds.isEmpty(); }
  /// "group:<key>" or "run:<id>": what keeps a side's colour across selections.
  QString identity() const {
    return isGroup() ? QStringLiteral("group:") + groupKey
                     : QStringLiteral("run:") + runIds.value(0);
  }
  static CompareSide run(const QString& runId) {
    return runId.isEmpty() ? CompareSide{} : CompareSide{{}, {}, {runId}};
  }
};

/// "A", "B", …, "Z", then "27", "28", …
QString sideLetter(int index);

class CompareView : public QWidget {
  Q_OBJECT

 public:
  explicit CompareView(QWidget* parent = nullptr);

  void setReader(std::shared_ptr<RunReader> reader);
  /// Compares the given sides (empty ones are dropped; fewer than two clears).
  void setSides(const QList<CompareSide>& sides);
  void setSides(const CompareSide& a, const CompareSide& b) { setSides(QList<CompareSide>{a, b}); }
  void setRuns(const QString& runA, const QString& runB) {
    setSides(CompareSide::run(runA), CompareSide::run(runB));
  }
  const QList<CompareSide>& sides() const { return m_sides; }
  QColor sideColor(int index) const { return m_colors.value(index, Qt::gray); }
  /// The first run of side A / B, their sides and colours (two-side shorthands).
  QString runA() const { return firstRun(0); }
  QString runB() const { return firstRun(1); }
  CompareSide sideA() const { return m_sides.value(0); }
  CompareSide sideB() const { return m_sides.value(1); }
  QColor colorA() const { return sideColor(0); }
  QColor colorB() const { return sideColor(1); }

  MetricPlot* lossPlot() const { return m_lossPlot; }
  MetricPlot* accuracyPlot() const { return m_accPlot; }
  CurveToolbar* curveToolbar() const { return m_toolbar; }
  QTabWidget* panels() const { return m_panels; }
  QTableWidget* diffTable() const { return m_diff; }
  QCheckBox* onlyDifferences() const { return m_onlyDiff; }
  AllocationDiffPlot* allocationDiff() const { return m_allocDiff; }
  AllocationSmallMultiples* allocationMultiples() const { return m_multiples; }
  /// Grouped per-task bars: one QCPBars per side (in side order).
  QCustomPlot* taskBars() const { return m_taskBars; }
  QLabel* protocolWarning() const { return m_protocolWarning; }
  QStringList protocolWarnings() const { return m_warnings; }
  QTextBrowser* statsView() const { return m_stats; }
  QString statsText() const;
  /// Series id of a group side's mean curve of `key`; its band has the same id.
  static QString groupSeriesId(const CompareSide& side, const std::string& key);

 public Q_SLOTS:
  void onRunUpdated(const QString& runId, qint64 step = -1);
  void onStoreChanged();
  void refreshNow();

 private:
  QString firstRun(int side) const { return m_sides.value(side).runIds.value(0); }
  void assignColors();
  void rebuildDiff();
  void rebuildStats(const std::vector<std::vector<Run>>& members);
  void rebuildTaskBars(const std::vector<std::vector<Run>>& members);
  void showWarnings(const std::vector<std::vector<Run>>& members);
  void addRunCurves(int side);
  void pullGroup(int side, const std::string& key);
  QString sideName(int side) const;
  std::vector<std::vector<Run>> memberRuns() const;
  bool involves(const QString& runId) const;

  std::shared_ptr<RunReader> m_reader;
  QList<CompareSide> m_sides;
  QList<QColor> m_colors;
  std::map<QString, int> m_paletteOf;  ///< side identity → palette index (stable colours)
  QTimer m_refreshTimer;
  QString m_tasksSignature;

  QLabel* m_title = nullptr;
  QLabel* m_protocolWarning = nullptr;
  QStringList m_warnings;
  CurveToolbar* m_toolbar = nullptr;
  MetricPlot* m_lossPlot = nullptr;
  MetricPlot* m_accPlot = nullptr;
  QTabWidget* m_panels = nullptr;
  QTextBrowser* m_stats = nullptr;
  QTableWidget* m_diff = nullptr;
  QCheckBox* m_onlyDiff = nullptr;
  QCustomPlot* m_taskBars = nullptr;
  AllocationSmallMultiples* m_multiples = nullptr;
  AllocationDiffPlot* m_allocDiff = nullptr;
};

}  // namespace apportion::ui
