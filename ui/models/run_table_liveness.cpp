// SPDX-License-Identifier: GPL-3.0-or-later
// RunTableModel's liveness check: RUNNING runs whose training process is gone (a SIGKILL writes
// nothing to the store, so no store change announces it) are looked for every 2 s and
// repainted as DEAD (core/store/liveness.h).
#include <set>
#include <string>

#include "ui/models/run_format.h"
#include "ui/models/run_table_model.h"

namespace apportion::ui {

void RunTableModel::checkLiveness() {
  std::set<std::string> dead;
  for (const Run& r : m_runs)
    if (r.status == RunStatus::Running && runLiveness(r).state == Liveness::Dead)
      dead.insert(r.run_id);
  if (dead == m_dead) return;
  m_dead = std::move(dead);
  // Repaint every row's status and progress (groups and their members alike).
  const auto touch = [this](const QModelIndex& parent) {
    const int rows = rowCount(parent);
    if (rows > 0) Q_EMIT dataChanged(index(0, 0, parent), index(rows - 1, ColumnCount - 1, parent));
  };
  touch({});
  for (int row = 0; row < rowCount({}); ++row) touch(index(row, 0, {}));
  Q_EMIT livenessChanged();
}

}  // namespace apportion::ui
