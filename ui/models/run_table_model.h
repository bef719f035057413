// SPDX-License-Identifier: GPL-3.0-or-later
// RunTableModel: the run table (one row per run, newest first) over a RunReader. Refreshes are
// coalesced: nudges from the launcher and the store watcher only start a short single-shot
// timer, and a refresh updates rows in place, inserting new runs without resetting the model
// (so selections survive). Progress of launched runs comes from their progress events.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include <QAbstractTableModel>
#include <QTimer>

#include "core/store/run_reader.h"

namespace apportion::ui {

class RunTableModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column {
    StatusColumn,
    NameColumn,
    ExperimentColumn,
    MethodColumn,
    KeyParamsColumn,
    ProgressColumn,
    TrainLossColumn,
    EvalAccColumn,
    StartColumn,
    ColumnCount
  };
  enum Role {
    RunIdRole = Qt::UserRole + 1,  ///< QString run id
    ProgressRole,                  ///< double in [0, 1] for RUNNING runs, else -1
    RunColorRole,                  ///< QColor, stable per run
    SortRole,                      ///< raw value for sorting
  };

  explicit RunTableModel(QObject* parent = nullptr);

  /// Sets (or clears, with nullptr) the reader and reloads everything.
  void setReader(std::shared_ptr<RunReader> reader);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

  /// The run at a row (nullptr when out of range).
  const Run* runAt(int row) const;
  /// Row of a run id, -1 if absent.
  int rowOf(const QString& runId) const;
  const Run* run(const QString& runId) const;

 public Q_SLOTS:
  /// Reloads now: updates changed rows, inserts new runs, removes vanished ones.
  void refresh();
  /// Coalesced refresh (starts a 100 ms single-shot timer unless it is already running).
  void scheduleRefresh();
  /// A launched run reported progress (step of total).
  void onRunProgress(const QString& runId, qint64 step, qint64 total);

 Q_SIGNALS:
  /// Emitted after every refresh that changed anything.
  void runsRefreshed();

 private:
  QVariant displayData(const Run& run, int column) const;
  QVariant sortData(const Run& run, int column) const;
  double progressOf(const Run& run) const;
  QString progressText(const Run& run) const;

  std::shared_ptr<RunReader> m_reader;
  std::vector<Run> m_runs;
  std::map<QString, std::pair<qint64, qint64>> m_progress;  ///< run id → (step, total)
  QTimer m_refreshTimer;
};

}  // namespace apportion::ui
