// SPDX-License-Identifier: GPL-3.0-or-later
// ProgressDelegate: draws a progress bar in the run table's step column for RUNNING runs
// (RunTableModel::ProgressRole ≥ 0), plain text otherwise.
#pragma once

#include <QStyledItemDelegate>

namespace apportion::ui {

class ProgressDelegate : public QStyledItemDelegate {
  Q_OBJECT

 public:
  using QStyledItemDelegate::QStyledItemDelegate;
  void paint(QPainter* painter,
             const QStyleOptionViewItem& option,
             const QModelIndex& index) const override;
};

}  // namespace apportion::ui
