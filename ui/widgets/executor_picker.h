// SPDX-License-Identifier: GPL-3.0-or-later
// ExecutorPicker: the "Run on" row of the New-run and Sweep dialogs. Lists "This computer" and
// every executor profile in the profiles folder ($XDG_CONFIG_HOME/apportion/profiles/*.json,
// core/remote/executor_profile.h), each with its kind and host; the tooltip names the file. A
// profile that does not parse stays listed but disabled, its error as tooltip. "Profiles
// folder…" opens the folder (creating it); with no profile a hint says where to put one.
//
// Intended usage:
//   auto* picker = new ExecutorPicker;
//   picker->setRememberKey(QStringLiteral("new_run/executor"));  // restores the last choice
//   const QString profile = picker->profilePath();  // "" = this computer, else for --on
#pragma once

#include <QList>
#include <QString>
#include <QWidget>

class QComboBox;
class QLabel;

namespace apportion::ui {

class ExecutorPicker : public QWidget {
  Q_OBJECT

 public:
  /// One profile file as listed.
  struct Entry {
    QString name;     ///< file stem (what `--on NAME` takes)
    QString path;     ///< absolute file path
    QString summary;  ///< "ssh · me@gpu1 · 2 at a time"
    QString error;    ///< non-empty when the file does not parse (listed disabled)
  };

  explicit ExecutorPicker(QWidget* parent = nullptr);

  /// $XDG_CONFIG_HOME/apportion/profiles (else ~/.config/apportion/profiles), as the CLI reads.
  static QString profilesDir();
  /// Every *.json in `dir`, sorted by name.
  static QList<Entry> scanProfiles(const QString& dir);

  /// Re-reads the profiles folder, keeping the current choice when it is still there.
  void reload();
  /// "" for this computer, else the chosen profile's file.
  QString profilePath() const;
  /// "" for this computer, else the chosen profile's name.
  QString profileName() const;
  /// Chooses "" (this computer), a profile name or a profile file; false when not listed.
  bool selectProfile(const QString& nameOrPath);
  /// Profiles listed (valid or not).
  int profileCount() const { return m_entries.size(); }
  /// Saves each choice under `key` (QSettings) and restores the saved one now.
  void setRememberKey(const QString& key);
  /// Text and tooltip of the "This computer" row (the sweep dialog's runs a local queue).
  void setLocalText(const QString& text, const QString& toolTip);
  QComboBox* combo() const { return m_combo; }

 Q_SIGNALS:
  /// The choice changed: "" (this computer) or a profile file.
  void profileChanged(const QString& path);

 private:
  void onIndexChanged();

  QComboBox* m_combo = nullptr;
  QLabel* m_hint = nullptr;
  QList<Entry> m_entries;
  QString m_rememberKey;
};

}  // namespace apportion::ui
