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
#include <QGroupBox>
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

struct MethodItem {
  const char* name;
  const char* tip;
};

const MethodItem kMethods[] = {
    {"lora", "Plain LoRA: one rank-r adapter per target projection (the baseline)"},
    {"uniform", "LoRA-MoE with the same number of experts (adapters.num_experts) in every layer"},
    {"mola",
     "MoLA: LoRA-MoE with a per-layer expert count from a preset (2468: more experts in "
     "higher layers)"},
    {"guilomo",
     "GuiLoMo: a bilevel search over GuidedSelection Vectors picks each module's expert count "
     "and each expert's rank; stage pipeline searches, then retrains the found allocation (two "
     "linked runs)"},
    {"drlora",
     "DR-LoRA: LoRA on every routed expert of a sparse-MoE backbone (Mixtral layout); ranks "
     "start at r_init and grow for salient experts under the budget L·N·r_target"},
    {"static_frequency",
     "DR-LoRA's static baseline: routed-expert ranks fixed once from a calibration pass of the "
     "routing frequencies, same budget L·N·r_target"},
};

bool isRoutedMethod(const QString& m) {
  return m == QLatin1String("drlora") || m == QLatin1String("static_frequency");
}

QComboBox* choiceCombo(std::initializer_list<std::pair<const char*, const char*>> items) {
  auto* combo = new QComboBox;
  for (const auto& [name, tip] : items) {
    combo->addItem(QString::fromUtf8(name));
    combo->setItemData(combo->count() - 1, QObject::tr(tip), Qt::ToolTipRole);
  }
  return combo;
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
  for (const MethodItem& item : kMethods) {
    m_method->addItem(QString::fromUtf8(item.name));
    m_method->setItemData(m_method->count() - 1, tr(item.tip), Qt::ToolTipRole);
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
  m_guilomoBox = buildGuiLoMoBox();
  fl->addRow(m_guilomoBox);
  m_drBox = buildDrLoraBox();
  fl->addRow(m_drBox);

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

QGroupBox* NewRunDialog::buildGuiLoMoBox() {
  auto* box = new QGroupBox(tr("GuiLoMo"));
  auto* fl = new QFormLayout(box);
  m_glStage =
      choiceCombo({{"pipeline", "Search, then retrain with the found allocation (two runs)"},
                   {"search", "Stage 1 only: the GSV search"},
                   {"retrain", "Stage 2 only, from allocation.guilomo.allocation_file"}});
  m_glArchitect = choiceCombo(
      {{"first_order", "First-order architect: GSV gradient at the current weights"},
       {"second_order", "Second-order (unrolled) architect with a finite-difference HVP"},
       {"reference", "As the reference code computes it"}});
  m_glSplit = choiceCombo(
      {{"holdout", "val_fraction of the training examples are held out for the GSVs"},
       {"alternate", "The reference: alternate mini-batches of the same training set"}});
  m_glReadout = choiceCombo(
      {{"argmax", "experts = max(2, argmax + 1), rank = argmax + 1"},
       {"budget_matched", "Ranks rescaled to a trainable-parameter target (budget_preset)"}});
  m_glSearchSteps = new QSpinBox;
  m_glSearchSteps->setRange(0, 10000000);
  m_glSearchSteps->setSpecialValueText(tr("= train steps"));
  m_glSearchSteps->setToolTip(tr("Optimiser steps of the search; 0 = train.steps"));
  fl->addRow(tr("Stage"), m_glStage);
  fl->addRow(tr("Architect"), m_glArchitect);
  fl->addRow(tr("Split"), m_glSplit);
  fl->addRow(tr("Readout"), m_glReadout);
  fl->addRow(tr("Search steps"), m_glSearchSteps);
  const auto patchText = [this](const char* path) {
    return [this, path](const QString& v) {
      if (m_method->currentText() == QLatin1String("guilomo")) patchJson(path, v.toStdString());
    };
  };
  connect(m_glStage, &QComboBox::currentTextChanged, this, patchText("allocation.guilomo.stage"));
  connect(m_glArchitect, &QComboBox::currentTextChanged, this,
          patchText("allocation.guilomo.architect_mode"));
  connect(m_glSplit, &QComboBox::currentTextChanged, this, patchText("allocation.guilomo.split"));
  connect(m_glReadout, &QComboBox::currentTextChanged, this,
          patchText("allocation.guilomo.readout"));
  connect(m_glSearchSteps, qOverload<int>(&QSpinBox::valueChanged), this, [this](int v) {
    if (m_method->currentText() == QLatin1String("guilomo"))
      patchJson("allocation.guilomo.search_steps", v);
  });
  return box;
}

QGroupBox* NewRunDialog::buildDrLoraBox() {
  auto* box = new QGroupBox(tr("Routed-expert ranks"));
  auto* fl = new QFormLayout(box);
  m_drInit = new QSpinBox;
  m_drInit->setRange(1, 4096);
  m_drInit->setToolTip(tr("Starting active rank of every routed expert"));
  m_drTarget = new QSpinBox;
  m_drTarget->setRange(1, 4096);
  m_drTarget->setToolTip(tr("Mean rank per expert at the end: the budget is L·N·r_target"));
  m_drMax = new QSpinBox;
  m_drMax->setRange(1, 4096);
  m_drMax->setToolTip(tr("Allocated rank of every routed expert; none grows beyond"));
  m_drInitLabel = new QLabel(tr("r_init"));
  fl->addRow(m_drInitLabel, m_drInit);
  fl->addRow(tr("r_target"), m_drTarget);
  fl->addRow(tr("r_max"), m_drMax);
  const auto patchInt = [this](const char* path) {
    return [this, path](int v) {
      if (isRoutedMethod(m_method->currentText())) patchJson(path, v);
    };
  };
  connect(m_drInit, qOverload<int>(&QSpinBox::valueChanged), this,
          patchInt("allocation.drlora.r_init"));
  connect(m_drTarget, qOverload<int>(&QSpinBox::valueChanged), this,
          patchInt("allocation.drlora.r_target"));
  connect(m_drMax, qOverload<int>(&QSpinBox::valueChanged), this,
          patchInt("allocation.drlora.r_max"));
  return box;
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
    m_preview->setText(preview.memoryText.isEmpty()
                           ? preview.text
                           : preview.text + QLatin1Char('\n') + preview.memoryText);
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
  const QString allocation =
      QString::fromStdString(valueOr<std::string>(j, {"allocation", "method"}, "uniform"));
  QString method = allocation;
  if (!isRoutedMethod(allocation) &&
      valueOr<std::string>(j, {"adapters", "method"}, adapterDefaults.method) == "lora")
    method = QStringLiteral("lora");
  if (m_method->findText(method) < 0) method = QStringLiteral("uniform");
  m_method->setCurrentText(method);
  const GuiLoMoConfig gl;
  const auto glText = [&](const char* key, const std::string& fallback) {
    return QString::fromStdString(
        valueOr<std::string>(j, {"allocation", "guilomo", key}, fallback));
  };
  m_glStage->setCurrentText(glText("stage", gl.stage));
  m_glArchitect->setCurrentText(glText("architect_mode", gl.architect_mode));
  m_glSplit->setCurrentText(glText("split", gl.split));
  m_glReadout->setCurrentText(glText("readout", gl.readout));
  m_glSearchSteps->setValue(
      valueOr<int>(j, {"allocation", "guilomo", "search_steps"}, gl.search_steps));
  const DrLoraConfig dr;
  m_drInit->setValue(valueOr<int>(j, {"allocation", "drlora", "r_init"}, dr.r_init));
  m_drTarget->setValue(valueOr<int>(j, {"allocation", "drlora", "r_target"}, dr.r_target));
  m_drMax->setValue(valueOr<int>(j, {"allocation", "drlora", "r_max"}, dr.r_max));
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
  showMethodControls(method, hasAdapters);
  m_syncing = false;
}

void NewRunDialog::showMethodControls(const QString& method, bool hasAdapters) {
  m_molaPreset->setEnabled(hasAdapters && method == QLatin1String("mola"));
  m_experts->setEnabled(hasAdapters && method == QLatin1String("uniform"));
  m_topK->setEnabled(hasAdapters && method != QLatin1String("lora") && !isRoutedMethod(method));
  m_guilomoBox->setVisible(hasAdapters && method == QLatin1String("guilomo"));
  m_drBox->setVisible(hasAdapters && isRoutedMethod(method));
  m_drBox->setTitle(method == QLatin1String("drlora")
                        ? tr("DR-LoRA: routed-expert ranks")
                        : tr("Static frequency: routed-expert ranks"));
  const bool grows = method == QLatin1String("drlora");
  m_drInitLabel->setVisible(grows);
  m_drInit->setVisible(grows);
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
  nlohmann::json& alloc = j["allocation"];
  if (!alloc.is_object()) alloc = nlohmann::json::object();
  if (method == QLatin1String("lora")) {
    j["adapters"]["method"] = "lora";
    // Plain LoRA on the dense projections: a routed-expert method would still adapt experts
    // and GuiLoMo needs LoRA-MoE, so both fall back to uniform.
    const QString previous = QString::fromStdString(alloc.value("method", std::string()));
    if (isRoutedMethod(previous) || previous == QLatin1String("guilomo"))
      alloc["method"] = "uniform";
  } else if (isRoutedMethod(method)) {
    // The routed experts get plain LoRAs; adapters.method says what the dense targets get.
    alloc["method"] = method.toStdString();
    nlohmann::json& dr = alloc["drlora"];
    if (!dr.is_object()) dr = nlohmann::json::object();
    if (method == QLatin1String("drlora")) dr["r_init"] = m_drInit->value();
    dr["r_target"] = m_drTarget->value();
    dr["r_max"] = m_drMax->value();
  } else {
    j["adapters"]["method"] = "moe_lora";
    alloc["method"] = method.toStdString();
    if (method == QLatin1String("mola"))
      alloc["preset"] = m_molaPreset->currentText().toStdString();
    if (method == QLatin1String("guilomo")) {
      nlohmann::json& gl = alloc["guilomo"];
      if (!gl.is_object()) gl = nlohmann::json::object();
      gl["stage"] = m_glStage->currentText().toStdString();
      gl["architect_mode"] = m_glArchitect->currentText().toStdString();
      gl["split"] = m_glSplit->currentText().toStdString();
      gl["readout"] = m_glReadout->currentText().toStdString();
      gl["search_steps"] = m_glSearchSteps->value();
    }
  }
  // Only the chosen method's own settings stay (plain LoRA ignores allocation; it keeps it).
  const QString kept = method == QLatin1String("lora")
                           ? QString::fromStdString(alloc.value("method", std::string()))
                           : method;
  if (method != QLatin1String("lora") && kept != QLatin1String("mola")) alloc.erase("preset");
  if (kept != QLatin1String("guilomo")) alloc.erase("guilomo");
  if (!isRoutedMethod(kept)) alloc.erase("drlora");
  if (alloc.empty()) j.erase("allocation");
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
