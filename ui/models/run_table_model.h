// SPDX-License-Identifier: GPL-3.0-or-later
// RunTableModel: the run table (one row per run, newest first) over a RunReader. Refreshes are
// coalesced: nudges from the launcher and the store watcher only start a short single-shot
// timer, and a refresh updates rows in place, inserting new runs without resetting the model
// (so selections survive). Progress of launched runs comes from their progress events.
// With setGroupSeeds(true) it is a two-level tree: each seed group of more than one run
// (core/store/run_groups.h) is one row, "label ×n · seeds …", with a status summary and the
// mean (min–max) of its members' latest metrics, and its member runs as child rows; other runs
// stay top-level rows. Grouped refreshes update in place while the groups keep their members,
// and reset the model when they change.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <QAbstractItemModel>
#include <QTimer>

#include "core/store/run_groups.h"
#include "core/store/run_reader.h"

namespace apportion::ui {

class RunTableModel : public QAbstractItemModel {
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
    GroupKeyRole,                  ///< QString seed-group key (group rows only, else empty)
    MemberRunIdsRole,              ///< QStringList: a group row's members, or the run itself
  };

  explicit RunTableModel(QObject* parent = nullptr);

  /// Sets (or clears, with nullptr) the reader and reloads everything.
  void setReader(std::shared_ptr<RunReader> reader);

  QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
  QModelIndex parent(const QModelIndex& child) const override;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

  /// Every run, newest first. Its index is the row in the ungrouped view.
  const std::vector<Run>& runs() const { return m_runs; }
  /// The run at an index of runs() (nullptr when out of range); = the row when ungrouped.
  const Run* runAt(int row) const;
  /// Index in runs() of a run id (= its row when ungrouped), -1 if absent.
  int rowOf(const QString& runId) const;
  const Run* run(const QString& runId) const;

  /// Seed-group rows on or off (the model resets).
  void setGroupSeeds(bool on);
  bool groupSeeds() const { return m_grouped; }
  /// Seed groups of more than one run, in table order (also computed when ungrouped).
  const std::vector<SeedGroup>& groups() const { return m_groups; }
  /// The model index of a run (a top-level row, or a child of its group row), invalid if absent.
  QModelIndex indexOfRun(const QString& runId, int column = 0) const;
  /// The row of a seed group (grouped view only), invalid if absent.
  QModelIndex indexOfGroup(const QString& groupKey, int column = 0) const;
  /// The run of a run row (top-level or child), nullptr for group rows.
  const Run* runFor(const QModelIndex& index) const;
  /// The group of a group row, nullptr for run rows.
  const SeedGroup* groupFor(const QModelIndex& index) const;

 public Q_SLOTS:
  /// Reloads now: updates changed rows, inserts new runs, removes vanished ones.
  void refresh();
  /// Re-checks which RUNNING runs lost their process (every 2 s) and repaints when that
  /// changed (status DEAD, no progress bar).
  void checkLiveness();
  /// Coalesced refresh (starts a 100 ms single-shot timer unless it is already running).
  void scheduleRefresh();
  /// A launched run reported progress (step of total).
  void onRunProgress(const QString& runId, qint64 step, qint64 total);

 Q_SIGNALS:
  /// Emitted after every refresh that changed anything.
  void runsRefreshed();
  /// The set of DEAD runs changed (checkLiveness).
  void livenessChanged();
  /// setGroupSeeds changed the grouping.
  void groupSeedsChanged(bool on);

 private:
  /// A top-level row of the grouped view: a group (index into m_groups) or a run (into m_runs).
  struct TopRow {
    int group = -1;
    int run = -1;
  };

  QVariant displayData(const Run& run, int column, bool child) const;
  QVariant sortData(const Run& run, int column) const;
  QVariant runData(const Run& run, const QModelIndex& index, int role) const;
  QVariant groupData(int group, const QModelIndex& index, int role) const;
  QVariant groupDisplay(int group, int column) const;
  QVariant groupSort(int group, int column) const;
  double progressOf(const Run& run) const;
  QString progressText(const Run& run) const;
  /// Members of group g in runs() order sorted by seed.
  std::vector<const Run*> members(int group) const;
  /// Groups of more than one run (members sorted by seed) and the grouped top-level rows.
  static void computeGroups(const std::vector<Run>& runs,
                            std::vector<SeedGroup>& groups,
                            std::vector<std::vector<int>>& members,
                            std::vector<TopRow>& top);
  /// One line per top-level row ("r:<id>" or "g:<key>|<member ids>"): equal signatures mean a
  /// refresh can update rows in place.
  static std::vector<std::string> structureSignature(const std::vector<Run>& runs,
                                                     const std::vector<SeedGroup>& groups,
                                                     const std::vector<std::vector<int>>& members,
                                                     const std::vector<TopRow>& top);
  /// Recomputes m_groups, m_members and m_top from m_runs (no model signals).
  void rebuildGroups();
  void refreshGrouped(std::vector<Run> fresh);
  /// Top-level row of group g in m_top, -1 if absent.
  int topRowOfGroup(int group) const;

  std::shared_ptr<RunReader> m_reader;
  std::vector<Run> m_runs;
  bool m_grouped = false;
  std::vector<SeedGroup> m_groups;          ///< groups with more than one run
  std::vector<std::vector<int>> m_members;  ///< per group: indices into m_runs, by seed
  std::vector<TopRow> m_top;                ///< grouped view: the top-level rows
  std::map<QString, std::pair<qint64, qint64>> m_progress;  ///< run id → (step, total)
  QTimer m_refreshTimer;
  QTimer m_livenessTimer;
  std::set<std::string> m_dead;  ///< RUNNING runs whose process is gone (checkLiveness)
};

}  // namespace apportion::ui
