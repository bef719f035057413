// SPDX-License-Identifier: GPL-3.0-or-later
// RunTableFilter: where-text tooltips and filtering by launch, sweep and host.
#include "ui/models/run_table_filter.h"

#include <QStringList>

#include "core/store/run_sync.h"
#include "ui/models/run_table_model.h"

namespace apportion::ui {

namespace {
/// Tags `apportion sweep` writes on every member (app/cli/cmd_sweep.cpp).
constexpr const char* kTagSweep = "sweep";
constexpr const char* kTagSweepPoint = "sweep/point";

QString tag(const Run& run, const char* key) {
  const auto it = run.tags.find(key);
  return it == run.tags.end() ? QString() : QString::fromStdString(it->second);
}
}  // namespace

RunTableFilter::RunTableFilter(QObject* parent) : QSortFilterProxyModel(parent) {}

QString RunTableFilter::whereText(const Run& run) {
  const QString launch = tag(run, kTagRemoteLaunch);
  const QString sweep = tag(run, kTagSweep);
  if (launch.isEmpty() && sweep.isEmpty()) return {};
  QStringList parts;
  if (!launch.isEmpty()) parts << tr("launch %1").arg(launch);
  if (!sweep.isEmpty()) {
    const QString point = tag(run, kTagSweepPoint);
    parts << (point.isEmpty() ? tr("sweep %1").arg(sweep)
                              : tr("sweep %1, point %2").arg(sweep, point));
  }
  if (!run.host.empty()) parts << tr("host %1").arg(QString::fromStdString(run.host));
  return parts.join(QStringLiteral(" · "));
}

const Run* RunTableFilter::runOf(const QModelIndex& sourceIndex) const {
  const auto* model = qobject_cast<const RunTableModel*>(sourceModel());
  return model ? model->runFor(sourceIndex) : nullptr;
}

QVariant RunTableFilter::data(const QModelIndex& index, int role) const {
  QVariant value = QSortFilterProxyModel::data(index, role);
  if (role != Qt::ToolTipRole) return value;
  const Run* run = runOf(mapToSource(index));
  const QString where = run ? whereText(*run) : QString();
  if (where.isEmpty()) return value;
  const QString text = value.toString();
  return text.isEmpty() ? where : text + QLatin1Char('\n') + where;
}

bool RunTableFilter::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const {
  if (QSortFilterProxyModel::filterAcceptsRow(sourceRow, sourceParent)) return true;
  if (!sourceModel()) return false;
  const Run* run = runOf(sourceModel()->index(sourceRow, 0, sourceParent));
  return run && filterRegularExpression().match(whereText(*run)).hasMatch();
}

}  // namespace apportion::ui
