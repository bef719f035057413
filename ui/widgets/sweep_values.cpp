// SPDX-License-Identifier: GPL-3.0-or-later
// Grid values and seed lists of the Sweep dialog (see sweep_values.h).
#include "ui/widgets/sweep_values.h"

#include <algorithm>
#include <set>

#include <QObject>
#include <QStringList>

namespace apportion::ui {

namespace {

constexpr size_t kMaxSeeds = 10000;

/// Items of `text` split at top-level commas (outside "…" and [] {}), trimmed, empty ones dropped.
QStringList splitTopLevel(const QString& text) {
  QStringList items;
  QString current;
  int depth = 0;
  bool quoted = false;
  bool escaped = false;
  for (const QChar c : text) {
    if (quoted) {
      quoted = escaped || c != QLatin1Char('"');
      escaped = !escaped && c == QLatin1Char('\\');
    } else if (c == QLatin1Char('"')) {
      quoted = true;
    } else if (c == QLatin1Char('[') || c == QLatin1Char('{')) {
      ++depth;
    } else if ((c == QLatin1Char(']') || c == QLatin1Char('}')) && depth > 0) {
      --depth;
    } else if (c == QLatin1Char(',') && depth == 0) {
      if (!current.trimmed().isEmpty()) items << current.trimmed();
      current.clear();
      continue;
    }
    current += c;
  }
  if (!current.trimmed().isEmpty()) items << current.trimmed();
  return items;
}

/// The JSON value of `item`, or a discarded value when it is not JSON.
nlohmann::json parseJson(const QString& item) {
  return nlohmann::json::parse(item.toStdString(), nullptr, /*allow_exceptions=*/false);
}

}  // namespace

nlohmann::json parseGridValues(const QString& text, bool strings) {
  nlohmann::json values = nlohmann::json::array();
  for (const QString& item : splitTopLevel(text)) {
    const nlohmann::json j = parseJson(item);
    if (j.is_discarded() || (strings && !j.is_string()))
      values.push_back(item.toStdString());
    else
      values.push_back(j);
  }
  return values;
}

QString formatGridValues(const nlohmann::json& values, bool strings) {
  QStringList items;
  if (!values.is_array()) return {};
  for (const nlohmann::json& v : values) {
    if (!v.is_string()) {
      items << QString::fromStdString(v.dump());
      continue;
    }
    const QString s = QString::fromStdString(v.get<std::string>());
    // Bare when it reads back as this very string; quoted JSON otherwise.
    const nlohmann::json back = parseGridValues(s, strings);
    const bool bare = back.size() == 1 && back[0] == v;
    items << (bare ? s : QString::fromStdString(v.dump()));
  }
  return items.join(QStringLiteral(", "));
}

std::optional<std::vector<uint64_t>> parseSeeds(const QString& text, QString* error) {
  std::vector<uint64_t> seeds;
  std::set<uint64_t> seen;
  const auto fail = [error](const QString& why) -> std::optional<std::vector<uint64_t>> {
    if (error) *error = why;
    return std::nullopt;
  };
  for (const QString& raw : text.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
    const QString part = raw.trimmed();
    if (part.isEmpty()) continue;
    const QStringList ends = part.split(QLatin1Char('-'));
    bool okA = false;
    bool okB = true;
    const qulonglong a = ends.value(0).trimmed().toULongLong(&okA);
    const qulonglong b = ends.size() == 2 ? ends[1].trimmed().toULongLong(&okB) : a;
    if (ends.size() > 2 || !okA || !okB)
      return fail(QObject::tr("seeds: '%1' is not a seed or a range a-b (e.g. 0-2, 5)").arg(part));
    if (b < a) return fail(QObject::tr("seeds: the range '%1' runs backwards").arg(part));
    if (b - a >= kMaxSeeds) return fail(QObject::tr("seeds: more than 10,000 seeds"));
    for (qulonglong s = a; s <= b; ++s) {
      if (seen.insert(s).second) seeds.push_back(s);
      if (seeds.size() > kMaxSeeds) return fail(QObject::tr("seeds: more than 10,000 seeds"));
    }
  }
  if (error) error->clear();
  return seeds;
}

QString formatSeeds(const std::vector<uint64_t>& seeds) {
  QStringList parts;
  for (size_t i = 0; i < seeds.size();) {
    size_t j = i;
    while (j + 1 < seeds.size() && seeds[j + 1] == seeds[j] + 1) ++j;
    if (j - i >= 2) {
      parts << QStringLiteral("%1-%2").arg(seeds[i]).arg(seeds[j]);
      i = j + 1;
    } else {
      parts << QString::number(seeds[i]);
      ++i;
    }
  }
  return parts.join(QLatin1Char(','));
}

}  // namespace apportion::ui
