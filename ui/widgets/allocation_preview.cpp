// SPDX-License-Identifier: GPL-3.0-or-later
// Allocation preview: backbone shape from HF config.json + the method's PlanSummary
// (core/methods) + the peak-memory estimate.
#include "ui/widgets/allocation_preview.h"

#include <QFile>

#include "core/backbone/model_config.h"
#include "core/common/error.h"
#include "core/common/json_parse.h"
#include "core/estimate/memory_estimate.h"
#include "core/methods/method_registry.h"

namespace apportion::ui {

/// The allocation part of previewAllocation (no memory estimate).
static AllocationPreview previewAllocationOnly(const ExperimentConfig& cfg, const QDir& workspace);

ModelShape shapeFromHfConfig(const nlohmann::json& j, const std::string& where) {
  // The trainer's own parser (torch-free, in ap_core): the same layout rules, the same errors.
  return ModelConfig::from_json(j, where).shape();
}

std::optional<ModelConfig> backboneConfig(const ExperimentConfig& cfg,
                                          const QDir& workspace,
                                          QString* why) {
  try {
    if (cfg.backbone.config.is_object()) {
      return ModelConfig::from_json(cfg.backbone.config, "backbone.config");
    }
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
    return ModelConfig::from_json(
        parse_json_bounded(file.readAll().toStdString(), JsonLimits::config()),
        file.fileName().toStdString());
  } catch (const JsonInputError& e) {
    if (why) {
      *why = QObject::tr("backbone config.json, %1: %2")
                 .arg(QString::fromStdString(e.where()), QString::fromStdString(e.reason()));
    }
    return std::nullopt;
  } catch (const nlohmann::json::exception& e) {
    if (why) *why = QObject::tr("backbone config.json: %1").arg(QString::fromUtf8(e.what()));
    return std::nullopt;
  } catch (const apportion::Error& e) {
    if (why) *why = QString::fromUtf8(e.what());
    return std::nullopt;
  }
}

std::optional<ModelShape> backboneShape(const ExperimentConfig& cfg,
                                        const QDir& workspace,
                                        QString* why) {
  const std::optional<ModelConfig> model = backboneConfig(cfg, workspace, why);
  if (!model) return std::nullopt;
  return model->shape();
}

AllocationPreview previewAllocation(const ExperimentConfig& cfg, const QDir& workspace) {
  AllocationPreview preview = previewAllocationOnly(cfg, workspace);
  if (!preview.ok || preview.invalid) return preview;
  const std::optional<ModelConfig> model = backboneConfig(cfg, workspace);
  if (!model) return preview;
  try {
    int64_t trainable = preview.allocatedParameters >= 0 ? preview.allocatedParameters
                                                         : preview.trainableParameters;
    if (cfg.is_pretraining()) trainable = backbone_parameter_count(*model);
    const MemoryEstimate m = estimate_training_memory(*model, cfg, trainable);
    preview.peakMemoryBytes = m.total_bytes;
    preview.memoryText = QObject::tr("Peak memory ≈ %1 (%2 × %3 tokens, %4): %5")
                             .arg(QString::fromStdString(format_bytes(m.total_bytes)))
                             .arg(cfg.train.micro_batch_size)
                             .arg(cfg.data.max_seq_len)
                             .arg(QString::fromStdString(cfg.train.device))
                             .arg(QString::fromStdString(describe(m)));
  } catch (const apportion::Error& e) {
    preview.memoryText =
        QObject::tr("Peak memory: no estimate (%1)").arg(QString::fromUtf8(e.what()));
  }
  return preview;
}

static AllocationPreview previewAllocationOnly(const ExperimentConfig& cfg, const QDir& workspace) {
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
  // The method's own plan and parameter count (core/methods): the same numbers the CLI's
  // `train --dry-run` prints.
  PlanSummary s;
  try {
    s = method_of(cfg).summarize(cfg, *shape, workspace.absolutePath().toStdString());
  } catch (const Error& e) {  // an unknown allocation.method
    preview.invalid = true;
    preview.text = QString::fromUtf8(e.what());
    return preview;
  }
  preview.ok = s.ok;
  preview.invalid = s.invalid;
  preview.text = QString::fromStdString(s.text);
  preview.expertsPerLayer = s.experts_per_layer;
  preview.trainableParameters = s.trainable_parameters;
  preview.allocatedParameters = s.allocated_parameters;
  preview.rankBudget = s.rank_budget;
  return preview;
}

}  // namespace apportion::ui
