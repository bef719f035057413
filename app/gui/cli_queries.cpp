// SPDX-License-Identifier: GPL-3.0-or-later
// make_cli_queries: QProcess calls to the CLI, parsed with nlohmann_json.
#include "app/gui/cli_queries.h"

#include <QFileInfo>
#include <QProcess>

#include <nlohmann/json.hpp>

namespace apportion {
namespace {

struct ProcessOutput {
  bool ok = false;
  QByteArray out;
  QString err;
};

ProcessOutput run_cli(const QString& exe, const QStringList& args, int timeoutMs) {
  QProcess p;
  p.start(exe, args);
  ProcessOutput r;
  if (!p.waitForFinished(timeoutMs)) {
    p.kill();
    p.waitForFinished(1000);
    r.err = QObject::tr("`apportion %1` did not answer in time").arg(args.join(QLatin1Char(' ')));
    return r;
  }
  r.out = p.readAllStandardOutput();
  r.err = QString::fromUtf8(p.readAllStandardError()).trimmed();
  r.ok = p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
  return r;
}

QString human_count(int64_t n) {
  if (n >= 1000000000)
    return QString::number(static_cast<double>(n) / 1e9, 'f', 2) + QStringLiteral("B");
  if (n >= 1000000)
    return QString::number(static_cast<double>(n) / 1e6, 'f', 1) + QStringLiteral("M");
  if (n >= 1000) return QString::number(static_cast<double>(n) / 1e3, 'f', 1) + QStringLiteral("k");
  return QString::number(n);
}

/// One paragraph from `inspect --json`; tolerant of missing fields (older or newer CLIs).
QString summarize(const nlohmann::json& j) {
  auto str = [&](const char* k) {
    return j.contains(k) && j[k].is_string() ? QString::fromStdString(j[k].get<std::string>())
                                             : QString();
  };
  auto num = [&](const char* k) -> int64_t {
    return j.contains(k) && j[k].is_number() ? j[k].get<int64_t>() : -1;
  };
  QStringList parts;
  if (!str("architecture").isEmpty()) parts << str("architecture");
  if (num("num_layers") >= 0) parts << QObject::tr("%1 layers").arg(num("num_layers"));
  if (num("hidden_size") >= 0) parts << QObject::tr("hidden %1").arg(num("hidden_size"));
  if (num("num_experts") > 0) {
    parts << QObject::tr("%1 experts, top-%2").arg(num("num_experts")).arg(num("top_k"));
  }
  if (num("total_parameters") >= 0) {
    parts << QObject::tr("%1 parameters").arg(human_count(num("total_parameters")));
  }
  if (j.contains("dtypes") && j["dtypes"].is_array()) {
    QStringList d;
    for (const auto& t : j["dtypes"])
      if (t.is_string()) d << QString::fromStdString(t.get<std::string>());
    parts << d.join(QLatin1Char('/'));
  }
  if (!str("tokenizer").isEmpty()) parts << QObject::tr("tokenizer: %1").arg(str("tokenizer"));
  return parts.join(QStringLiteral(" · "));
}

}  // namespace

ui::BackendQueries make_cli_queries(const QString& apportionExe) {
  ui::BackendQueries q;
  if (apportionExe.isEmpty() || !QFileInfo(apportionExe).isExecutable()) return q;
  q.devices = [apportionExe]() {
    QStringList ids;
    const ProcessOutput r = run_cli(apportionExe, {QStringLiteral("devices")}, 20000);
    if (!r.ok) return ids;
    try {
      const auto j = nlohmann::json::parse(r.out.toStdString());
      for (const auto& d : j.at("devices"))
        ids << QString::fromStdString(d.at("id").get<std::string>());
    } catch (const nlohmann::json::exception&) {
    }
    return ids;
  };
  q.inspect = [apportionExe](const QString& dir) {
    ui::InspectResult res;
    const ProcessOutput r =
        run_cli(apportionExe, {QStringLiteral("inspect"), dir, QStringLiteral("--json")}, 30000);
    if (!r.ok) {
      res.error = r.err.isEmpty() ? QObject::tr("inspect failed for %1").arg(dir) : r.err;
      return res;
    }
    try {
      res.summary = summarize(nlohmann::json::parse(r.out.toStdString()));
      res.ok = true;
    } catch (const nlohmann::json::exception& e) {
      res.error = QObject::tr("unreadable inspect output: %1").arg(QString::fromUtf8(e.what()));
    }
    return res;
  };
  return q;
}

}  // namespace apportion
