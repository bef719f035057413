// SPDX-License-Identifier: GPL-3.0-or-later
// RunTableModel: in-place refreshes over RunReader::list_runs (no model resets on updates);
// the optional seed-group tree (group rows with their member runs as children).
#include "ui/models/run_table_model.h"

#include <cmath>
#include <set>

#include <QDateTime>
#include <QFont>

#include "core/common/error.h"
#include "core/store/store_keys.h"
#include "ui/models/run_colors.h"
#include "ui/models/run_format.h"
#include "ui/models/seed_group_format.h"

namespace apportion::ui {

namespace {

/// Right-aligned numbers in the metric and progress columns (runs and groups alike).
QVariant numericAlignment(int column) {
  if (column == RunTableModel::TrainLossColumn || column == RunTableModel::EvalAccColumn ||
      column == RunTableModel::ProgressColumn)
    return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
  return {};
}

QString runIdOf(const Run& run) { return QString::fromStdString(run.run_id); }

std::optional<double> latest(const Run& run, const char* key) {
  const auto it = run.latest_metrics.find(key);
  if (it == run.latest_metrics.end()) return std::nullopt;
  return it->second;
}

}  // namespace

RunTableModel::RunTableModel(QObject* parent) : QAbstractItemModel(parent) {
  m_refreshTimer.setSingleShot(true);
  m_refreshTimer.setInterval(100);
  connect(&m_refreshTimer, &QTimer::timeout, this, &RunTableModel::refresh);
  m_livenessTimer.setInterval(2000);  // run_table_liveness.cpp
  connect(&m_livenessTimer, &QTimer::timeout, this, &RunTableModel::checkLiveness);
  m_livenessTimer.start();
}

void RunTableModel::setReader(std::shared_ptr<RunReader> reader) {
  beginResetModel();
  m_reader = std::move(reader);
  m_runs.clear();
  m_progress.clear();
  if (m_reader) {
    try {
      m_runs = m_reader->list_runs();
    } catch (const Error&) {
      m_runs.clear();
    }
  }
  rebuildGroups();
  endResetModel();
}

// Index layout: top-level rows have internalId 0; a member row of the group at top-level row
// R has internalId R + 1 (only group rows have children, in column 0).
QModelIndex RunTableModel::index(int row, int column, const QModelIndex& parent) const {
  if (column < 0 || column >= ColumnCount || row < 0) return {};
  if (!parent.isValid())
    return row < rowCount() ? createIndex(row, column, quintptr(0)) : QModelIndex();
  if (!m_grouped || parent.internalId() != 0 || parent.column() != 0) return {};
  if (row >= rowCount(parent)) return {};
  return createIndex(row, column, quintptr(parent.row() + 1));
}

QModelIndex RunTableModel::parent(const QModelIndex& child) const {
  if (!child.isValid() || child.internalId() == 0) return {};
  return createIndex(static_cast<int>(child.internalId() - 1), 0, quintptr(0));
}

int RunTableModel::rowCount(const QModelIndex& parent) const {
  if (!m_grouped) return parent.isValid() ? 0 : static_cast<int>(m_runs.size());
  if (!parent.isValid()) return static_cast<int>(m_top.size());
  if (parent.internalId() != 0 || parent.column() != 0 || parent.row() >= int(m_top.size()))
    return 0;
  const TopRow& top = m_top[static_cast<size_t>(parent.row())];
  return top.group < 0 ? 0 : static_cast<int>(m_members[static_cast<size_t>(top.group)].size());
}

int RunTableModel::columnCount(const QModelIndex& /*parent*/) const { return ColumnCount; }

const Run* RunTableModel::runFor(const QModelIndex& index) const {
  if (!index.isValid() || index.model() != this) return nullptr;
  if (!m_grouped) return index.parent().isValid() ? nullptr : runAt(index.row());
  if (index.internalId() == 0) {
    if (index.row() >= static_cast<int>(m_top.size())) return nullptr;
    const TopRow& top = m_top[static_cast<size_t>(index.row())];
    return top.run >= 0 ? &m_runs[static_cast<size_t>(top.run)] : nullptr;
  }
  const size_t topRow = static_cast<size_t>(index.internalId() - 1);
  if (topRow >= m_top.size() || m_top[topRow].group < 0) return nullptr;
  const std::vector<int>& members = m_members[static_cast<size_t>(m_top[topRow].group)];
  if (index.row() >= static_cast<int>(members.size())) return nullptr;
  return &m_runs[static_cast<size_t>(members[static_cast<size_t>(index.row())])];
}

const SeedGroup* RunTableModel::groupFor(const QModelIndex& index) const {
  if (!m_grouped || !index.isValid() || index.model() != this || index.internalId() != 0 ||
      index.row() >= static_cast<int>(m_top.size()))
    return nullptr;
  const int g = m_top[static_cast<size_t>(index.row())].group;
  return g >= 0 ? &m_groups[static_cast<size_t>(g)] : nullptr;
}

int RunTableModel::topRowOfGroup(int group) const {
  for (size_t i = 0; i < m_top.size(); ++i)
    if (m_top[i].group == group) return static_cast<int>(i);
  return -1;
}

QModelIndex RunTableModel::indexOfRun(const QString& runId, int column) const {
  const int flat = rowOf(runId);
  if (flat < 0) return {};
  if (!m_grouped) return index(flat, column);
  for (size_t t = 0; t < m_top.size(); ++t) {
    if (m_top[t].run == flat) return index(static_cast<int>(t), column);
    if (m_top[t].group < 0) continue;
    const std::vector<int>& members = m_members[static_cast<size_t>(m_top[t].group)];
    for (size_t i = 0; i < members.size(); ++i)
      if (members[i] == flat)
        return index(static_cast<int>(i), column, index(static_cast<int>(t), 0));
  }
  return {};
}

QModelIndex RunTableModel::indexOfGroup(const QString& groupKey, int column) const {
  if (!m_grouped) return {};
  const std::string key = groupKey.toStdString();
  for (size_t g = 0; g < m_groups.size(); ++g)
    if (m_groups[g].key == key) {
      const int row = topRowOfGroup(static_cast<int>(g));
      return row < 0 ? QModelIndex() : index(row, column);
    }
  return {};
}

std::vector<const Run*> RunTableModel::members(int group) const {
  std::vector<const Run*> out;
  for (int i : m_members[static_cast<size_t>(group)])
    out.push_back(&m_runs[static_cast<size_t>(i)]);
  return out;
}

void RunTableModel::computeGroups(const std::vector<Run>& runs,
                                  std::vector<SeedGroup>& groups,
                                  std::vector<std::vector<int>>& members,
                                  std::vector<TopRow>& top) {
  groups.clear();
  members.clear();
  top.clear();
  std::map<std::string, int> flatOf;
  for (size_t i = 0; i < runs.size(); ++i) flatOf[runs[i].run_id] = static_cast<int>(i);
  std::map<int, int> groupOfRun;  // index into runs → group
  for (SeedGroup& g : group_runs(runs)) {
    if (g.run_ids.size() < 2) continue;
    std::vector<int> ids;
    for (const std::string& id : g.run_ids) ids.push_back(flatOf.at(id));
    std::stable_sort(ids.begin(), ids.end(), [&runs](int a, int b) {
      return runs[static_cast<size_t>(a)].seed < runs[static_cast<size_t>(b)].seed;
    });
    const int index = static_cast<int>(groups.size());
    for (int m : ids) groupOfRun[m] = index;
    groups.push_back(std::move(g));
    members.push_back(std::move(ids));
  }
  // Top-level order follows runs (newest first): a group sits where its newest member is.
  std::set<int> placed;
  for (size_t i = 0; i < runs.size(); ++i) {
    const auto it = groupOfRun.find(static_cast<int>(i));
    if (it == groupOfRun.end())
      top.push_back({-1, static_cast<int>(i)});
    else if (placed.insert(it->second).second)
      top.push_back({it->second, -1});
  }
}

void RunTableModel::rebuildGroups() { computeGroups(m_runs, m_groups, m_members, m_top); }

std::vector<std::string> RunTableModel::structureSignature(
    const std::vector<Run>& runs,
    const std::vector<SeedGroup>& groups,
    const std::vector<std::vector<int>>& members,
    const std::vector<TopRow>& top) {
  std::vector<std::string> sig;
  for (const TopRow& t : top) {
    if (t.group < 0) {
      sig.push_back("r:" + runs[static_cast<size_t>(t.run)].run_id);
      continue;
    }
    std::string line = "g:" + groups[static_cast<size_t>(t.group)].key;
    for (int m : members[static_cast<size_t>(t.group)])
      line += "|" + runs[static_cast<size_t>(m)].run_id;
    sig.push_back(std::move(line));
  }
  return sig;
}

void RunTableModel::refreshGrouped(std::vector<Run> fresh) {
  std::vector<SeedGroup> groups;
  std::vector<std::vector<int>> members;
  std::vector<TopRow> top;
  computeGroups(fresh, groups, members, top);
  const bool sameShape = structureSignature(m_runs, m_groups, m_members, m_top) ==
                         structureSignature(fresh, groups, members, top);
  if (!sameShape) beginResetModel();
  m_runs = std::move(fresh);
  m_groups = std::move(groups);
  m_members = std::move(members);
  m_top = std::move(top);
  if (!sameShape) {
    endResetModel();
    return;
  }
  if (m_top.empty()) return;
  Q_EMIT dataChanged(index(0, 0), index(static_cast<int>(m_top.size()) - 1, ColumnCount - 1));
  for (size_t t = 0; t < m_top.size(); ++t) {
    if (m_top[t].group < 0) continue;
    const QModelIndex parent = index(static_cast<int>(t), 0);
    const int n = rowCount(parent);
    Q_EMIT dataChanged(index(0, 0, parent), index(n - 1, ColumnCount - 1, parent));
  }
}

void RunTableModel::setGroupSeeds(bool on) {
  if (on == m_grouped) return;
  beginResetModel();
  m_grouped = on;
  rebuildGroups();
  endResetModel();
  Q_EMIT groupSeedsChanged(on);
}

const Run* RunTableModel::runAt(int row) const {
  if (row < 0 || row >= static_cast<int>(m_runs.size())) return nullptr;
  return &m_runs[static_cast<size_t>(row)];
}

int RunTableModel::rowOf(const QString& runId) const {
  const std::string id = runId.toStdString();
  for (size_t i = 0; i < m_runs.size(); ++i)
    if (m_runs[i].run_id == id) return static_cast<int>(i);
  return -1;
}

const Run* RunTableModel::run(const QString& runId) const { return runAt(rowOf(runId)); }

double RunTableModel::progressOf(const Run& run) const {
  if (run.status != RunStatus::Running || runLiveness(run).state == Liveness::Dead) return -1.0;
  const auto it = m_progress.find(runIdOf(run));
  qint64 step = latestStep(run);
  qint64 total = plannedSteps(run);
  if (it != m_progress.end()) {
    step = std::max(step, it->second.first);
    if (it->second.second > 0) total = it->second.second;
  }
  if (total <= 0) return 0.0;
  return std::clamp(static_cast<double>(step) / static_cast<double>(total), 0.0, 1.0);
}

QString RunTableModel::progressText(const Run& run) const {
  qint64 step = latestStep(run);
  qint64 total = plannedSteps(run);
  const auto it = m_progress.find(runIdOf(run));
  if (it != m_progress.end()) {
    step = std::max(step, it->second.first);
    if (it->second.second > 0) total = it->second.second;
  }
  if (total > 0) return QStringLiteral("%1 / %2").arg(step).arg(total);
  return QString::number(step);
}

QVariant RunTableModel::displayData(const Run& run, int column, bool child) const {
  switch (column) {
    case StatusColumn:
      return runStatusText(run);  // DEAD: RUNNING in the store, its process gone
    case NameColumn: {
      QString name = QString::fromStdString(run.name);
      // Member rows of a seed group name their seed unless the name already ends in -s<seed>.
      if (child && !name.endsWith(QStringLiteral("-s%1").arg(run.seed)))
        name += tr(" · seed %1").arg(run.seed);
      return name;
    }
    case ExperimentColumn:
      return QString::fromStdString(run.experiment_name);
    case MethodColumn:
      return QString::fromStdString(run.allocation_method);
    case KeyParamsColumn:
      return keyParamsText(run);
    case ProgressColumn:
      return progressText(run);
    case TrainLossColumn: {
      const auto v = latest(run, kMetricTrainLoss);
      return v ? QVariant(QString::number(*v, 'f', 4)) : QVariant();
    }
    case EvalAccColumn: {
      const auto v = latest(run, kMetricEvalAcc);
      return v ? QVariant(QString::number(*v * 100.0, 'f', 1) + QLatin1Char('%')) : QVariant();
    }
    case StartColumn:
      return QDateTime::fromMSecsSinceEpoch(run.start_ms)
          .toString(QStringLiteral("yyyy-MM-dd HH:mm"));
    default:
      return {};
  }
}

QVariant RunTableModel::sortData(const Run& run, int column) const {
  switch (column) {
    case ProgressColumn:
      return static_cast<qlonglong>(latestStep(run));
    case TrainLossColumn:
      return latest(run, kMetricTrainLoss).value_or(std::nan(""));
    case EvalAccColumn:
      return latest(run, kMetricEvalAcc).value_or(-1.0);
    case StartColumn:
      return static_cast<qlonglong>(run.start_ms);
    default:
      return displayData(run, column, false);
  }
}

QVariant RunTableModel::groupDisplay(int group, int column) const {
  const SeedGroup& g = m_groups[static_cast<size_t>(group)];
  const std::vector<const Run*> runs = members(group);
  const Run& first = *runs.front();
  switch (column) {
    case StatusColumn:
      return statusSummary(runs);
    case NameColumn:
      return tr("%1 ×%2 · seeds %3")
          .arg(QString::fromStdString(g.label))
          .arg(runs.size())
          .arg(seedsText(g.seeds));
    case ExperimentColumn:
      return QString::fromStdString(first.experiment_name);
    case MethodColumn:
      return QString::fromStdString(first.allocation_method);
    case KeyParamsColumn:
      return keyParamsText(first);
    case ProgressColumn: {
      qint64 lo = -1, hi = -1;
      for (const Run* r : runs) {
        const qint64 step = latestStep(*r);
        lo = lo < 0 ? step : std::min(lo, step);
        hi = std::max(hi, step);
      }
      const QString steps =
          lo == hi ? QString::number(hi) : QStringLiteral("%1–%2").arg(lo).arg(hi);
      const qint64 total = plannedSteps(first);
      return total > 0 ? QStringLiteral("%1 / %2").arg(steps).arg(total) : steps;
    }
    case TrainLossColumn:
      return meanRangeText(summarize(latestValues(runs, kMetricTrainLoss)), false);
    case EvalAccColumn:
      return meanRangeText(summarize(latestValues(runs, kMetricEvalAcc)), true);
    case StartColumn: {
      int64_t newest = 0;
      for (const Run* r : runs) newest = std::max(newest, r->start_ms);
      return QDateTime::fromMSecsSinceEpoch(newest).toString(QStringLiteral("yyyy-MM-dd HH:mm"));
    }
    default:
      return {};
  }
}

QVariant RunTableModel::groupSort(int group, int column) const {
  const std::vector<const Run*> runs = members(group);
  switch (column) {
    case NameColumn:
      return QString::fromStdString(m_groups[static_cast<size_t>(group)].label);
    case ProgressColumn: {
      qlonglong lo = -1;
      for (const Run* r : runs)
        lo = lo < 0 ? latestStep(*r) : std::min<qlonglong>(lo, latestStep(*r));
      return lo;
    }
    case TrainLossColumn: {
      const SampleSummary s = summarize(latestValues(runs, kMetricTrainLoss));
      return s.n > 0 ? s.mean : std::nan("");
    }
    case EvalAccColumn: {
      const SampleSummary s = summarize(latestValues(runs, kMetricEvalAcc));
      return s.n > 0 ? s.mean : -1.0;
    }
    case StartColumn: {
      qlonglong newest = 0;
      for (const Run* r : runs) newest = std::max<qlonglong>(newest, r->start_ms);
      return newest;
    }
    default:
      return groupDisplay(group, column);
  }
}

QVariant RunTableModel::groupData(int group, const QModelIndex& index, int role) const {
  const SeedGroup& g = m_groups[static_cast<size_t>(group)];
  const QString key = QString::fromStdString(g.key);
  switch (role) {
    case Qt::DisplayRole:
      return groupDisplay(group, index.column());
    case SortRole:
      return groupSort(group, index.column());
    case GroupKeyRole:
      return key;
    case MemberRunIdsRole: {
      QStringList ids;
      for (const Run* r : members(group)) ids << runIdOf(*r);
      return ids;
    }
    case RunColorRole:
      return groupColor(key);
    case ProgressRole: {
      if (index.column() != ProgressColumn) return -1.0;
      const std::vector<const Run*> runs = members(group);
      if (summaryStatus(runs) != RunStatus::Running) return -1.0;
      double sum = 0.0;
      for (const Run* r : runs) sum += r->status == RunStatus::Running ? progressOf(*r) : 1.0;
      return sum / static_cast<double>(runs.size());
    }
    case Qt::DecorationRole:
      if (index.column() == NameColumn) return groupColor(key);
      return {};
    case Qt::FontRole:
      if (index.column() == NameColumn) {
        QFont bold;
        bold.setBold(true);
        return bold;
      }
      return {};
    case Qt::ForegroundRole:
      if (index.column() == StatusColumn) return statusColor(summaryStatus(members(group)));
      return {};
    case Qt::ToolTipRole:
      return tr("Seed group: %1 runs of one config that differ only by seed (seeds %2).\n"
                "Metric cells: mean (min–max) of the members' latest values.\n"
                "Expand the row for the runs; select it (with another row) to compare.\n%3")
          .arg(g.run_ids.size())
          .arg(seedsText(g.seeds), key);
    case Qt::TextAlignmentRole:
      return numericAlignment(index.column());
    default:
      return {};
  }
}

QVariant RunTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.column() < 0 || index.column() >= ColumnCount) return {};
  if (const Run* r = runFor(index)) return runData(*r, index, role);
  if (m_grouped && index.internalId() == 0 && index.row() < static_cast<int>(m_top.size()) &&
      m_top[static_cast<size_t>(index.row())].group >= 0)
    return groupData(m_top[static_cast<size_t>(index.row())].group, index, role);
  return {};
}

QVariant RunTableModel::runData(const Run& run, const QModelIndex& index, int role) const {
  const Run* r = &run;
  switch (role) {
    case Qt::DisplayRole:
      return displayData(*r, index.column(), index.internalId() != 0);
    case SortRole:
      return sortData(*r, index.column());
    case RunIdRole:
      return runIdOf(*r);
    case MemberRunIdsRole:
      return QStringList{runIdOf(*r)};
    case RunColorRole:
      return runColor(runIdOf(*r));
    case ProgressRole:
      return index.column() == ProgressColumn ? progressOf(*r) : -1.0;
    case Qt::DecorationRole:
      if (index.column() == NameColumn) return runColor(runIdOf(*r));
      return {};
    case Qt::ForegroundRole:
      if (index.column() == StatusColumn) return runStatusColor(*r);
      return {};
    case Qt::ToolTipRole: {
      QString tip = QStringLiteral("%1\n%2").arg(runIdOf(*r), runStatusText(*r));
      const LivenessVerdict live = runLiveness(*r);
      if (live.state == Liveness::Dead)
        tip += QStringLiteral("\n") + QString::fromStdString(live.reason) +
               tr("\nResume it (apportion train --resume) or close it (Run → Close dead run).");
      const auto err = r->tags.find("error");
      if (err != r->tags.end()) tip += QStringLiteral("\n") + QString::fromStdString(err->second);
      return tip;
    }
    case Qt::TextAlignmentRole:
      return numericAlignment(index.column());
    default:
      return {};
  }
}

QVariant RunTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case StatusColumn:
      return tr("Status");
    case NameColumn:
      return tr("Name");
    case ExperimentColumn:
      return tr("Experiment");
    case MethodColumn:
      return tr("Method");
    case KeyParamsColumn:
      return tr("Experts / top-k / r");
    case ProgressColumn:
      return tr("Step");
    case TrainLossColumn:
      return tr("train/loss");
    case EvalAccColumn:
      return tr("eval/acc");
    case StartColumn:
      return tr("Started");
    default:
      return {};
  }
}

void RunTableModel::scheduleRefresh() {
  if (!m_refreshTimer.isActive()) m_refreshTimer.start();
}

void RunTableModel::onRunProgress(const QString& runId, qint64 step, qint64 total) {
  m_progress[runId] = {step, total};
  const QModelIndex cell = indexOfRun(runId, ProgressColumn);
  if (!cell.isValid()) {
    scheduleRefresh();
    return;
  }
  Q_EMIT dataChanged(cell, cell);
  if (cell.parent().isValid()) {  // the group row's bar averages its members
    const QModelIndex groupCell = index(cell.parent().row(), ProgressColumn);
    Q_EMIT dataChanged(groupCell, groupCell);
  }
}

void RunTableModel::refresh() {
  if (!m_reader) return;
  std::vector<Run> fresh;
  try {
    fresh = m_reader->list_runs();
  } catch (const Error&) {
    return;  // database busy or being migrated: try again at the next nudge
  }
  if (m_grouped) {
    refreshGrouped(std::move(fresh));
    Q_EMIT runsRefreshed();
    return;
  }
  std::set<std::string> freshIds;
  for (const Run& r : fresh) freshIds.insert(r.run_id);

  // 1. Remove vanished runs (bottom-up so rows stay valid).
  for (int row = static_cast<int>(m_runs.size()) - 1; row >= 0; --row) {
    if (!freshIds.count(m_runs[static_cast<size_t>(row)].run_id)) {
      beginRemoveRows({}, row, row);
      m_runs.erase(m_runs.begin() + row);
      endRemoveRows();
    }
  }
  // 2. Walk the fresh order: update matching rows in place, insert new ones where they belong.
  std::set<std::string> oldIds;
  for (const Run& r : m_runs) oldIds.insert(r.run_id);
  bool orderBroken = false;
  for (size_t i = 0; i < fresh.size(); ++i) {
    const int row = static_cast<int>(i);
    if (!oldIds.count(fresh[i].run_id)) {
      beginInsertRows({}, row, row);
      m_runs.insert(m_runs.begin() + row, fresh[i]);
      endInsertRows();
    } else if (i < m_runs.size() && m_runs[i].run_id == fresh[i].run_id) {
      m_runs[i] = fresh[i];
      Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
    } else {
      orderBroken = true;
      break;
    }
  }
  if (orderBroken) {  // an existing run moved (start time edited, import): reset
    beginResetModel();
    m_runs = std::move(fresh);
    rebuildGroups();
    endResetModel();
  }
  rebuildGroups();  // groups() stays current while ungrouped (group compare, the toggle)
  Q_EMIT runsRefreshed();
}

}  // namespace apportion::ui
