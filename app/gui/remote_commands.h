// SPDX-License-Identifier: GPL-3.0-or-later
// RemoteCommands: the GUI's side of runs that are not its own children (executor profiles,
// sweeps; issue 14). Each action is a short `apportion` child process whose output comes back to
// a callback: `train CONFIG --on PROFILE`, `sweep FILE --on PROFILE [--dry-run]`, `stop RUN`,
// `sweep --resubmit KEY`, `pull` and `import STORE`. While launches of the workspace are open
// one background `apportion pull --follow` runs (never two), so the run table, which polls the
// store, shows the rows of remote runs as they arrive. The GUI writes nothing itself here: the
// CLI owns the launch records (<workspace>/remote/) and the store writes.
//
// Intended usage:
//   RemoteCommands remote(apportionExe, dbPath);
//   remote.submitTrain(config, profileFile, [](const CliResult& r) { if (!r.ok) … r.text(); });
//   // submit calls start the follower on success; on opening a workspace:
//   if (remote.openLaunchCount() > 0) remote.ensurePulling();
#pragma once

#include <functional>

#include <QObject>
#include <QProcess>
#include <QString>
#include <QStringList>

namespace apportion {

namespace ui {
struct SweepBackend;
}

/// The outcome of one `apportion` call.
struct CliResult {
  bool ok = false;    ///< exited normally with code 0
  int exitCode = -1;  ///< -1 when it did not start or was killed
  QString command;    ///< "apportion sweep … --db …" (for messages)
  QString out;        ///< stdout
  QString err;        ///< stderr, or why it did not start
  /// stdout and stderr, trimmed, one after the other.
  QString text() const;
};

class RemoteCommands : public QObject {
  Q_OBJECT

 public:
  using Done = std::function<void(const CliResult&)>;

  RemoteCommands(QString apportionExe, QString dbPath, QObject* parent = nullptr);
  /// Waits a little for submissions in flight; stops the follower (SIGTERM).
  ~RemoteCommands() override;

  /// `apportion ARGS` as a child process (the directory of the executable first on PATH, so a
  /// local profile's "apportion" is this one); `done` runs on the GUI thread, also after a kill
  /// at `timeoutMs`.
  void run(const QStringList& args, Done done, int timeoutMs = 120000);
  /// `train CONFIG --on PROFILE --db WS`; on success the follower starts.
  void submitTrain(const QString& config, const QString& profile, Done done);
  /// `sweep FILE --on PROFILE --db WS [--dry-run]`; after a real submit the follower starts.
  void submitSweep(const QString& file, const QString& profile, bool dryRun, Done done);
  /// `stop RUN_OR_LAUNCH --db WS`
  void stop(const QString& runOrLaunch, Done done);
  /// `sweep --resubmit KEY --db WS`; on success the follower starts.
  void resubmitSweep(const QString& sweepKey, Done done);
  /// `pull --db WS` once.
  void pullNow(Done done);
  /// `import STORE --db WS` (exit 1 with CONFLICT lines when runs differ).
  void importStore(const QString& store, Done done);

  /// Starts `pull --follow` unless it runs; when one runs, it is started once more after it
  /// ends (it may have ended just as a launch was added).
  void ensurePulling();
  bool isPulling() const { return m_pull != nullptr; }
  /// Seconds between the follower's pulls (default 2; tests use less).
  void setPullInterval(double seconds) { m_pullInterval = seconds; }
  /// Launch records of the workspace that have not ended (0 when there is no remote/ folder).
  int openLaunchCount() const;
  /// Short commands in flight.
  int runningCount() const { return m_running; }
  const QString& dbPath() const { return m_db; }

 Q_SIGNALS:
  void pullingChanged(bool on);
  /// Output of the follower: a stdout line ("sw-1a2b-0 run 3f2e… RUNNING step 40 (+12 rows)",
  /// "sw-1a2b-0 ended"), its stderr text ("launch K ended without a run: …", "CONFLICT …"), or
  /// why it stopped.
  void pullMessage(const QString& text);

 private:
  QProcess* makeProcess(const QStringList& args);
  void onPullFinished(int exitCode, QProcess::ExitStatus status);

  QString m_exe;
  QString m_db;
  QProcess* m_pull = nullptr;
  bool m_pullAgain = false;
  QString m_pullErr;  ///< the follower's stderr (tail)
  double m_pullInterval = 2.0;
  int m_running = 0;
};

/// The Sweep dialog's backend over `commands` (its output: the CLI's text, and the exit code
/// when it failed).
ui::SweepBackend makeSweepBackend(RemoteCommands* commands);

}  // namespace apportion
