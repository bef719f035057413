// SPDX-License-Identifier: GPL-3.0-or-later
// ExecutorPicker: the profiles folder read with ap_core's profile parser (one definition of a
// valid profile for the CLI and the GUI).
#include "ui/widgets/executor_picker.h"

#include <QComboBox>
#include <QDesktopServices>
#include <QDir>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QSettings>
#include <QSignalBlocker>
#include <QStandardItemModel>
#include <QToolButton>
#include <QUrl>
#include <QVBoxLayout>

#include "core/common/json_parse.h"
#include "core/remote/executor_profile.h"

namespace apportion::ui {

namespace {

QString summaryOf(const ExecutorProfile& p) {
  QStringList parts{QString::fromUtf8(to_string(p.kind))};
  const auto host = [&p] {
    QString h = QString::fromStdString(p.ssh.host);
    if (!p.ssh.user.empty()) h = QString::fromStdString(p.ssh.user) + QLatin1Char('@') + h;
    if (p.ssh.port > 0 && p.ssh.port != 22) h += QStringLiteral(":%1").arg(p.ssh.port);
    return h;
  };
  if (p.kind == ExecutorKind::Ssh) parts << host();
  if (p.kind == ExecutorKind::Slurm) {
    parts << (p.ssh.empty() ? QObject::tr("sbatch here") : host());
    if (!p.slurm.partition.empty()) parts << QString::fromStdString(p.slurm.partition);
    if (p.slurm.gpus_per_task > 0) parts << QObject::tr("%1 GPU/task").arg(p.slurm.gpus_per_task);
  }
  parts << QObject::tr("%1 at a time").arg(p.max_parallel);
  return parts.join(QStringLiteral(" · "));
}

}  // namespace

ExecutorPicker::ExecutorPicker(QWidget* parent)
    : QWidget(parent), m_combo(new QComboBox), m_hint(new QLabel) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(2);
  auto* row = new QHBoxLayout;
  row->setContentsMargins(0, 0, 0, 0);
  m_combo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  m_combo->setMinimumContentsLength(24);
  row->addWidget(m_combo, 1);
  auto* refresh = new QToolButton;
  refresh->setText(QStringLiteral("↻"));
  refresh->setToolTip(tr("Read the profiles folder again"));
  row->addWidget(refresh);
  auto* folder = new QToolButton;
  folder->setText(tr("Profiles folder…"));
  folder->setToolTip(tr("Open %1 (executor profiles: NAME.json, kind local, ssh or slurm)")
                         .arg(QDir::toNativeSeparators(profilesDir())));
  row->addWidget(folder);
  layout->addLayout(row);
  m_hint->setWordWrap(true);
  m_hint->setStyleSheet(QStringLiteral("color: #666;"));
  m_hint->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(m_hint);
  m_combo->addItem(tr("This computer"), QString());
  m_combo->setItemData(0, tr("Train here: a child process of this window, followed live"),
                       Qt::ToolTipRole);
  connect(refresh, &QToolButton::clicked, this, &ExecutorPicker::reload);
  connect(folder, &QToolButton::clicked, this, [] {
    QDir().mkpath(profilesDir());
    QDesktopServices::openUrl(QUrl::fromLocalFile(profilesDir()));
  });
  connect(m_combo, qOverload<int>(&QComboBox::currentIndexChanged), this,
          &ExecutorPicker::onIndexChanged);
  reload();
}

QString ExecutorPicker::profilesDir() {
  return QFileInfo(QString::fromStdString(executor_profile_path("profile"))).absolutePath();
}

QList<ExecutorPicker::Entry> ExecutorPicker::scanProfiles(const QString& dir) {
  QList<Entry> entries;
  const QFileInfoList files =
      QDir(dir).entryInfoList({QStringLiteral("*.json")}, QDir::Files | QDir::Readable, QDir::Name);
  for (const QFileInfo& file : files) {
    Entry e;
    e.name = file.completeBaseName();
    e.path = file.absoluteFilePath();
    try {
      const std::string path = e.path.toStdString();
      const ExecutorProfile p =
          executor_profile_from_json(read_json_file_bounded(path, JsonLimits::config()), path);
      e.summary = summaryOf(p);
    } catch (const std::exception& ex) {
      e.error = QString::fromUtf8(ex.what());
    }
    entries << e;
  }
  return entries;
}

void ExecutorPicker::reload() {
  const QString current = profilePath();
  {
    const QSignalBlocker quiet(m_combo);
    while (m_combo->count() > 1) m_combo->removeItem(1);
    m_entries = scanProfiles(profilesDir());
    auto* model = qobject_cast<QStandardItemModel*>(m_combo->model());
    for (const Entry& e : m_entries) {
      const QString text = e.error.isEmpty() ? QStringLiteral("%1 — %2").arg(e.name, e.summary)
                                             : tr("%1 — unreadable").arg(e.name);
      m_combo->addItem(text, e.path);
      const int row = m_combo->count() - 1;
      m_combo->setItemData(row,
                           e.error.isEmpty()
                               ? QDir::toNativeSeparators(e.path)
                               : QDir::toNativeSeparators(e.path) + QLatin1Char('\n') + e.error,
                           Qt::ToolTipRole);
      if (!e.error.isEmpty() && model) model->item(row)->setEnabled(false);
    }
    const int keep = m_combo->findData(current);
    m_combo->setCurrentIndex(keep > 0 && m_combo->itemData(keep).isValid() ? keep : 0);
  }
  m_hint->setText(tr("No executor profiles yet: put NAME.json files (kind local, ssh or slurm; "
                     "see docs/REMOTE.md) in %1 to run elsewhere.")
                      .arg(QDir::toNativeSeparators(profilesDir())));
  m_hint->setVisible(m_entries.isEmpty());
  m_combo->setToolTip(m_combo->itemData(m_combo->currentIndex(), Qt::ToolTipRole).toString());
  if (profilePath() != current) onIndexChanged();
}

QString ExecutorPicker::profilePath() const { return m_combo->currentData().toString(); }

QString ExecutorPicker::profileName() const {
  const QString path = profilePath();
  return path.isEmpty() ? QString() : QFileInfo(path).completeBaseName();
}

bool ExecutorPicker::selectProfile(const QString& nameOrPath) {
  for (int row = 0; row < m_combo->count(); ++row) {
    const QString path = m_combo->itemData(row).toString();
    const bool match = nameOrPath.isEmpty()
                           ? row == 0
                           : row > 0 && (path == QFileInfo(nameOrPath).absoluteFilePath() ||
                                         QFileInfo(path).completeBaseName() == nameOrPath);
    const auto* model = qobject_cast<QStandardItemModel*>(m_combo->model());
    if (match && (!model || model->item(row)->isEnabled())) {
      m_combo->setCurrentIndex(row);
      return true;
    }
  }
  return false;
}

void ExecutorPicker::setRememberKey(const QString& key) {
  m_rememberKey = key;
  const QString saved = QSettings().value(key).toString();
  if (!saved.isEmpty()) selectProfile(saved);
}

void ExecutorPicker::setLocalText(const QString& text, const QString& toolTip) {
  m_combo->setItemText(0, text);
  m_combo->setItemData(0, toolTip, Qt::ToolTipRole);
  if (m_combo->currentIndex() == 0) m_combo->setToolTip(toolTip);
}

void ExecutorPicker::onIndexChanged() {
  const int row = m_combo->currentIndex();
  m_combo->setToolTip(m_combo->itemData(row, Qt::ToolTipRole).toString());
  if (!m_rememberKey.isEmpty()) QSettings().setValue(m_rememberKey, profileName());
  Q_EMIT profileChanged(profilePath());
}

}  // namespace apportion::ui
