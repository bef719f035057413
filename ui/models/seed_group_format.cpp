// SPDX-License-Identifier: GPL-3.0-or-later
// Seed-group display helpers (see seed_group_format.h).
#include "ui/models/seed_group_format.h"

#include <algorithm>
#include <cmath>

#include <QObject>

#include "ui/models/run_colors.h"
#include "ui/models/run_format.h"

namespace apportion::ui {

QColor groupColor(const QString& groupKey) { return runColor(QStringLiteral("group:") + groupKey); }

QString seedsText(std::vector<uint64_t> seeds) {
  std::sort(seeds.begin(), seeds.end());
  seeds.erase(std::unique(seeds.begin(), seeds.end()), seeds.end());
  QStringList parts;
  for (size_t i = 0; i < seeds.size();) {
    size_t j = i;
    while (j + 1 < seeds.size() && seeds[j + 1] == seeds[j] + 1) ++j;
    if (j >= i + 2)
      parts << QStringLiteral("%1–%2").arg(seeds[i]).arg(seeds[j]);
    else
      for (size_t k = i; k <= j; ++k) parts << QString::number(seeds[k]);
    i = j + 1;
  }
  return parts.join(QStringLiteral(", "));
}

std::vector<double> latestValues(const std::vector<const Run*>& runs, const std::string& key) {
  std::vector<double> values;
  for (const Run* run : runs) {
    const auto it = run->latest_metrics.find(key);
    if (it != run->latest_metrics.end()) values.push_back(it->second);
  }
  return values;
}

QString meanRangeText(const SampleSummary& s, bool percent) {
  if (s.n <= 0 || !std::isfinite(s.mean)) return {};
  const double scale = percent ? 100.0 : 1.0;
  const int digits = percent ? 1 : 4;
  QString text = QString::number(s.mean * scale, 'f', digits);
  if (percent) text += QLatin1Char('%');
  if (s.n > 1)
    text += QStringLiteral(" (%1–%2)")
                .arg(QString::number(s.min * scale, 'f', digits),
                     QString::number(s.max * scale, 'f', digits));
  return text;
}

QString statusSummary(const std::vector<const Run*>& runs) {
  QStringList parts;
  for (const RunStatus status : {RunStatus::Running, RunStatus::Finished, RunStatus::Failed,
                                 RunStatus::Killed, RunStatus::Scheduled}) {
    const auto n = std::count_if(runs.begin(), runs.end(),
                                 [status](const Run* r) { return r->status == status; });
    if (n > 0) parts << QStringLiteral("%1 %2").arg(n).arg(statusText(status));
  }
  return parts.join(QStringLiteral(", "));
}

RunStatus summaryStatus(const std::vector<const Run*>& runs) {
  auto any = [&runs](RunStatus s) {
    return std::any_of(runs.begin(), runs.end(), [s](const Run* r) { return r->status == s; });
  };
  for (const RunStatus s : {RunStatus::Running, RunStatus::Failed, RunStatus::Killed})
    if (any(s)) return s;
  return RunStatus::Finished;
}

QString percentText(double fraction) {
  return QStringLiteral("%1 %").arg(QString::number(fraction * 100.0, 'f', 1));
}

QString signedPoints(double fractionDiff) {
  const double points = fractionDiff * 100.0;
  const QString magnitude = QString::number(std::abs(points), 'f', 1);
  if (magnitude == QStringLiteral("0.0")) return QStringLiteral("±0.0");
  return (points < 0 ? QStringLiteral("−") : QStringLiteral("+")) + magnitude;
}

QString differenceSentence(const MeanDifference& d) {
  if (d.n_a == 0 || d.n_b == 0 || !std::isfinite(d.diff))
    return QObject::tr("no values to compare (n = %1 vs %2)").arg(d.n_a).arg(d.n_b);
  QString text = QObject::tr("A − B = %1 points").arg(signedPoints(d.diff));
  if (!std::isfinite(d.ci95_low) || !std::isfinite(d.ci95_high))
    return text + QObject::tr(
                      ", n = %1 vs %2: too few runs for an interval (need 2 or more "
                      "seeds on each side)")
                      .arg(d.n_a)
                      .arg(d.n_b);
  text += QObject::tr(", 95 % CI [%1, %2], n = %3 vs %4: ")
              .arg(signedPoints(d.ci95_low), signedPoints(d.ci95_high))
              .arg(d.n_a)
              .arg(d.n_b);
  if (d.ci95_low > 0) return text + QObject::tr("A is better");
  if (d.ci95_high < 0) return text + QObject::tr("B is better");
  return text + QObject::tr("the interval contains 0: no difference shown");
}

}  // namespace apportion::ui
