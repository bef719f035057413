// SPDX-License-Identifier: GPL-3.0-or-later
// NewRunDialog: preset → JSON editor ↔ form fields → ap_core validation → launch. The method
// rows and their settings boxes come from the method registry (no method is named here).
#include "ui/widgets/new_run_dialog.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include <QComboBox>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRegularExpression>
#include <QScrollArea>
#include <QScrollBar>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QVBoxLayout>

#include "core/allocation/expert_allocation.h"
#include "core/common/error.h"
#include "core/common/json_parse.h"
#include "core/config/experiment_config.h"
#include "core/methods/method_registry.h"
#include "ui/widgets/allocation_preview.h"
#include "ui/widgets/backbone_picker.h"
#include "ui/widgets/dataset_editor.h"
#include "ui/widgets/executor_picker.h"
#include "ui/widgets/method_field_widget.h"

namespace apportion::ui {

namespace {

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

/// The method a config's adapters.method and allocation.method select, when the whole config
/// does not parse (a typo elsewhere must not move the method combo); nullptr when unknown.
const Method* methodOfParts(const nlohmann::json& j) {
  ExperimentConfig cfg;
  AdapterConfig adapters;
  adapters.method = valueOr<std::string>(j, {"adapters", "method"}, adapters.method);
  cfg.adapters = adapters;
  cfg.allocation.method = valueOr<std::string>(j, {"allocation", "method"}, cfg.allocation.method);
  try {
    return &method_of(cfg);
  } catch (const Error&) {
    return nullptr;
  }
}

/// The row of `m` in methods() (the combo lists them in that order), -1 when absent.
int rowOf(const Method* m) {
  const auto& all = methods();
  const auto it = std::find(all.begin(), all.end(), m);
  return it == all.end() ? -1 : static_cast<int>(it - all.begin());
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
  resize(980, 860);
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
  // The form scrolls when the screen is too short for it (a method with many settings), so its
  // fields are never squeezed below their height.
  QWidget* form = buildForm();
  auto* formScroll = new QScrollArea;
  formScroll->setWidget(form);
  formScroll->setWidgetResizable(true);
  formScroll->setFrameShape(QFrame::NoFrame);
  formScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  int formWidth = form->sizeHint().width();
  for (const MethodBox& b : m_methodBoxes) {  // hidden now; the widest one sets the width
    const QMargins m = form->layout()->contentsMargins();
    formWidth = std::max(formWidth, b.box->sizeHint().width() + m.left() + m.right());
  }
  formScroll->setMinimumWidth(formWidth + formScroll->verticalScrollBar()->sizeHint().width());
  body->addWidget(formScroll);
  m_editor->setFont(QFont(QStringLiteral("monospace"), 9));
  m_editor->setLineWrapMode(QPlainTextEdit::NoWrap);
  body->addWidget(m_editor, 1);
  layout->addLayout(body, 1);
  m_datasets = new DatasetEditor;
  layout->addWidget(m_datasets);
  connect(m_datasets, &DatasetEditor::edited, this,
          [this] { editJson([this](nlohmann::json& j) { m_datasets->writeInto(j); }); });

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
  auto* bottom = new QHBoxLayout;
  bottom->addWidget(new QLabel(tr("Run on:")));
  m_executor = new ExecutorPicker;
  m_executor->setRememberKey(QStringLiteral("new_run/executor"));
  bottom->addWidget(m_executor, 1);
  bottom->addWidget(buttons);
  layout->addLayout(bottom);
  const auto launchText = [this] {
    m_launch->setText(m_executor->profilePath().isEmpty() ? tr("Launch") : tr("Submit"));
  };
  connect(m_executor, &ExecutorPicker::profileChanged, this, launchText);
  launchText();
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
  for (const Method* m : methods()) {
    m_method->addItem(QString::fromStdString(m->name()));
    m_method->setItemData(m_method->count() - 1, QString::fromStdString(m->description()),
                          Qt::ToolTipRole);
  }
  m_method->setToolTip(tr("Adapter and allocation method (hover an entry for what it does)"));
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
  m_suite = new QComboBox;
  m_suite->addItems(
      {QStringLiteral("builtin"), QStringLiteral("jsonl"), QStringLiteral("datasets")});
  m_suite->setToolTip(
      tr("data.suite: builtin (generated tasks), jsonl (one instruction file) or "
         "datasets (named datasets with protocols: the Datasets section)"));
  fl->addRow(tr("Data suite"), m_suite);
  connect(m_suite, &QComboBox::currentTextChanged, this, &NewRunDialog::applySuite);
  fl->addRow(buildMethodBoxes());

  connect(m_method, qOverload<int>(&QComboBox::currentIndexChanged), this,
          &NewRunDialog::applyMethod);
  connect(m_molaPreset, &QComboBox::currentTextChanged, this, [this](const QString& p) {
    const Method* m = currentMethod();
    if (!m_syncing && m && m->traits().uses_preset) patchJson("allocation.preset", p.toStdString());
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
    j = parse_json_bounded(text, JsonLimits::config());
  } catch (const JsonInputError& e) {
    m_error->setText(
        (e.line() > 0 ? tr("JSON syntax error at %1: %2") : tr("JSON error %1: %2"))
            .arg(QString::fromStdString(e.where()), QString::fromStdString(e.reason())));
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
  std::optional<ExperimentConfig> cfg;
  QString parseError;
  try {
    cfg = ExperimentConfig::from_json(j);
  } catch (const Error& e) {  // ConfigError: the message starts with the JSON path
    parseError = QString::fromUtf8(e.what());
  } catch (const nlohmann::json::exception& e) {
    parseError = QString::fromUtf8(e.what());
  }
  syncFormFromJson(j, cfg ? &*cfg : nullptr);
  m_description->setText(QString::fromStdString(valueOr<std::string>(j, {"description"}, "")));
  m_description->setVisible(!m_description->text().isEmpty());
  if (!cfg) {
    m_error->setText(parseError);
    m_preview->clear();
    m_launch->setEnabled(false);
    return;
  }
  try {
    const AllocationPreview preview = previewAllocation(*cfg, m_workspace);
    m_preview->setText(preview.memoryText.isEmpty()
                           ? preview.text
                           : preview.text + QLatin1Char('\n') + preview.memoryText);
    if (preview.invalid) {
      m_error->setText(preview.text);
    } else {
      m_error->clear();
      m_valid = true;
    }
  } catch (const Error& e) {
    m_error->setText(QString::fromUtf8(e.what()));
    m_preview->clear();
  } catch (const nlohmann::json::exception& e) {
    m_error->setText(QString::fromUtf8(e.what()));
    m_preview->clear();
  }
  m_launch->setEnabled(m_valid);
}

void NewRunDialog::syncFormFromJson(const nlohmann::json& j, const ExperimentConfig* parsed) {
  m_syncing = true;
  const AdapterConfig adapterDefaults;
  const TrainConfig trainDefaults;
  const bool hasAdapters = at(j, {"adapters"}) != nullptr;
  // The registry decides which row a config is (plain-LoRA baselines, routed-expert methods
  // whose dense targets use plain LoRA); a config that does not parse keeps the row unless its
  // adapters.method / allocation.method name one.
  const Method* method = nullptr;
  if (parsed && parsed->adapters) {
    try {
      method = &method_of(*parsed);
    } catch (const Error&) {
    }
  }
  if (!method && hasAdapters) method = methodOfParts(j);
  if (const int row = rowOf(method); row >= 0) m_method->setCurrentIndex(row);
  syncMethodFields(j);
  m_molaPreset->setCurrentText(
      QString::fromStdString(valueOr<std::string>(j, {"allocation", "preset"}, "2468")));
  m_experts->setValue(valueOr<int>(j, {"adapters", "num_experts"}, adapterDefaults.num_experts));
  m_topK->setValue(valueOr<int>(j, {"adapters", "top_k"}, adapterDefaults.top_k));
  m_rank->setValue(valueOr<int>(j, {"adapters", "r"}, adapterDefaults.r));
  m_lr->setValue(valueOr<double>(j, {"train", "lr"}, trainDefaults.lr));
  m_steps->setValue(valueOr<int>(j, {"train", "steps"}, trainDefaults.steps));
  const std::string suite = valueOr<std::string>(j, {"data", "suite"}, DataConfig{}.suite);
  m_suite->setCurrentText(QString::fromStdString(suite));
  m_datasets->showConfig(j);
  m_datasets->setEnabled(suite == "datasets");
  m_datasets->setVisible(suite == "datasets");  // room for the form when it is not used
  for (QWidget* w : {static_cast<QWidget*>(m_method), static_cast<QWidget*>(m_topK),
                     static_cast<QWidget*>(m_rank)})
    w->setEnabled(hasAdapters);
  const auto backbonePath = valueOr<std::string>(j, {"backbone", "path"}, "");
  const QString path = QString::fromStdString(backbonePath);
  m_backbone->showBackbone(
      path, path.isEmpty() ? QString() : QDir::cleanPath(m_workspace.absoluteFilePath(path)));
  m_backbone->showDevice(
      QString::fromStdString(valueOr<std::string>(j, {"train", "device"}, trainDefaults.device)));
  showMethodControls(currentMethod(), hasAdapters);
  m_syncing = false;
}

void NewRunDialog::patchJson(const std::string& dottedPath, const nlohmann::json& value) {
  editJson([&](nlohmann::json& j) {
    nlohmann::json* node = &j;
    for (size_t start = 0;;) {
      const size_t dot = dottedPath.find('.', start);
      if (!node->is_object()) return;
      node = &(*node)[dottedPath.substr(start, dot == std::string::npos ? dot : dot - start)];
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    *node = value;
  });
}

void NewRunDialog::applyMethod(int /*row*/) {
  if (m_syncing) return;
  const Method* method = currentMethod();
  if (!method) return;
  nlohmann::json j;
  try {
    j = parse_json_bounded(m_editor->toPlainText().toStdString(), JsonLimits::config());
  } catch (const JsonInputError&) {
    return;
  }
  if (!j.is_object() || !j.contains("adapters")) return;
  // The registry writes allocation.method / adapters.method and drops the sections and the
  // preset the config no longer uses; the form adds the chosen method's own settings.
  select_method(j, *method);
  const std::string section = method->section();
  for (const MethodBox& b : m_methodBoxes) {
    if (b.method != method || section.empty()) continue;
    nlohmann::json& values = j["allocation"][section];
    if (!values.is_object()) values = nlohmann::json::object();
    for (size_t i = 0; i < b.fields.size(); ++i)
      if (b.widgets[i]->property(kMethodFieldKnownProperty).toBool())
        values[b.fields[i].key] = methodFieldValue(b.fields[i], b.widgets[i]);
  }
  if (method->traits().uses_preset)
    j["allocation"]["preset"] = m_molaPreset->currentText().toStdString();
  m_syncing = true;
  m_editor->setPlainText(QString::fromStdString(j.dump(2)));
  m_syncing = false;
  onTextChanged();
}

void NewRunDialog::useBackboneFolder(const QString& dir) {
  // Inside the workspace: store it relative (the workspace can move); else absolute.
  const QString rel = m_workspace.relativeFilePath(dir);
  const QString stored = rel.startsWith(QLatin1String("..")) ? QDir::cleanPath(dir) : rel;
  editJson([&stored](nlohmann::json& j) {
    j["backbone"]["path"] = stored.toStdString();
    j["backbone"].erase("config");
  });
}

void NewRunDialog::editJson(const std::function<void(nlohmann::json&)>& edit) {
  if (m_syncing) return;
  nlohmann::json j;
  try {
    j = parse_json_bounded(m_editor->toPlainText().toStdString(), JsonLimits::config());
  } catch (const JsonInputError&) {
    return;  // fix the syntax in the editor first; the form follows the text
  }
  if (!j.is_object()) return;
  try {
    edit(j);
  } catch (const nlohmann::json::exception&) {
    return;  // a section of the wrong type (e.g. "data": 3): the text shows the error
  }
  m_syncing = true;
  m_editor->setPlainText(QString::fromStdString(j.dump(2)));
  m_syncing = false;
  onTextChanged();
}

void NewRunDialog::applySuite(const QString& suite) {
  // Leaving "datasets" removes data.datasets (only that suite accepts it); the editor keeps its
  // rows and writes them back when "datasets" is chosen again.
  editJson([this, &suite](nlohmann::json& j) {
    j["data"]["suite"] = suite.toStdString();
    if (suite == QLatin1String("datasets")) {
      const QSignalBlocker quiet(m_datasets);  // this edit writes the rows itself
      if (m_datasets->rowCount() == 0) m_datasets->addRow();
      m_datasets->writeInto(j);
    } else {
      j["data"].erase("datasets");
    }
  });
}

QString NewRunDialog::executorProfile() const { return m_executor->profilePath(); }

void NewRunDialog::launch() {
  if (!m_valid) return;
  const std::string text = m_editor->toPlainText().toStdString();
  QString name = QStringLiteral("run");
  try {
    const auto j = parse_json_bounded(text, JsonLimits::config());
    if (j.contains("name") && j["name"].is_string() && !j["name"].get<std::string>().empty())
      name = QString::fromStdString(j["name"].get<std::string>());
  } catch (const std::exception&) {
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
