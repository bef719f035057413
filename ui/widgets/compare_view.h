// SPDX-License-Identifier: GPL-3.0-or-later
// CompareView: two runs side by side: overlaid loss and accuracy curves in the runs' colours
// (keys told apart by line style) and a config-difference table over the flattened params
// ("only differences" on by default), next to an A − B allocation heatmap.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <QTimer>
#include <QWidget>

#include "core/store/run_reader.h"

class QCheckBox;
class QLabel;
class QTableWidget;

namespace apportion::ui {

class MetricPlot;

class CompareView : public QWidget {
  Q_OBJECT

 public:
  explicit CompareView(QWidget* parent = nullptr);

  void setReader(std::shared_ptr<RunReader> reader);
  /// Compares two runs (either empty clears).
  void setRuns(const QString& runA, const QString& runB);
  const QString& runA() const { return m_runA; }
  const QString& runB() const { return m_runB; }

  MetricPlot* lossPlot() const { return m_lossPlot; }
  MetricPlot* accuracyPlot() const { return m_accPlot; }
  QTableWidget* diffTable() const { return m_diff; }
  QCheckBox* onlyDifferences() const { return m_onlyDiff; }
  class AllocationDiffPlot* allocationDiff() const {
    return m_allocDiff;
  }

 public Q_SLOTS:
  void onRunUpdated(const QString& runId, qint64 step = -1);
  void onStoreChanged();
  void refreshNow();

 private:
  void rebuildDiff();
  void pull(const QString& runId, const std::string& key);

  std::shared_ptr<RunReader> m_reader;
  QString m_runA;
  QString m_runB;
  std::map<std::string, int64_t> m_lastStep;  ///< "run|key" → last step loaded
  QTimer m_refreshTimer;

  QLabel* m_title = nullptr;
  MetricPlot* m_lossPlot = nullptr;
  MetricPlot* m_accPlot = nullptr;
  QTableWidget* m_diff = nullptr;
  QCheckBox* m_onlyDiff = nullptr;
  class AllocationDiffPlot* m_allocDiff = nullptr;
};

}  // namespace apportion::ui
