// SPDX-License-Identifier: GPL-3.0-or-later
// RunLauncher: starts `apportion train CONFIG --db DB --progress json --threads N` as one
// QProcess per run, parses its stdout protocol lines (core/events/progress_line.h), keeps each
// run's stderr for the log panel, stops runs with SIGTERM, and records a crashed run (no status
// line, death by signal) as FAILED with the exit details in tags: the only store write the GUI
// makes (DESIGN §6 rule 6). One child may create several runs in sequence (a GuiLoMo pipeline:
// search, then retrain): a line for a new run id after the current run's status line finishes
// that run and makes the new one current.
#pragma once

#include <map>
#include <memory>

#include <QObject>
#include <QProcess>
#include <QString>
#include <QStringList>

namespace apportion {

class RunLauncher : public QObject {
  Q_OBJECT

 public:
  RunLauncher(QString apportionExe, QString dbPath, QObject* parent = nullptr);
  ~RunLauncher() override;

  /// Threads passed to --threads (default max(1, cores - 1)).
  void setThreads(int threads) { m_threads = threads; }
  /// Extra arguments appended to every launch (tests: --max-steps N).
  void setExtraArguments(const QStringList& args) { m_extraArgs = args; }
  const QString& apportionExe() const { return m_exe; }
  const QString& dbPath() const { return m_db; }

  /// Starts a run; returns a launch key ("launch-N") that names it until its run id is known.
  QString launch(const QString& configPath, const QStringList& extraArgs = {});
  /// SIGTERM to a launched run (by run id or launch key; a pipeline's key or any of its runs'
  /// ids stops the run now current); false when not running or that run has ended.
  bool stop(const QString& runIdOrKey);
  /// SIGTERM to every active run.
  void stopAll();
  /// Waits (processing events) until no run is active or `msecs` passed; true when none is left.
  bool waitForAll(int msecs);
  /// SIGKILL to every active run (the user insisted on closing).
  void killAll();

  bool isActive(const QString& runId) const;
  bool hasActiveRuns() const;
  QStringList activeRunIds() const;
  /// The kept stderr of a run launched here (empty for others).
  QString stderrText(const QString& runId) const;
  /// True when the run was launched by this launcher (in this session).
  bool isLaunchedHere(const QString& runId) const;

 Q_SIGNALS:
  void runStarted(const QString& runId);
  void runUpdated(const QString& runId, qint64 step);
  void runProgress(const QString& runId, qint64 step, qint64 total);
  void runFinished(const QString& runId, const QString& status, const QString& message);
  /// The process ended before it created a run row (usage or config error, missing exe).
  void launchFailed(const QString& launchKey, const QString& message);
  /// stderr text or a launcher warning (malformed protocol line) for the log panel.
  void logAppended(const QString& runId, const QString& text);

 private:
  struct Child;
  void onStdout(Child* child);
  void onStderr(Child* child);
  void onFinished(Child* child, int exitCode, QProcess::ExitStatus status);
  void onErrorOccurred(Child* child, QProcess::ProcessError error);
  void handleLine(Child* child, const QByteArray& line);
  void switchToNextRun(Child* child, const QString& nextRunId);
  void appendLog(Child* child, const QString& text);
  void recordCrash(Child* child, const QString& message, int exitCode, bool bySignal);
  Child* find(const QString& runIdOrKey) const;
  /// find(), but null for a pipeline's earlier (ended) run.
  Child* findCurrent(const QString& runIdOrKey) const;
  QString nameOf(const Child* child) const;

  QString m_exe;
  QString m_db;
  int m_threads = 1;
  QStringList m_extraArgs;
  int m_nextKey = 1;
  std::map<QString, std::unique_ptr<Child>> m_children;  ///< launch key → child
};

}  // namespace apportion
