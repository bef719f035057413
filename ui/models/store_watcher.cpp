// SPDX-License-Identifier: GPL-3.0-or-later
// StoreWatcher: data_version polling.
#include "ui/models/store_watcher.h"

#include "core/common/error.h"

namespace apportion::ui {

StoreWatcher::StoreWatcher(QObject* parent) : QObject(parent) {
  m_timer.setInterval(1500);
  connect(&m_timer, &QTimer::timeout, this, &StoreWatcher::poll);
}

void StoreWatcher::setReader(std::shared_ptr<RunReader> reader) {
  m_reader = std::move(reader);
  m_lastVersion = -1;
  if (m_reader) {
    poll();
    m_timer.start();
  } else {
    m_timer.stop();
  }
}

void StoreWatcher::setInterval(int ms) { m_timer.setInterval(ms); }

void StoreWatcher::poll() {
  if (!m_reader) return;
  qint64 version = -1;
  try {
    version = m_reader->data_version();
  } catch (const Error&) {
    return;
  }
  if (m_lastVersion >= 0 && version != m_lastVersion) Q_EMIT storeChanged();
  m_lastVersion = version;
}

}  // namespace apportion::ui
