// SPDX-License-Identifier: GPL-3.0-or-later
// RemoteCommands: `apportion` child processes for profiles, sweeps, stop, pull and import.
#include "app/gui/remote_commands.h"

#include <algorithm>

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QPointer>
#include <QProcessEnvironment>
#include <QTimer>

#include "core/remote/launch_record.h"
#include "ui/widgets/sweep_dialog.h"

namespace apportion {

namespace {
/// A failed follower is retried after kRetryMs while launches are open.
constexpr int kRetryMs = 30000;
}  // namespace

QString CliResult::text() const {
  const QString o = out.trimmed();
  const QString e = err.trimmed();
  return o.isEmpty() ? e : e.isEmpty() ? o : o + QLatin1Char('\n') + e;
}

RemoteCommands::RemoteCommands(QString apportionExe, QString dbPath, QObject* parent)
    : QObject(parent), m_exe(std::move(apportionExe)), m_db(std::move(dbPath)) {}

RemoteCommands::~RemoteCommands() {
  // No callbacks from here on (their owners are going away). A submission half done would
  // leave a launch without its record, so submissions get up to 10 s; the follower is stopped.
  QElapsedTimer clock;
  clock.start();
  for (QProcess* p : findChildren<QProcess*>()) {
    p->disconnect(this);
    if (p->state() == QProcess::NotRunning) continue;
    if (p == m_pull) p->terminate();
    if (!p->waitForFinished(static_cast<int>(std::max<qint64>(1000, 10000 - clock.elapsed())))) {
      p->kill();
      p->waitForFinished(1000);
    }
  }
}

QProcess* RemoteCommands::makeProcess(const QStringList& args) {
  auto* p = new QProcess(this);
  QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
  const QString dir = QFileInfo(m_exe).absolutePath();
  const QString path = env.value(QStringLiteral("PATH"));
  env.insert(QStringLiteral("PATH"), path.isEmpty() ? dir : dir + QDir::listSeparator() + path);
  p->setProcessEnvironment(env);
  p->setProgram(m_exe);
  p->setArguments(args);
  return p;
}

void RemoteCommands::run(const QStringList& args, Done done, int timeoutMs) {
  QProcess* p = makeProcess(args);
  auto result = std::make_shared<CliResult>();
  result->command = QStringLiteral("apportion ") + args.join(QLatin1Char(' '));
  ++m_running;
  auto finish = [this, p, result, done](bool started) {
    if (p->property("apportionDone").toBool()) return;
    p->setProperty("apportionDone", true);
    result->out += QString::fromUtf8(p->readAllStandardOutput());
    result->err += QString::fromUtf8(p->readAllStandardError());
    if (started && p->exitStatus() == QProcess::NormalExit) result->exitCode = p->exitCode();
    result->ok = result->exitCode == 0;
    --m_running;
    p->deleteLater();
    if (done) done(*result);
  };
  connect(p, &QProcess::finished, this, [finish] { finish(true); });
  connect(p, &QProcess::errorOccurred, this, [p, result, finish](QProcess::ProcessError e) {
    if (e != QProcess::FailedToStart) return;
    result->err = tr("cannot run %1: %2").arg(p->program(), p->errorString());
    finish(false);
  });
  QPointer<QProcess> guard(p);
  QTimer::singleShot(timeoutMs, this, [guard, result, timeoutMs] {
    if (!guard || guard->state() == QProcess::NotRunning) return;
    result->err += tr("\n(stopped: no answer within %1 s)").arg(timeoutMs / 1000);
    guard->kill();
  });
  p->start();
}

void RemoteCommands::submitTrain(const QString& config, const QString& profile, Done done) {
  run({QStringLiteral("train"), config, QStringLiteral("--on"), profile, QStringLiteral("--db"),
       m_db},
      [this, done](const CliResult& r) {
        if (r.ok) ensurePulling();
        if (done) done(r);
      });
}

void RemoteCommands::submitSweep(const QString& file,
                                 const QString& profile,
                                 bool dryRun,
                                 Done done) {
  QStringList args{QStringLiteral("sweep"), file, QStringLiteral("--on"), profile,
                   QStringLiteral("--db"),  m_db};
  if (dryRun) args << QStringLiteral("--dry-run");
  run(args, [this, done, dryRun](const CliResult& r) {
    if (r.ok && !dryRun) ensurePulling();
    if (done) done(r);
  });
}

void RemoteCommands::stop(const QString& runOrLaunch, Done done) {
  run({QStringLiteral("stop"), runOrLaunch, QStringLiteral("--db"), m_db}, std::move(done));
}

void RemoteCommands::resubmitSweep(const QString& sweepKey, Done done) {
  run({QStringLiteral("sweep"), QStringLiteral("--resubmit"), sweepKey, QStringLiteral("--db"),
       m_db},
      [this, done](const CliResult& r) {
        if (r.ok) ensurePulling();
        if (done) done(r);
      });
}

void RemoteCommands::pullNow(Done done) {
  run({QStringLiteral("pull"), QStringLiteral("--db"), m_db}, std::move(done), 600000);
}

void RemoteCommands::importStore(const QString& store, Done done) {
  run({QStringLiteral("import"), store, QStringLiteral("--db"), m_db}, std::move(done), 600000);
}

void RemoteCommands::ensurePulling() {
  if (m_pull) {
    m_pullAgain = true;
    return;
  }
  m_pullAgain = false;
  m_pull =
      makeProcess({QStringLiteral("pull"), QStringLiteral("--follow"), QStringLiteral("--interval"),
                   QString::number(m_pullInterval), QStringLiteral("--db"), m_db});
  connect(m_pull, &QProcess::readyReadStandardOutput, this, [this] {
    while (m_pull && m_pull->canReadLine())
      Q_EMIT pullMessage(QString::fromUtf8(m_pull->readLine()).trimmed());
  });
  // stderr: "launch K ended without a run: …", CONFLICT lines, or why the follower failed.
  m_pullErr.clear();
  connect(m_pull, &QProcess::readyReadStandardError, this, [this] {
    if (!m_pull) return;
    const QString text = QString::fromUtf8(m_pull->readAllStandardError());
    m_pullErr = (m_pullErr + text).right(4000);
    if (!text.trimmed().isEmpty()) Q_EMIT pullMessage(text.trimmed());
  });
  connect(m_pull, &QProcess::finished, this, &RemoteCommands::onPullFinished);
  connect(m_pull, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
    if (e == QProcess::FailedToStart) onPullFinished(-1, QProcess::CrashExit);
  });
  m_pull->start();
  Q_EMIT pullingChanged(true);
}

void RemoteCommands::onPullFinished(int exitCode, QProcess::ExitStatus status) {
  if (!m_pull) return;
  QProcess* p = m_pull;
  m_pull = nullptr;
  const QString err = (m_pullErr + QString::fromUtf8(p->readAllStandardError())).trimmed();
  const bool failed = status != QProcess::NormalExit || exitCode != 0;
  if (failed)
    Q_EMIT pullMessage(
        tr("apportion pull --follow stopped: %1")
            .arg(err.isEmpty() ? p->errorString() : err.section(QLatin1Char('\n'), -3)));
  p->disconnect(this);
  p->deleteLater();
  Q_EMIT pullingChanged(false);
  if (m_pullAgain) {
    ensurePulling();
  } else if (failed && openLaunchCount() > 0) {
    QTimer::singleShot(kRetryMs, this, [this] {
      if (!m_pull && openLaunchCount() > 0) ensurePulling();
    });
  }
}

int RemoteCommands::openLaunchCount() const {
  const std::string ws = QFileInfo(m_db).absolutePath().toStdString();
  try {
    int open = 0;
    for (const LaunchRecord& r : list_launch_records(ws)) open += r.ended ? 0 : 1;
    return open;
  } catch (const std::exception&) {
    return 0;  // a damaged record: `apportion pull` names it when the user pulls
  }
}

ui::SweepBackend makeSweepBackend(RemoteCommands* commands) {
  ui::SweepBackend backend;
  QPointer<RemoteCommands> guard(commands);
  backend.run = [guard](const QString& file, const QString& profile, bool dryRun,
                        const ui::SweepBackend::Done& done) {
    if (!guard) return done(false, QObject::tr("The workspace was closed."));
    guard->submitSweep(file, profile, dryRun, [done](const CliResult& r) {
      QString text = r.text();
      if (!r.ok)
        text = QObject::tr("`%1` failed (exit %2):\n%3").arg(r.command).arg(r.exitCode).arg(text);
      done(r.ok, text);
    });
  };
  return backend;
}

}  // namespace apportion
