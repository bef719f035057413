// SPDX-License-Identifier: GPL-3.0-or-later
// CompareView: two sides A and B side by side, each a run or a seed group (runs of one config
// that differ only by seed). Runs: overlaid loss and accuracy curves in the runs' colours (keys
// told apart by line style). Groups: the mean curve over the members with a translucent
// min–max band in the group's colour, n in the legend. Below: a statistics panel (for eval/acc
// and each eval/acc/<task>: the means of A and B over their runs' latest values and the Welch
// difference A − B with its 95 % interval, in words), the config-difference table over the
// flattened params of each side's first run ("only differences" on by default; a group's `seed`
// lists its seeds) and an A − B allocation heatmap. A banner above the plots warns when the
// sides are not comparable task by task: a task scored under different protocols or on
// different splits, different checkpoint rules, or a checkpoint chosen on the test split
// (comparability_warnings, core/store/results_table.h).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <QColor>
#include <QStringList>
#include <QTimer>
#include <QWidget>

#include "core/store/run_reader.h"

class QCheckBox;
class QLabel;
class QTableWidget;
class QTextBrowser;

namespace apportion::ui {

class MetricPlot;

/// One side of a comparison: a single run, or the member runs of a seed group.
struct CompareSide {
  QString label;       ///< group label (runs: empty, the run's name is read from the store)
  QString groupKey;    ///< seed_group_key of a group; empty for a run
  QStringList runIds;  ///< the run, or the group's members (by seed)
  bool isGroup() const { return !groupKey.isEmpty() && runIds.size() > 1; }
  bool isEmpty() const { return runIds.isEmpty(); }
  static CompareSide run(const QString& runId) {
    return runId.isEmpty() ? CompareSide{} : CompareSide{{}, {}, {runId}};
  }
};

class CompareView : public QWidget {
  Q_OBJECT

 public:
  explicit CompareView(QWidget* parent = nullptr);

  void setReader(std::shared_ptr<RunReader> reader);
  /// Compares two runs (either empty clears).
  void setRuns(const QString& runA, const QString& runB);
  /// Compares two sides, runs or seed groups (either empty clears).
  void setSides(const CompareSide& a, const CompareSide& b);
  /// The first run of each side.
  const QString& runA() const { return m_runA; }
  const QString& runB() const { return m_runB; }
  const CompareSide& sideA() const { return m_sideA; }
  const CompareSide& sideB() const { return m_sideB; }
  /// The colour each side is drawn in (a group: its group colour; B differs from A).
  QColor colorA() const { return m_colorA; }
  QColor colorB() const { return m_colorB; }

  MetricPlot* lossPlot() const { return m_lossPlot; }
  MetricPlot* accuracyPlot() const { return m_accPlot; }
  QTableWidget* diffTable() const { return m_diff; }
  QCheckBox* onlyDifferences() const { return m_onlyDiff; }
  class AllocationDiffPlot* allocationDiff() const {
    return m_allocDiff;
  }
  /// The comparability banner (hidden when the sides used the same protocols, splits and
  /// checkpoint rules) and its warnings, one per line.
  QLabel* protocolWarning() const { return m_protocolWarning; }
  QStringList protocolWarnings() const { return m_warnings; }
  /// The statistics panel and its plain text.
  QTextBrowser* statsView() const { return m_stats; }
  QString statsText() const;
  /// Series id of a group side's mean curve of `key` in lossPlot()/accuracyPlot(); its band
  /// has the same id (MetricPlot::band).
  static QString groupSeriesId(const CompareSide& side, const std::string& key);

 public Q_SLOTS:
  void onRunUpdated(const QString& runId, qint64 step = -1);
  void onStoreChanged();
  void refreshNow();

 private:
  void rebuildDiff();
  void rebuildStats();
  void showWarnings(const std::vector<Run>& a, const std::vector<Run>& b);
  void pull(const QString& runId, const QColor& color, const std::string& key);
  void pullGroup(const CompareSide& side, const QColor& color, const std::string& key);
  QString sideName(const CompareSide& side) const;
  bool involves(const QString& runId) const;

  std::shared_ptr<RunReader> m_reader;
  CompareSide m_sideA;
  CompareSide m_sideB;
  QString m_runA;
  QString m_runB;
  QColor m_colorA;
  QColor m_colorB;
  std::map<std::string, int64_t> m_lastStep;  ///< "run|key" → last step loaded
  QTimer m_refreshTimer;

  QLabel* m_title = nullptr;
  QLabel* m_protocolWarning = nullptr;
  QStringList m_warnings;
  MetricPlot* m_lossPlot = nullptr;
  MetricPlot* m_accPlot = nullptr;
  QTextBrowser* m_stats = nullptr;
  QTableWidget* m_diff = nullptr;
  QCheckBox* m_onlyDiff = nullptr;
  class AllocationDiffPlot* m_allocDiff = nullptr;
};

}  // namespace apportion::ui
