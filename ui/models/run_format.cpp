// SPDX-License-Identifier: GPL-3.0-or-later
// Display helpers for runs (params, key-params summary, status text and colour).
#include "ui/models/run_format.h"

#include "core/config/experiment_config.h"

#include <algorithm>

namespace apportion::ui {

QString paramText(const Run& run, const std::string& key) {
  const auto it = run.params.find(key);
  if (it == run.params.end()) return {};
  QString text = QString::fromStdString(it->second);
  if (text.size() >= 2 && text.startsWith(QLatin1Char('"')) && text.endsWith(QLatin1Char('"')))
    text = text.mid(1, text.size() - 2);
  return text;
}

std::optional<double> paramNumber(const Run& run, const std::string& key) {
  const QString text = paramText(run, key);
  bool ok = false;
  const double v = text.toDouble(&ok);
  if (!ok) return std::nullopt;
  return v;
}

QString keyParamsText(const Run& run) {
  const auto kind = run.tags.find("kind");
  if (run.allocation_method == "pretrain" || (kind != run.tags.end() && kind->second == "pretrain"))
    return QStringLiteral("pretrain");
  const QString r = paramText(run, "adapters.r");
  const QString k = paramText(run, "adapters.top_k");
  const QString adapterMethod = paramText(run, "adapters.method");
  const QString method = QString::fromStdString(run.allocation_method);
  const auto orDefault = [&run](const std::string& key, int fallback) {
    const QString v = paramText(run, key);
    return v.isEmpty() ? QString::number(fallback) : v;
  };
  // Routed-expert methods first: their dense targets may use plain LoRA (adapters.method).
  if (method == QLatin1String("drlora") || method == QLatin1String("static_frequency")) {
    const DrLoraConfig d;
    const QString target = orDefault("allocation.drlora.r_target", d.r_target);
    const QString max = orDefault("allocation.drlora.r_max", d.r_max);
    if (method == QLatin1String("static_frequency"))
      return QStringLiteral("static r̄=%1 ≤%2").arg(target, max);
    return QStringLiteral("DR-LoRA r %1→r̄%2 ≤%3")
        .arg(orDefault("allocation.drlora.r_init", d.r_init), target, max);
  }
  if (method == QLatin1String("guilomo_search") || method == QLatin1String("guilomo")) {
    const GuiLoMoConfig g;
    if (method == QLatin1String("guilomo")) return QStringLiteral("GuiLoMo searched k=%1").arg(k);
    return QStringLiteral("supernet %1×r%2 k=%3")
        .arg(orDefault("allocation.guilomo.n_max", g.n_max),
             orDefault("allocation.guilomo.r_max", g.r_max), k);
  }
  if (run.allocation_method == "lora" || adapterMethod == QLatin1String("lora"))
    return QStringLiteral("LoRA r=%1").arg(r);
  const QString alloc = paramText(run, "allocation.method");
  if (alloc == QLatin1String("mola") || run.allocation_method == "mola") {
    const QString preset = paramText(run, "allocation.preset");
    return QStringLiteral("mola %1 k=%2 r=%3").arg(preset, k, r);
  }
  const QString e = paramText(run, "adapters.num_experts");
  if (e.isEmpty() && r.isEmpty()) return {};
  return QStringLiteral("E=%1 k=%2 r=%3").arg(e, k, r);
}

QString statusText(RunStatus status) { return QString::fromLatin1(to_string(status)); }

QColor statusColor(RunStatus status) {
  switch (status) {
    case RunStatus::Finished:
      return QColor(0x2e, 0x8b, 0x57);
    case RunStatus::Running:
      return QColor(0x1f, 0x6f, 0xd0);
    case RunStatus::Failed:
      return QColor(0xc6, 0x28, 0x28);
    case RunStatus::Killed:
      return QColor(0xd9, 0x7a, 0x00);
    case RunStatus::Scheduled:
      return QColor(0x70, 0x70, 0x70);
  }
  return {};
}

int64_t latestStep(const Run& run) {
  int64_t step = 0;
  for (const auto& [key, s] : run.latest_steps) step = std::max(step, s);
  return step;
}

int64_t plannedSteps(const Run& run) {
  const auto steps = paramNumber(run, "train.steps");
  return steps ? static_cast<int64_t>(*steps) : 0;
}

}  // namespace apportion::ui
