// SPDX-License-Identifier: GPL-3.0-or-later
// Display helpers for runs (params, key-params summary, status text and colour).
#include "ui/models/run_format.h"

#include "core/common/clock.h"
#include "core/store/process_identity.h"

#include <algorithm>

#include "core/methods/method_registry.h"
#include "core/store/store_keys.h"

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
  const auto kind = run.tags.find(kKindTag);
  if (run.allocation_method == kPretrainRunLabel ||
      (kind != run.tags.end() && kind->second == kPretrainRunLabel))
    return QString::fromUtf8(kPretrainRunLabel);
  // The run's method writes its own summary (core/methods); runs of versions that recorded
  // another label fall back to the config's allocation.method.
  const Method* m = method_for_run_label(run.allocation_method);
  if (!m) m = find_method(paramText(run, "allocation.method").toStdString());
  if (!m) return {};
  return QString::fromStdString(m->key_params(run.allocation_method, run.params));
}

QString statusText(RunStatus status) { return QString::fromLatin1(to_string(status)); }

LivenessVerdict runLiveness(const Run& run) {
  static const std::string host = this_host_name();
  return run_liveness(run, now_ms(), host);
}

QString runStatusText(const Run& run) {
  return QString::fromStdString(display_status(run, runLiveness(run)));
}

QColor runStatusColor(const Run& run) {
  return runLiveness(run).state == Liveness::Dead ? QColor(0x8e, 0x24, 0x3c)
                                                  : statusColor(run.status);
}

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
  // The trainer's resolved count (train.epochs becomes steps only when the data is read).
  if (const auto it = run.tags.find(kTotalStepsTag); it != run.tags.end()) {
    try {
      return std::stoll(it->second);
    } catch (const std::exception&) {
      // not a number: fall back to the config's train.steps
    }
  }
  const auto steps = paramNumber(run, "train.steps");
  return steps ? static_cast<int64_t>(*steps) : 0;
}

}  // namespace apportion::ui
