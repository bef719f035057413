// SPDX-License-Identifier: GPL-3.0-or-later
// NewRunDialog: preset → JSON editor ↔ form fields → ap_core validation → launch.
#include "ui/widgets/new_run_dialog.h"

#include <QComboBox>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QSpinBox>
#include <QVBoxLayout>

#include "core/allocation/expert_allocation.h"
#include "core/common/error.h"
#include "core/config/experiment_config.h"
#include "ui/widgets/allocation_preview.h"
#include "ui/widgets/backbone_picker.h"

namespace apportion::ui {

namespace {

/// "line L, column C" of a byte offset in UTF-8 text (nlohmann reports bytes).
QString lineColumn(const std::string& text, size_t byte) {
  int line = 1;
  int column = 1;
  for (size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return QObject::tr("line %1, column %2").arg(line).arg(column);
}

const nlohmann::json* at(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* node = &j;
  for (const char* part : path) {
    if (!node->is_object() || !node->contains(part)) return nullptr;
    node = &(*node)[part];
  }
  return node;
}

template <typename T>
T valueOr(const nlohmann::json& j, std::initializer_list<const char*> path, T fallback) {
  const nlohmann::json* node = at(j, path);
  if (!node) return fallback;
  try {
    return node->get<T>();
  } catch (const nlohmann::json::exception&) {
    return fallback;
  }
}

}  // namespace

NewRunDialog::NewRunDialog(const QString& experimentsDir,
                           const QDir& workspace,
                           BackendQueries queries,
                           QWidget* parent)
    : QDialog(parent),
      m_workspace(workspace),
      m_presets(new QComboBox),
      m_editor(new QPlainTextEdit),
      m_description(new QLabel),
      m_error(new QLabel),
      m_preview(new QLabel),
      m_queries(std::move(queries)) {
  setWindowTitle(tr("New run"));
  resize(860, 680);
  auto* layout = new QVBoxLayout(this);

  auto* presetRow = new QHBoxLayout;
  presetRow->addWidget(new QLabel(tr("Preset:")));
  presetRow->addWidget(m_presets, 1);
  layout->addLayout(presetRow);
  m_description->setWordWrap(true);
  m_description->setStyleSheet(QStringLiteral("color: #555;"));
  layout->addWidget(m_description);

  m_backbone = new BackbonePicker(m_queries);
  layout->addWidget(m_backbone);
  connect(m_backbone, &BackbonePicker::backboneChosen, this, &NewRunDialog::useBackboneFolder);
  connect(m_backbone, &BackbonePicker::deviceChosen, this,
          [this](const QString& d) { patchJson("train.device", d.toStdString()); });

  auto* body = new QHBoxLayout;
  body->addWidget(buildForm());
  m_editor->setFont(QFont(QStringLiteral("monospace"), 9));
  m_editor->setLineWrapMode(QPlainTextEdit::NoWrap);
  body->addWidget(m_editor, 1);
  layout->addLayout(body, 1);

  m_error->setWordWrap(true);
  m_error->setStyleSheet(QStringLiteral("color: #c62828;"));
  m_error->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(m_error);
  m_preview->setWordWrap(true);
  m_preview->setStyleSheet(QStringLiteral("color: #1f4f8f;"));
  layout->addWidget(m_preview);

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel);
  m_launch = buttons->addButton(tr("Launch"), QDialogButtonBox::AcceptRole);
  m_launch->setDefault(true);
  layout->addWidget(buttons);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(m_launch, &QPushButton::clicked, this, &NewRunDialog::launch);
  connect(m_editor, &QPlainTextEdit::textChanged, this, &NewRunDialog::onTextChanged);
  connect(m_presets, qOverload<int>(&QComboBox::currentIndexChanged), this,
          &NewRunDialog::onPresetChanged);

  loadPresets(experimentsDir);
}

QWidget* NewRunDialog::buildForm() {
  auto* form = new QWidget;
  auto* fl = new QFormLayout(form);
  m_method = new QComboBox;
  m_method->addItems({QStringLiteral("lora"), QStringLiteral("uniform"), QStringLiteral("mola")});
  m_method->setToolTip(tr("lora: plain LoRA · uniform: N experts per layer · mola: MoLA preset"));
  m_molaPreset = new QComboBox;
  for (const std::string& name : mola_preset_names())
    m_molaPreset->addItem(QString::fromStdString(name));
  m_experts = new QSpinBox;
  m_experts->setRange(1, 64);
  m_topK = new QSpinBox;
  m_topK->setRange(1, 64);
  m_rank = new QSpinBox;
  m_rank->setRange(1, 1024);
  m_lr = new QDoubleSpinBox;
  m_lr->setDecimals(6);
  m_lr->setRange(1e-6, 1.0);
  m_lr->setSingleStep(1e-4);
  m_steps = new QSpinBox;
  m_steps->setRange(1, 10000000);
  fl->addRow(tr("Method"), m_method);
  fl->addRow(tr("MoLA preset"), m_molaPreset);
  fl->addRow(tr("Experts / layer"), m_experts);
  fl->addRow(tr("Top-k"), m_topK);
  fl->addRow(tr("Rank r"), m_rank);
  fl->addRow(tr("Learning rate"), m_lr);
  fl->addRow(tr("Steps"), m_steps);

  connect(m_method, &QComboBox::currentTextChanged, this, &NewRunDialog::applyMethod);
  connect(m_molaPreset, &QComboBox::currentTextChanged, this, [this](const QString& p) {
    if (!m_syncing && m_method->currentText() == QLatin1String("mola"))
      patchJson("allocation.preset", p.toStdString());
  });
  connect(m_experts, qOverload<int>(&QSpinBox::valueChanged), this,
          [this](int v) { patchJson("adapters.num_experts", v); });
  connect(m_topK, qOverload<int>(&QSpinBox::valueChanged), this,
          [this](int v) { patchJson("adapters.top_k", v); });
  connect(m_rank, qOverload<int>(&QSpinBox::valueChanged), this,
          [this](int v) { patchJson("adapters.r", v); });
  connect(m_lr, qOverload<double>(&QDoubleSpinBox::valueChanged), this,
          [this](double v) { patchJson("train.lr", v); });
  connect(m_steps, qOverload<int>(&QSpinBox::valueChanged), this,
          [this](int v) { patchJson("train.steps", v); });
  return form;
}

void NewRunDialog::loadPresets(const QString& experimentsDir) {
  const QDir dir(experimentsDir);
  const QStringList files = dir.entryList({QStringLiteral("*.json")}, QDir::Files, QDir::Name);
  for (const QString& f : files)
    m_presets->addItem(QFileInfo(f).completeBaseName(), dir.filePath(f));
  if (files.isEmpty()) {
    m_presets->addItem(tr("(no presets in %1)").arg(experimentsDir), QString());
    ExperimentConfig defaults;
    defaults.name = "custom";
    defaults.adapters = AdapterConfig{};
    setConfigText(QString::fromStdString(defaults.to_json().dump(2)));
  } else {
    onPresetChanged(0);
  }
}

bool NewRunDialog::selectPreset(const QString& fileName) {
  const QString base = QFileInfo(fileName).completeBaseName();
  const int index = m_presets->findText(base);
  if (index < 0) return false;
  m_presets->setCurrentIndex(index);
  onPresetChanged(index);
  return true;
}

void NewRunDialog::onPresetChanged(int index) {
  const QString path = m_presets->itemData(index).toString();
  if (path.isEmpty()) return;
  QFile file(path);
  if (!file.open(QIODevice::ReadOnly)) {
    m_error->setText(tr("Cannot read %1: %2").arg(path, file.errorString()));
    return;
  }
  setConfigText(QString::fromUtf8(file.readAll()));
}

void NewRunDialog::setConfigText(const QString& json) { m_editor->setPlainText(json); }

QString NewRunDialog::configText() const { return m_editor->toPlainText(); }

QString NewRunDialog::errorText() const { return m_error->text(); }

QString NewRunDialog::previewText() const { return m_preview->text(); }

void NewRunDialog::onTextChanged() {
  const std::string text = m_editor->toPlainText().toStdString();
  m_valid = false;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    m_error->setText(tr("JSON syntax error at %1: %2")
                         .arg(lineColumn(text, e.byte), QString::fromUtf8(e.what())));
    m_launch->setEnabled(false);
    return;
  }
  if (!j.is_object()) {
    m_error->setText(tr("The config must be a JSON object ({ … }), got %1")
                         .arg(QString::fromUtf8(j.type_name())));
    m_preview->clear();
    m_launch->setEnabled(false);
    return;
  }
  syncFormFromJson(j);
  m_description->setText(QString::fromStdString(valueOr<std::string>(j, {"description"}, "")));
  m_description->setVisible(!m_description->text().isEmpty());
  try {
    const ExperimentConfig cfg = ExperimentConfig::from_json(j);
    const AllocationPreview preview = previewAllocation(cfg, m_workspace);
    m_preview->setText(preview.text);
    if (preview.invalid) {
      m_error->setText(preview.text);
    } else {
      m_error->clear();
      m_valid = true;
    }
  } catch (const Error& e) {  // ConfigError: the message starts with the JSON path
    m_error->setText(QString::fromUtf8(e.what()));
    m_preview->clear();
  } catch (const nlohmann::json::exception& e) {
    m_error->setText(QString::fromUtf8(e.what()));
    m_preview->clear();
  }
  m_launch->setEnabled(m_valid);
}

void NewRunDialog::syncFormFromJson(const nlohmann::json& j) {
  m_syncing = true;
  const AdapterConfig adapterDefaults;
  const TrainConfig trainDefaults;
  const bool hasAdapters = at(j, {"adapters"}) != nullptr;
  QString method = QStringLiteral("uniform");
  if (valueOr<std::string>(j, {"adapters", "method"}, adapterDefaults.method) == "lora")
    method = QStringLiteral("lora");
  else if (valueOr<std::string>(j, {"allocation", "method"}, "uniform") == "mola")
    method = QStringLiteral("mola");
  m_method->setCurrentText(method);
  m_molaPreset->setCurrentText(
      QString::fromStdString(valueOr<std::string>(j, {"allocation", "preset"}, "2468")));
  m_experts->setValue(valueOr<int>(j, {"adapters", "num_experts"}, adapterDefaults.num_experts));
  m_topK->setValue(valueOr<int>(j, {"adapters", "top_k"}, adapterDefaults.top_k));
  m_rank->setValue(valueOr<int>(j, {"adapters", "r"}, adapterDefaults.r));
  m_lr->setValue(valueOr<double>(j, {"train", "lr"}, trainDefaults.lr));
  m_steps->setValue(valueOr<int>(j, {"train", "steps"}, trainDefaults.steps));
  for (QWidget* w : {static_cast<QWidget*>(m_method), static_cast<QWidget*>(m_topK),
                     static_cast<QWidget*>(m_rank)})
    w->setEnabled(hasAdapters);
  const auto backbonePath = valueOr<std::string>(j, {"backbone", "path"}, "");
  const QString path = QString::fromStdString(backbonePath);
  m_backbone->showBackbone(
      path, path.isEmpty() ? QString() : QDir::cleanPath(m_workspace.absoluteFilePath(path)));
  m_backbone->showDevice(
      QString::fromStdString(valueOr<std::string>(j, {"train", "device"}, trainDefaults.device)));
  m_molaPreset->setEnabled(hasAdapters && method == QLatin1String("mola"));
  m_experts->setEnabled(hasAdapters && method == QLatin1String("uniform"));
  m_topK->setEnabled(hasAdapters && method != QLatin1String("lora"));
  m_syncing = false;
}

void NewRunDialog::patchJson(const std::string& dottedPath, const nlohmann::json& value) {
  if (m_syncing) return;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(m_editor->toPlainText().toStdString());
  } catch (const nlohmann::json::parse_error&) {
    return;  // fix the syntax in the editor first; the form follows the text
  }
  nlohmann::json* node = &j;
  size_t start = 0;
  while (true) {
    const size_t dot = dottedPath.find('.', start);
    const std::string part = dottedPath.substr(start, dot == std::string::npos ? dot : dot - start);
    if (!node->is_object()) return;
    node = &(*node)[part];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (value.is_null())
    *node = nullptr;
  else
    *node = value;
  m_syncing = true;
  m_editor->setPlainText(QString::fromStdString(j.dump(2)));
  m_syncing = false;
  onTextChanged();
}

void NewRunDialog::applyMethod(const QString& method) {
  if (m_syncing) return;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(m_editor->toPlainText().toStdString());
  } catch (const nlohmann::json::parse_error&) {
    return;
  }
  if (!j.is_object() || !j.contains("adapters")) return;
  if (method == QLatin1String("lora")) {
    j["adapters"]["method"] = "lora";
  } else {
    j["adapters"]["method"] = "moe_lora";
    j["allocation"]["method"] = method.toStdString();
    if (method == QLatin1String("mola"))
      j["allocation"]["preset"] = m_molaPreset->currentText().toStdString();
    else
      j["allocation"].erase("preset");
  }
  m_syncing = true;
  m_editor->setPlainText(QString::fromStdString(j.dump(2)));
  m_syncing = false;
  onTextChanged();
}

void NewRunDialog::useBackboneFolder(const QString& dir) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(m_editor->toPlainText().toStdString());
  } catch (const nlohmann::json::parse_error&) {
    return;
  }
  if (!j.is_object()) return;
  // Inside the workspace: store it relative (the workspace can move); else absolute.
  const QString rel = m_workspace.relativeFilePath(dir);
  const QString stored = rel.startsWith(QLatin1String("..")) ? QDir::cleanPath(dir) : rel;
  j["backbone"]["path"] = stored.toStdString();
  j["backbone"].erase("config");
  m_syncing = true;
  m_editor->setPlainText(QString::fromStdString(j.dump(2)));
  m_syncing = false;
  onTextChanged();
}

void NewRunDialog::launch() {
  if (!m_valid) return;
  const std::string text = m_editor->toPlainText().toStdString();
  QString name = QStringLiteral("run");
  try {
    const auto j = nlohmann::json::parse(text);
    if (j.contains("name") && j["name"].is_string() && !j["name"].get<std::string>().empty())
      name = QString::fromStdString(j["name"].get<std::string>());
  } catch (const nlohmann::json::exception&) {
  }
  name.replace(QRegularExpression(QStringLiteral("[^A-Za-z0-9_.-]")), QStringLiteral("_"));
  const QDir configs(m_workspace.filePath(QStringLiteral("configs")));
  QDir().mkpath(configs.absolutePath());
  const QString stamp =
      QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss-zzz"));
  const QString path = configs.filePath(name + QLatin1Char('-') + stamp + QStringLiteral(".json"));
  QFile file(path);
  if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) ||
      file.write(m_editor->toPlainText().toUtf8()) < 0) {
    QMessageBox::warning(this, tr("New run"),
                         tr("Cannot write %1: %2").arg(path, file.errorString()));
    return;
  }
  file.close();
  m_writtenPath = path;
  Q_EMIT launchRequested(path);
  accept();
}

}  // namespace apportion::ui
