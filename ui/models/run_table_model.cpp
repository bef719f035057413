// SPDX-License-Identifier: GPL-3.0-or-later
// RunTableModel: in-place refreshes over RunReader::list_runs (no model resets on updates).
#include "ui/models/run_table_model.h"

#include <cmath>
#include <set>

#include <QDateTime>

#include "core/common/error.h"
#include "ui/models/run_colors.h"
#include "ui/models/run_format.h"

namespace apportion::ui {

namespace {

QString runIdOf(const Run& run) { return QString::fromStdString(run.run_id); }

std::optional<double> latest(const Run& run, const char* key) {
  const auto it = run.latest_metrics.find(key);
  if (it == run.latest_metrics.end()) return std::nullopt;
  return it->second;
}

}  // namespace

RunTableModel::RunTableModel(QObject* parent) : QAbstractTableModel(parent) {
  m_refreshTimer.setSingleShot(true);
  m_refreshTimer.setInterval(100);
  connect(&m_refreshTimer, &QTimer::timeout, this, &RunTableModel::refresh);
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
  endResetModel();
}

int RunTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(m_runs.size());
}

int RunTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
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
  if (run.status != RunStatus::Running) return -1.0;
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

QVariant RunTableModel::displayData(const Run& run, int column) const {
  switch (column) {
    case StatusColumn:
      return statusText(run.status);
    case NameColumn:
      return QString::fromStdString(run.name);
    case ExperimentColumn:
      return QString::fromStdString(run.experiment_name);
    case MethodColumn:
      return QString::fromStdString(run.allocation_method);
    case KeyParamsColumn:
      return keyParamsText(run);
    case ProgressColumn:
      return progressText(run);
    case TrainLossColumn: {
      const auto v = latest(run, "train/loss");
      return v ? QVariant(QString::number(*v, 'f', 4)) : QVariant();
    }
    case EvalAccColumn: {
      const auto v = latest(run, "eval/acc");
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
      return latest(run, "train/loss").value_or(std::nan(""));
    case EvalAccColumn:
      return latest(run, "eval/acc").value_or(-1.0);
    case StartColumn:
      return static_cast<qlonglong>(run.start_ms);
    default:
      return displayData(run, column);
  }
}

QVariant RunTableModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.parent().isValid()) return {};
  const Run* r = runAt(index.row());
  if (!r || index.column() < 0 || index.column() >= ColumnCount) return {};
  switch (role) {
    case Qt::DisplayRole:
      return displayData(*r, index.column());
    case SortRole:
      return sortData(*r, index.column());
    case RunIdRole:
      return runIdOf(*r);
    case RunColorRole:
      return runColor(runIdOf(*r));
    case ProgressRole:
      return index.column() == ProgressColumn ? progressOf(*r) : -1.0;
    case Qt::DecorationRole:
      if (index.column() == NameColumn) return runColor(runIdOf(*r));
      return {};
    case Qt::ForegroundRole:
      if (index.column() == StatusColumn) return statusColor(r->status);
      return {};
    case Qt::ToolTipRole: {
      QString tip = QStringLiteral("%1\n%2").arg(runIdOf(*r), statusText(r->status));
      const auto err = r->tags.find("error");
      if (err != r->tags.end()) tip += QStringLiteral("\n") + QString::fromStdString(err->second);
      return tip;
    }
    case Qt::TextAlignmentRole:
      if (index.column() == TrainLossColumn || index.column() == EvalAccColumn ||
          index.column() == ProgressColumn)
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
      return {};
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
  const int row = rowOf(runId);
  if (row >= 0)
    Q_EMIT dataChanged(index(row, ProgressColumn), index(row, ProgressColumn));
  else
    scheduleRefresh();
}

void RunTableModel::refresh() {
  if (!m_reader) return;
  std::vector<Run> fresh;
  try {
    fresh = m_reader->list_runs();
  } catch (const Error&) {
    return;  // database busy or being migrated: try again at the next nudge
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
    endResetModel();
  }
  Q_EMIT runsRefreshed();
}

}  // namespace apportion::ui
