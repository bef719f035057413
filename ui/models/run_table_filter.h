// SPDX-License-Identifier: GPL-3.0-or-later
// RunTableFilter: the sort/filter proxy over RunTableModel in the main window. Besides the shown
// columns, the filter text matches where a run was launched (its remote/launch key, its sweep
// key and grid point, its host), so typing a sweep's key lists its runs; run tooltips gain a
// "where" line for runs launched through an executor profile or a sweep.
//
// Intended usage:
//   auto* proxy = new RunTableFilter(this);
//   proxy->setSourceModel(runTableModel);   // a RunTableModel
//   proxy->setFilterFixedString("sw-1a2b");
#pragma once

#include <QSortFilterProxyModel>
#include <QString>

#include "core/store/run_types.h"

namespace apportion::ui {

class RunTableFilter : public QSortFilterProxyModel {
  Q_OBJECT

 public:
  explicit RunTableFilter(QObject* parent = nullptr);

  /// "launch sw-1a2b3c4d-0 · sweep sw-1a2b3c4d, point train.lr=0.001 · host gpu1"; "" for a run
  /// without a launch or sweep tag.
  static QString whereText(const Run& run);

  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;

 protected:
  bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;

 private:
  const Run* runOf(const QModelIndex& sourceIndex) const;
};

}  // namespace apportion::ui
