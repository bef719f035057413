// SPDX-License-Identifier: GPL-3.0-or-later
// BackbonePicker: folder chooser + inspect summary + device combo.
#include "ui/widgets/backbone_picker.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QLabel>
#include <QPushButton>

namespace apportion::ui {

BackbonePicker::BackbonePicker(BackendQueries queries, QWidget* parent)
    : QWidget(parent),
      m_queries(std::move(queries)),
      m_path(new QLabel),
      m_summary(new QLabel),
      m_browse(new QPushButton(tr("Model folder…"))),
      m_device(new QComboBox) {
  auto* grid = new QGridLayout(this);
  grid->setContentsMargins(0, 0, 0, 0);
  grid->addWidget(new QLabel(tr("Backbone")), 0, 0);
  m_path->setTextInteractionFlags(Qt::TextSelectableByMouse);
  m_path->setWordWrap(true);
  grid->addWidget(m_path, 0, 1);
  grid->addWidget(m_browse, 0, 2);
  m_summary->setWordWrap(true);
  m_summary->setStyleSheet(QStringLiteral("color: #444;"));
  grid->addWidget(m_summary, 1, 1, 1, 2);
  grid->addWidget(new QLabel(tr("Device")), 2, 0);
  grid->addWidget(m_device, 2, 1, 1, 2);
  grid->setColumnStretch(1, 1);
  m_browse->setToolTip(
      tr("An ordinary Hugging Face model folder: config.json, "
         "model.safetensors (or a sharded index) and a tokenizer"));
  m_device->setToolTip(tr("What this build can train on (apportion devices)"));

  const QStringList devices = m_queries.devices ? m_queries.devices() : QStringList{};
  m_device->addItems(devices.isEmpty() ? QStringList{QStringLiteral("cpu")} : devices);
  connect(m_browse, &QPushButton::clicked, this, &BackbonePicker::browse);
  connect(m_device, &QComboBox::currentTextChanged, this, [this](const QString& d) {
    if (!m_syncing) Q_EMIT deviceChosen(d);
  });
}

void BackbonePicker::showBackbone(const QString& path, const QString& resolvedDir) {
  m_path->setText(path.isEmpty() ? tr("(random init from backbone.config)") : path);
  if (resolvedDir.isEmpty()) {
    m_inspectedDir.clear();
    m_summary->setText(tr("A new model is built from the inline backbone.config."));
    return;
  }
  if (resolvedDir != m_inspectedDir) showInspection(resolvedDir);
}

void BackbonePicker::showDevice(const QString& device) {
  m_syncing = true;
  int index = m_device->findText(device);
  if (index < 0) {
    m_device->addItem(device);
    index = m_device->count() - 1;
    m_device->setItemData(index, tr("not available in this build"), Qt::ToolTipRole);
  }
  m_device->setCurrentIndex(index);
  m_syncing = false;
}

void BackbonePicker::chooseFolder(const QString& dir) {
  showInspection(dir);
  if (m_summary->property("ok").toBool()) {
    m_path->setText(dir);
    Q_EMIT backboneChosen(dir);
  }
}

void BackbonePicker::browse() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Choose a model folder"));
  if (!dir.isEmpty()) chooseFolder(dir);
}

void BackbonePicker::showInspection(const QString& dir) {
  m_inspectedDir = dir;
  InspectResult r;
  if (!QFileInfo::exists(dir + QStringLiteral("/config.json"))) {
    r.error = tr("%1 has no config.json (not a model folder yet; pretrain it first?)").arg(dir);
  } else if (!m_queries.inspect) {
    r.error = tr("cannot inspect models: the apportion CLI was not found");
  } else {
    r = m_queries.inspect(dir);
  }
  m_summary->setProperty("ok", r.ok);
  m_summary->setStyleSheet(r.ok ? QStringLiteral("color: #444;")
                                : QStringLiteral("color: #c62828;"));
  m_summary->setText(r.ok ? r.summary : r.error);
}

}  // namespace apportion::ui
