// SPDX-License-Identifier: GPL-3.0-or-later
// Preference<T>: a typed key over QSettings for UI state only (window geometry, last workspace,
// apportion executable). Declare each preference next to the code that uses it (Tiled,
// qBittorrent). Never store experiment parameters here (DESIGN §8).
#pragma once

#include <QSettings>
#include <QString>
#include <QVariant>

namespace apportion::ui {

template <typename T>
class Preference {
 public:
  Preference(QString key, T defaultValue)
      : m_key(std::move(key)), m_default(std::move(defaultValue)) {}

  T value() const {
    QSettings settings;
    const QVariant v = settings.value(m_key);
    if (!v.isValid() || !v.canConvert<T>()) return m_default;
    return v.value<T>();
  }
  void setValue(const T& v) const {
    QSettings settings;
    settings.setValue(m_key, QVariant::fromValue(v));
  }
  void reset() const {
    QSettings settings;
    settings.remove(m_key);
  }
  const QString& key() const { return m_key; }
  const T& defaultValue() const { return m_default; }

 private:
  QString m_key;
  T m_default;
};

}  // namespace apportion::ui
