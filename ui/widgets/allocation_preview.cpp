// SPDX-License-Identifier: GPL-3.0-or-later
// Allocation preview: backbone shape from HF config.json + AllocationStrategy.
#include "ui/widgets/allocation_preview.h"

#include <QFile>
#include <QLocale>
#include <QStringList>

#include "core/common/error.h"

namespace apportion::ui {

namespace {

ModelShape shapeFromHfConfig(const nlohmann::json& j) {
  // Defaults follow LlamaConfig's; only the fields allocation needs are read.
  ModelShape shape;
  shape.num_layers = j.value("num_hidden_layers", 4);
  shape.hidden_size = j.value("hidden_size", 64);
  shape.intermediate_size = j.value("intermediate_size", 176);
  shape.num_attention_heads = j.value("num_attention_heads", 4);
  shape.num_key_value_heads = j.value("num_key_value_heads", shape.num_attention_heads);
  return shape;
}

}  // namespace

std::optional<ModelShape> backboneShape(const ExperimentConfig& cfg,
                                        const QDir& workspace,
                                        QString* why) {
  try {
    if (cfg.backbone.config.is_object()) return shapeFromHfConfig(cfg.backbone.config);
    if (cfg.backbone.path.empty()) {
      if (why) *why = QObject::tr("no backbone given");
      return std::nullopt;
    }
    const QString folder = workspace.absoluteFilePath(QString::fromStdString(cfg.backbone.path));
    QFile file(QDir(folder).filePath(QStringLiteral("config.json")));
    if (!file.open(QIODevice::ReadOnly)) {
      if (why) *why = QObject::tr("backbone %1 not found in the workspace").arg(folder);
      return std::nullopt;
    }
    return shapeFromHfConfig(nlohmann::json::parse(file.readAll().toStdString()));
  } catch (const nlohmann::json::exception& e) {
    if (why) *why = QObject::tr("backbone config.json: %1").arg(QString::fromUtf8(e.what()));
    return std::nullopt;
  }
}

AllocationPreview previewAllocation(const ExperimentConfig& cfg, const QDir& workspace) {
  AllocationPreview preview;
  QString why;
  const std::optional<ModelShape> shape = backboneShape(cfg, workspace, &why);
  if (!shape) {
    preview.text = QObject::tr("Allocation preview unavailable: %1").arg(why);
    return preview;
  }
  if (cfg.is_pretraining()) {
    preview.ok = true;
    preview.text =
        QObject::tr("Pretraining a %1-layer backbone (no adapters)").arg(shape->num_layers);
    return preview;
  }
  const AdapterConfig& adapters = *cfg.adapters;
  const QLocale locale = QLocale::system();
  try {
    ExpertAllocation allocation;
    const bool lora = adapters.method == "lora";
    if (lora) {
      allocation.ranks.assign(static_cast<size_t>(shape->num_layers), {adapters.r});
      allocation.top_k.assign(static_cast<size_t>(shape->num_layers), 1);
    } else {
      allocation =
          AllocationStrategy::create(cfg.allocation.method)->allocate(*shape, budget_from(cfg));
    }
    preview.trainableParameters =
        count_trainable_parameters(*shape, allocation, adapters.target_modules, !lora);
    QStringList counts;
    for (size_t l = 0; l < allocation.ranks.size(); ++l) {
      preview.expertsPerLayer.push_back(allocation.experts(static_cast<int>(l)));
      counts << QString::number(allocation.experts(static_cast<int>(l)));
    }
    preview.ok = true;
    if (lora) {
      preview.text = QObject::tr("Plain LoRA r=%1 on %2 layers · %3 trainable parameters")
                         .arg(adapters.r)
                         .arg(shape->num_layers)
                         .arg(locale.toString(static_cast<qlonglong>(preview.trainableParameters)));
    } else {
      preview.text = QObject::tr(
                         "Experts per layer: %1 (%2 per module in total) · top-k %3 · "
                         "%4 trainable parameters")
                         .arg(counts.join(QStringLiteral(" · ")))
                         .arg(allocation.total_experts())
                         .arg(adapters.top_k)
                         .arg(locale.toString(static_cast<qlonglong>(preview.trainableParameters)));
    }
  } catch (const Error& e) {
    preview.invalid = true;
    preview.text = QString::fromUtf8(e.what());
  }
  return preview;
}

}  // namespace apportion::ui
