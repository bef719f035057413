// SPDX-License-Identifier: GPL-3.0-or-later
// Allocation preview: backbone shape from HF config.json + AllocationStrategy.
#include "ui/widgets/allocation_preview.h"

#include <algorithm>

#include <QFile>
#include <QFileInfo>
#include <QLocale>
#include <QStringList>

#include "core/allocation/guilomo_allocation_io.h"
#include "core/common/error.h"
#include "core/estimate/memory_estimate.h"
#include "core/model/model_config.h"

namespace apportion::ui {

namespace {

bool isRoutedProjection(const std::string& module) {
  return module == "gate_proj" || module == "up_proj" || module == "down_proj";
}

bool layerIsMoe(const ModelShape& shape, int layer) {
  return layer < static_cast<int>(shape.backbone_experts.size()) &&
         shape.backbone_experts[static_cast<size_t>(layer)] > 0;
}

/// Trainable parameters of the dense adapters (every target module that is not a routed
/// expert's projection): Σ r·(in+out) + routers N·in, as count_trainable_parameters counts.
int64_t denseParameters(const ModelShape& shape,
                        const ExpertAllocation& allocation,
                        const std::vector<std::string>& modules,
                        bool withRouter) {
  int64_t total = 0;
  for (const std::string& module : modules) {
    const auto [in, out] = shape.projection_dims(module);
    for (int l = 0; l < static_cast<int>(allocation.ranks.size()); ++l) {
      if (isRoutedProjection(module) && layerIsMoe(shape, l)) continue;
      const std::vector<int>& ranks = allocation.module_experts(l, module);
      for (int r : ranks) total += static_cast<int64_t>(r) * (in + out);
      if (withRouter) total += static_cast<int64_t>(ranks.size()) * in;
    }
  }
  return total;
}

QString count(int64_t n) { return QLocale::system().toString(static_cast<qlonglong>(n)); }

/// GuiLoMo: the supernet of the search (or the retrain allocation file when stage is retrain).
AllocationPreview previewGuiLoMo(const ExperimentConfig& cfg,
                                 const ModelShape& shape,
                                 const QDir& workspace) {
  AllocationPreview preview;
  const GuiLoMoConfig& g = cfg.allocation.guilomo;
  const AdapterConfig& adapters = *cfg.adapters;
  const int modules = static_cast<int>(adapters.target_modules.size());
  if (g.stage == "retrain") {
    const QString file = workspace.absoluteFilePath(QString::fromStdString(g.allocation_file));
    if (QFileInfo(file).isDir()) {
      preview.ok = true;
      preview.text = QObject::tr(
                         "GuiLoMo retrain with the allocation in %1 (the reference code's "
                         "expert.json + rank.json; the search decided it)")
                         .arg(file);
      return preview;
    }
    const ExpertAllocation a = expert_allocation_from_guilomo(load_allocation(file.toStdString()),
                                                              shape, adapters.target_modules);
    preview.trainableParameters =
        count_trainable_parameters(shape, a, adapters.target_modules, true);
    int experts = 0;
    for (size_t l = 0; l < a.ranks.size(); ++l) {
      preview.expertsPerLayer.push_back(a.experts(static_cast<int>(l)));
      for (const std::string& m : adapters.target_modules)
        experts += static_cast<int>(a.module_experts(static_cast<int>(l), m).size());
    }
    preview.ok = true;
    preview.text = QObject::tr(
                       "GuiLoMo retrain with the searched allocation (%1): %2 experts over %3 "
                       "modules · top-k %4 · %5 trainable parameters")
                       .arg(QFileInfo(file).fileName())
                       .arg(experts)
                       .arg(shape.num_layers * modules)
                       .arg(adapters.top_k)
                       .arg(count(preview.trainableParameters));
    return preview;
  }
  const ExpertAllocation a =
      AllocationStrategy::create("guilomo")->allocate(shape, budget_from(cfg));
  preview.trainableParameters = count_trainable_parameters(shape, a, adapters.target_modules, true);
  for (size_t l = 0; l < a.ranks.size(); ++l)
    preview.expertsPerLayer.push_back(a.experts(static_cast<int>(l)));
  preview.ok = true;
  const int steps = g.search_steps > 0 ? g.search_steps : cfg.train.steps;
  preview.text =
      QObject::tr(
          "GuiLoMo search supernet: %1 experts of rank %2 on every module (%3 layers × %4 "
          "modules) · %5 trainable parameters during the %6-step search · the search decides the "
          "final allocation%7")
          .arg(g.n_max)
          .arg(g.r_max)
          .arg(shape.num_layers)
          .arg(modules)
          .arg(count(preview.trainableParameters))
          .arg(steps)
          .arg(g.stage == "pipeline" ? QObject::tr(", then a retrain run trains it") : QString());
  return preview;
}

/// DR-LoRA and static_frequency: LoRA on every routed expert's gate/up/down projections under
/// the rank budget L·N·r_target; dense target projections follow the config's plain plan.
AllocationPreview previewRoutedExperts(const ExperimentConfig& cfg, const ModelShape& shape) {
  AllocationPreview preview;
  const AdapterConfig& adapters = *cfg.adapters;
  const DrLoraConfig& d = cfg.allocation.drlora;
  const bool grows = cfg.allocation.method == "drlora";
  const ExpertAllocation a = plan_allocation(cfg, shape);  // ConfigError on a dense backbone
  QStringList routed, dense;
  int64_t perRank = 0;  // parameters of one rank unit over the routed projections of an expert
  const int expertWidth =
      shape.moe_intermediate_size > 0 ? shape.moe_intermediate_size : shape.intermediate_size;
  for (const std::string& m : adapters.target_modules) {
    const QString name = QString::fromStdString(m).remove(QStringLiteral("_proj"));
    if (isRoutedProjection(m)) {
      routed << name;
      perRank += shape.hidden_size + expertWidth;
    } else {
      dense << name;
    }
  }
  int moeLayers = 0, experts = 0;
  for (int l = 0; l < shape.num_layers; ++l) {
    if (!layerIsMoe(shape, l)) continue;
    ++moeLayers;
    experts = shape.backbone_experts[static_cast<size_t>(l)];
    preview.rankBudget += static_cast<int64_t>(experts) * d.r_target;
  }
  const int64_t allocatedUnits = preview.rankBudget / std::max(1, d.r_target) * d.r_max;
  const int64_t budgetParams = preview.rankBudget * perRank;
  const int64_t denseParams =
      denseParameters(shape, a, adapters.target_modules, adapters.method != "lora");
  preview.trainableParameters = budgetParams + denseParams;
  preview.allocatedParameters = allocatedUnits * perRank + denseParams;
  preview.expertsPerLayer = shape.backbone_experts;
  if (routed.isEmpty()) {
    preview.invalid = true;
    preview.text = QObject::tr(
                       "adapters.target_modules: %1 adapts the routed experts' "
                       "gate_proj/up_proj/down_proj and "
                       "none is listed; add them")
                       .arg(QString::fromStdString(cfg.allocation.method));
    return preview;
  }
  preview.ok = true;
  const QString budget =
      QObject::tr("rank budget L·N·r_target = %1 MoE layers × %2 experts × %3 = %4 rank units")
          .arg(moeLayers)
          .arg(experts)
          .arg(d.r_target)
          .arg(count(preview.rankBudget));
  const QString head =
      grows ? QObject::tr(
                  "DR-LoRA on the routed experts (%1): %2; ranks start at %3 and grow by "
                  "%4 up to %5 per expert")
                  .arg(routed.join(QLatin1Char('/')), budget)
                  .arg(d.r_init)
                  .arg(d.delta_r)
                  .arg(d.r_max)
            : QObject::tr(
                  "Static-frequency baseline on the routed experts (%1): %2, fixed once "
                  "from a calibration pass of %3 batches (at most %4 per expert)")
                  .arg(routed.join(QLatin1Char('/')), budget)
                  .arg(d.calibration_batches)
                  .arg(d.r_max);
  QString text = head + QObject::tr(
                            " · %1 trainable parameters at the budget (%2 allocated at "
                            "rank %3)")
                            .arg(count(budgetParams))
                            .arg(count(allocatedUnits * perRank))
                            .arg(d.r_max);
  if (!dense.isEmpty()) {
    text += QObject::tr(" · plus %1 in the dense adapters on %2")
                .arg(count(denseParams))
                .arg(dense.join(QLatin1Char('/')));
  }
  preview.text = text;
  return preview;
}

}  // namespace

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
    return ModelConfig::from_json(nlohmann::json::parse(file.readAll().toStdString()),
                                  file.fileName().toStdString());
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
  const AdapterConfig& adapters = *cfg.adapters;
  const QLocale locale = QLocale::system();
  const std::string& method = cfg.allocation.method;
  try {
    if (method == "guilomo" && adapters.method != "lora")
      return previewGuiLoMo(cfg, *shape, workspace);
    if (method == "drlora" || method == "static_frequency")
      return previewRoutedExperts(cfg, *shape);
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
