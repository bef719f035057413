// SPDX-License-Identifier: GPL-3.0-or-later
// StoreWatcher: follows runs that have no pipe to this GUI (started from a terminal, another
// GUI, imported) by polling PRAGMA data_version every 1.5 s; emits a payload-free
// storeChanged() when another connection committed (PlotJuggler's dataReceived() idea).
#pragma once

#include <memory>

#include <QObject>
#include <QTimer>

#include "core/store/run_reader.h"

namespace apportion::ui {

class StoreWatcher : public QObject {
  Q_OBJECT

 public:
  explicit StoreWatcher(QObject* parent = nullptr);
  void setReader(std::shared_ptr<RunReader> reader);
  /// Poll interval in ms (default 1500).
  void setInterval(int ms);

 public Q_SLOTS:
  /// Polls once now.
  void poll();

 Q_SIGNALS:
  void storeChanged();

 private:
  std::shared_ptr<RunReader> m_reader;
  QTimer m_timer;
  qint64 m_lastVersion = -1;
};

}  // namespace apportion::ui
