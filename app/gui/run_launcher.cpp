// SPDX-License-Identifier: GPL-3.0-or-later
// RunLauncher: QProcess per run, progress-line parsing, stop, crash recording.
#include "app/gui/run_launcher.h"

#include <algorithm>
#include <csignal>
#include <cstring>
#include <optional>

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QThread>
#include <QTimer>

#include "core/common/error.h"
#include "core/events/progress_line.h"
#include "core/store/run_store.h"

namespace apportion {

namespace {

constexpr int kMaxStderrChars = 400000;
constexpr int kStderrTailLines = 20;

QString lastLines(const QString& text, int n) {
  QStringList lines = text.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
  if (lines.size() > n) lines = lines.mid(lines.size() - n);
  return lines.join(QLatin1Char('\n'));
}

QString signalName(int sig) {
  const char* name = ::strsignal(sig);
  return QStringLiteral("signal %1 (%2)").arg(sig).arg(QString::fromUtf8(name ? name : "?"));
}

}  // namespace

struct RunLauncher::Child {
  QString key;
  QString runId;               ///< the current run (a pipeline's runs follow one another)
  QStringList finishedRunIds;  ///< earlier runs of a pipeline child, already reported
  QString configPath;
  QProcess* process = nullptr;
  QByteArray stdoutBuffer;
  QString stderrText;
  std::optional<ProgressLine> status;
  bool active = false;
};

RunLauncher::RunLauncher(QString apportionExe, QString dbPath, QObject* parent)
    : QObject(parent),
      m_exe(std::move(apportionExe)),
      m_db(std::move(dbPath)),
      m_threads(std::max(1, QThread::idealThreadCount() - 1)) {}

RunLauncher::~RunLauncher() {
  for (auto& [key, child] : m_children) {
    if (!child->process) continue;
    child->process->disconnect(this);
    if (child->process->state() != QProcess::NotRunning) {
      child->process->kill();
      child->process->waitForFinished(2000);
    }
  }
}

QString RunLauncher::launch(const QString& configPath, const QStringList& extraArgs) {
  auto child = std::make_unique<Child>();
  child->key = QStringLiteral("launch-%1").arg(m_nextKey++);
  child->configPath = configPath;
  child->process = new QProcess(this);
  child->process->setProgram(m_exe);
  QStringList args{QStringLiteral("train"),      configPath,
                   QStringLiteral("--db"),       m_db,
                   QStringLiteral("--progress"), QStringLiteral("json"),
                   QStringLiteral("--threads"),  QString::number(m_threads)};
  args << m_extraArgs << extraArgs;
  child->process->setArguments(args);
  child->process->setProcessChannelMode(QProcess::SeparateChannels);
  Child* raw = child.get();
  connect(raw->process, &QProcess::readyReadStandardOutput, this, [this, raw] { onStdout(raw); });
  connect(raw->process, &QProcess::readyReadStandardError, this, [this, raw] { onStderr(raw); });
  connect(raw->process, &QProcess::finished, this,
          [this, raw](int code, QProcess::ExitStatus st) { onFinished(raw, code, st); });
  connect(raw->process, &QProcess::errorOccurred, this,
          [this, raw](QProcess::ProcessError e) { onErrorOccurred(raw, e); });
  const QString key = child->key;
  m_children[key] = std::move(child);
  raw->active = true;
  appendLog(raw, QStringLiteral("$ %1 %2\n").arg(m_exe, args.join(QLatin1Char(' '))));
  raw->process->start();
  return key;
}

RunLauncher::Child* RunLauncher::find(const QString& runIdOrKey) const {
  const auto it = m_children.find(runIdOrKey);
  if (it != m_children.end()) return it->second.get();
  if (runIdOrKey.isEmpty()) return nullptr;
  for (const auto& [key, child] : m_children)
    if (child->runId == runIdOrKey) return child.get();
  for (const auto& [key, child] : m_children)
    if (child->finishedRunIds.contains(runIdOrKey)) return child.get();
  return nullptr;
}

RunLauncher::Child* RunLauncher::findCurrent(const QString& runIdOrKey) const {
  Child* child = find(runIdOrKey);
  // An earlier run of a pipeline child has ended even though its process goes on.
  if (child && child->finishedRunIds.contains(runIdOrKey)) return nullptr;
  return child;
}

QString RunLauncher::nameOf(const Child* child) const {
  return child->runId.isEmpty() ? child->key : child->runId;
}

bool RunLauncher::stop(const QString& runIdOrKey) {
  Child* child = findCurrent(runIdOrKey);
  if (!child || !child->active || !child->process) return false;
  appendLog(child, QStringLiteral("[launcher] stop requested (SIGTERM)\n"));
  child->process->terminate();
  return true;
}

void RunLauncher::stopAll() {
  for (auto& [key, child] : m_children)
    if (child->active) stop(key);
}

void RunLauncher::killAll() {
  for (auto& [key, child] : m_children)
    if (child->active && child->process) child->process->kill();
}

bool RunLauncher::waitForAll(int msecs) {
  QElapsedTimer timer;
  timer.start();
  while (hasActiveRuns() && timer.elapsed() < msecs) {
    QEventLoop loop;
    QTimer::singleShot(50, &loop, &QEventLoop::quit);
    loop.exec();
  }
  return !hasActiveRuns();
}

bool RunLauncher::isActive(const QString& runId) const {
  const Child* child = findCurrent(runId);
  return child && child->active;
}

bool RunLauncher::hasActiveRuns() const {
  for (const auto& [key, child] : m_children)
    if (child->active) return true;
  return false;
}

QStringList RunLauncher::activeRunIds() const {
  QStringList ids;
  for (const auto& [key, child] : m_children)
    if (child->active) ids << nameOf(child.get());
  return ids;
}

QString RunLauncher::stderrText(const QString& runId) const {
  const Child* child = find(runId);
  return child ? child->stderrText : QString();
}

bool RunLauncher::isLaunchedHere(const QString& runId) const { return find(runId) != nullptr; }

void RunLauncher::appendLog(Child* child, const QString& text) {
  child->stderrText += text;
  if (child->stderrText.size() > kMaxStderrChars)
    child->stderrText.remove(0, child->stderrText.size() - kMaxStderrChars);
  Q_EMIT logAppended(nameOf(child), text);
}

void RunLauncher::onStdout(Child* child) {
  child->stdoutBuffer += child->process->readAllStandardOutput();
  int newline;
  while ((newline = child->stdoutBuffer.indexOf('\n')) >= 0) {
    const QByteArray line = child->stdoutBuffer.left(newline);
    child->stdoutBuffer.remove(0, newline + 1);
    handleLine(child, line);
  }
}

void RunLauncher::onStderr(Child* child) {
  appendLog(child, QString::fromUtf8(child->process->readAllStandardError()));
}

void RunLauncher::handleLine(Child* child, const QByteArray& raw) {
  const QByteArray line = raw.trimmed();
  if (line.isEmpty()) return;
  std::optional<ProgressLine> parsed;
  try {
    parsed = parse_progress_line(line.toStdString());
  } catch (const std::exception&) {
    parsed.reset();  // the parser should not throw; a bad line must never end the GUI
  }
  if (!parsed) {
    appendLog(child, QStringLiteral("[launcher] warning: malformed progress line ignored: %1\n")
                         .arg(QString::fromUtf8(line.left(300))));
    return;
  }
  const QString lineRun = QString::fromStdString(parsed->run_id);
  if (child->runId.isEmpty() && !lineRun.isEmpty()) {
    child->runId = lineRun;
    Q_EMIT runStarted(child->runId);
  } else if (!lineRun.isEmpty() && lineRun != child->runId) {
    if (!child->status || child->finishedRunIds.contains(lineRun)) {
      appendLog(
          child,
          QStringLiteral("[launcher] warning: line for another run %1 ignored\n").arg(lineRun));
      return;
    }
    switchToNextRun(child, lineRun);  // a pipeline: the current run ended, the next one began
  }
  if (parsed->event == "committed") {
    Q_EMIT runUpdated(child->runId, parsed->step);
  } else if (parsed->event == "progress") {
    Q_EMIT runProgress(child->runId, parsed->step, parsed->total);
  } else if (parsed->event == "status") {
    child->status = *parsed;
  }
  // "started" is handled above; unknown events are ignored (the protocol may grow).
}

void RunLauncher::switchToNextRun(Child* child, const QString& nextRunId) {
  const QString previous = child->runId;
  const QString status = QString::fromStdString(child->status->status);
  const QString message = QString::fromStdString(child->status->message);
  appendLog(child, QStringLiteral("[launcher] run %1 ended: %2; the process goes on with run %3\n")
                       .arg(previous, status, nextRunId));
  child->finishedRunIds << previous;
  child->status.reset();
  child->runId = nextRunId;
  Q_EMIT runFinished(previous, status, message);
  Q_EMIT runStarted(nextRunId);
}

void RunLauncher::onErrorOccurred(Child* child, QProcess::ProcessError error) {
  if (error != QProcess::FailedToStart) return;  // crashes arrive through finished()
  child->active = false;
  const QString message = tr("Cannot start %1: %2").arg(m_exe, child->process->errorString());
  appendLog(child, QStringLiteral("[launcher] %1\n").arg(message));
  Q_EMIT launchFailed(child->key, message);
}

void RunLauncher::onFinished(Child* child, int exitCode, QProcess::ExitStatus exitStatus) {
  if (!child->active) return;
  onStdout(child);
  onStderr(child);
  if (!child->stdoutBuffer.isEmpty()) {  // a last line without newline
    const QByteArray rest = child->stdoutBuffer;
    child->stdoutBuffer.clear();
    handleLine(child, rest);
  }
  child->active = false;
  const bool bySignal = exitStatus == QProcess::CrashExit;
  if (child->status && !child->runId.isEmpty()) {
    const QString status = QString::fromStdString(child->status->status);
    const QString message = QString::fromStdString(child->status->message);
    appendLog(
        child,
        QStringLiteral("[launcher] run ended: %1 (exit code %2)\n").arg(status).arg(exitCode));
    Q_EMIT runFinished(child->runId, status, message);
    return;
  }
  const QString tail = lastLines(child->stderrText, kStderrTailLines);
  if (child->runId.isEmpty()) {
    QString message =
        bySignal ? tr("apportion train was killed by %1 before the run started")
                       .arg(signalName(exitCode))
                 : tr("apportion train exited with code %1 before the run started").arg(exitCode);
    if (!tail.isEmpty()) message += QStringLiteral(":\n") + tail;
    appendLog(child, QStringLiteral("[launcher] %1\n").arg(message));
    Q_EMIT launchFailed(child->key, message);
    return;
  }
  const QString message =
      bySignal ? tr("run process killed by %1 (no status line)").arg(signalName(exitCode))
               : tr("run process exited with code %1 without a status line").arg(exitCode);
  recordCrash(child, message, exitCode, bySignal);
  Q_EMIT runFinished(child->runId, QStringLiteral("FAILED"), message);
}

void RunLauncher::recordCrash(Child* child, const QString& message, int exitCode, bool bySignal) {
  appendLog(child, QStringLiteral("[launcher] %1; marking the run FAILED\n").arg(message));
  try {
    RunStore store(m_db.toStdString());
    const std::string run = child->runId.toStdString();
    store.set_tag(run, "error", message.toStdString());
    if (bySignal) {
      store.set_tag(run, "exit_signal", std::to_string(exitCode));
    } else {
      store.set_tag(run, "exit_code", std::to_string(exitCode));
    }
    store.set_tag(run, "stderr_tail", lastLines(child->stderrText, kStderrTailLines).toStdString());
    store.finish_run(run, RunStatus::Failed, message.toStdString());
    store.flush();
  } catch (const std::exception& e) {
    appendLog(child, QStringLiteral("[launcher] could not record the failure in %1: %2\n")
                         .arg(m_db, QString::fromUtf8(e.what())));
  }
}

}  // namespace apportion
