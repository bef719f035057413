// SPDX-License-Identifier: GPL-3.0-or-later
// RunLauncher against fake_trainer (a scripted child): a normal run, malformed lines, death by
// SIGKILL and abort, exit without a status line, a config error before the run row, stop →
// KILLED, and a missing executable. A crash must be recorded FAILED with exit details in tags.
// A GuiLoMo pipeline (one child, a search run then a retrain run) reports both runs in order,
// and stop() stops the run now current; a line for an unknown run without a preceding status
// line stays a warning.
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "app/gui/run_launcher.h"
#include "core/store/run_reader.h"
#include "core/store/run_store.h"

using namespace apportion;

class TestRunLauncher : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir m_dir;
  QString m_db;
  QString m_fake;
  int m_n = 0;

  QString writeConfig(const QString& scenario, int steps = 6, int delayMs = 20) {
    const QString path = m_dir.filePath(QStringLiteral("cfg-%1.json").arg(++m_n));
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly)) return {};
    f.write(
        QStringLiteral(R"({"name":"fake-%1","fake":{"scenario":"%1","steps":%2,"delay_ms":%3}})")
            .arg(scenario)
            .arg(steps)
            .arg(delayMs)
            .toUtf8());
    return path;
  }

  std::unique_ptr<RunLauncher> makeLauncher() {
    auto l = std::make_unique<RunLauncher>(m_fake, m_db);
    l->setThreads(1);
    return l;
  }

  std::optional<Run> storedRun(const QString& id) {
    RunReader reader(m_db.toStdString());
    return reader.find_run(id.toStdString());
  }

 private Q_SLOTS:
  void initTestCase() {
    m_fake = qEnvironmentVariable("AP_FAKE_TRAINER");
    QVERIFY2(QFileInfo::exists(m_fake), "AP_FAKE_TRAINER must name the fake_trainer executable");
    QVERIFY(m_dir.isValid());
    m_db = m_dir.filePath(QStringLiteral("ws.sqlite"));
    RunStore create(m_db.toStdString());
  }

  void normalRun() {
    auto launcher = makeLauncher();
    QSignalSpy started(launcher.get(), &RunLauncher::runStarted);
    QSignalSpy updated(launcher.get(), &RunLauncher::runUpdated);
    QSignalSpy progress(launcher.get(), &RunLauncher::runProgress);
    QSignalSpy finished(launcher.get(), &RunLauncher::runFinished);
    launcher->launch(writeConfig(QStringLiteral("normal")));
    QVERIFY(launcher->hasActiveRuns());
    QVERIFY(started.wait(10000));
    const QString id = started.at(0).at(0).toString();
    QCOMPARE(id.size(), 32);
    QVERIFY(launcher->isActive(id));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
    QCOMPARE(finished.at(0).at(0).toString(), id);
    QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("FINISHED"));
    QCOMPARE(updated.count(), 6);
    QCOMPARE(updated.last().at(1).toLongLong(), 6);
    QCOMPARE(progress.last().at(1).toLongLong(), 6);
    QCOMPARE(progress.last().at(2).toLongLong(), 6);
    QVERIFY(!launcher->isActive(id));
    QVERIFY(!launcher->hasActiveRuns());
    QVERIFY(launcher->isLaunchedHere(id));
    QVERIFY(launcher->stderrText(id).contains(QStringLiteral("step 6/6")));
    QVERIFY(launcher->stderrText(id).contains(QStringLiteral("--threads 1")));
    QCOMPARE(storedRun(id)->status, RunStatus::Finished);
  }

  void malformedLinesAreWarnings() {
    auto launcher = makeLauncher();
    QSignalSpy updated(launcher.get(), &RunLauncher::runUpdated);
    QSignalSpy finished(launcher.get(), &RunLauncher::runFinished);
    QSignalSpy log(launcher.get(), &RunLauncher::logAppended);
    launcher->launch(writeConfig(QStringLiteral("malformed")));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
    QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("FINISHED"));
    QCOMPARE(updated.count(), 6);
    const QString id = finished.at(0).at(0).toString();
    const QString text = launcher->stderrText(id);
    QCOMPARE(text.count(QStringLiteral("malformed progress line")), 4);
    QVERIFY(text.contains(QStringLiteral("this is not json")));
    QVERIFY(!text.contains(QStringLiteral("unknown_event")));  // unknown events: silently ignored
  }

  void crashIsRecordedFailed_data() {
    QTest::addColumn<QString>("scenario");
    QTest::addColumn<QString>("tag");
    QTest::addColumn<QString>("value");
    QTest::newRow("SIGKILL") << QStringLiteral("signal") << QStringLiteral("exit_signal")
                             << QStringLiteral("9");
    QTest::newRow("abort") << QStringLiteral("abort") << QStringLiteral("exit_signal")
                           << QStringLiteral("6");
    QTest::newRow("no status line")
        << QStringLiteral("no_status") << QStringLiteral("exit_code") << QStringLiteral("0");
  }

  void crashIsRecordedFailed() {
    QFETCH(QString, scenario);
    QFETCH(QString, tag);
    QFETCH(QString, value);
    auto launcher = makeLauncher();
    QSignalSpy finished(launcher.get(), &RunLauncher::runFinished);
    launcher->launch(writeConfig(scenario));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
    const QString id = finished.at(0).at(0).toString();
    QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("FAILED"));
    const QString message = finished.at(0).at(2).toString();
    QVERIFY(!message.isEmpty());
    const std::optional<Run> run = storedRun(id);
    QVERIFY(run);
    QCOMPARE(run->status, RunStatus::Failed);
    QVERIFY(run->end_ms.has_value());
    QCOMPARE(QString::fromStdString(run->tags.at(tag.toStdString())), value);
    QCOMPARE(QString::fromStdString(run->tags.at("error")), message);
    QVERIFY(
        QString::fromStdString(run->tags.at("stderr_tail")).contains(QStringLiteral("step 3/6")));
  }

  void configErrorBeforeRun() {
    auto launcher = makeLauncher();
    QSignalSpy started(launcher.get(), &RunLauncher::runStarted);
    QSignalSpy failed(launcher.get(), &RunLauncher::launchFailed);
    const QString key = launcher->launch(writeConfig(QStringLiteral("config_error")));
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 10000);
    QCOMPARE(failed.at(0).at(0).toString(), key);
    const QString message = failed.at(0).at(1).toString();
    QVERIFY2(message.contains(QStringLiteral("code 2")), qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("adapters.r")), qPrintable(message));
    QCOMPARE(started.count(), 0);
    QVERIFY(!launcher->hasActiveRuns());
  }

  void stopYieldsKilled() {
    auto launcher = makeLauncher();
    QSignalSpy updated(launcher.get(), &RunLauncher::runUpdated);
    QSignalSpy finished(launcher.get(), &RunLauncher::runFinished);
    launcher->launch(writeConfig(QStringLiteral("slow"), 1000, 30));
    QTRY_VERIFY_WITH_TIMEOUT(updated.count() >= 2, 10000);
    const QString id = updated.at(0).at(0).toString();
    QVERIFY(launcher->stop(id));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
    QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("KILLED"));
    QCOMPARE(storedRun(id)->status, RunStatus::Killed);
    QVERIFY(!launcher->stop(id));  // no longer running
  }

  void pipelineReportsBothRunsInOrder() {
    auto launcher = makeLauncher();
    QSignalSpy started(launcher.get(), &RunLauncher::runStarted);
    QSignalSpy updated(launcher.get(), &RunLauncher::runUpdated);
    QSignalSpy finished(launcher.get(), &RunLauncher::runFinished);
    // Every signal in one list, to check the order across signals.
    QStringList order;
    connect(launcher.get(), &RunLauncher::runStarted, this,
            [&order](const QString& id) { order << QStringLiteral("started ") + id; });
    connect(launcher.get(), &RunLauncher::runFinished, this,
            [&order](const QString& id, const QString& status, const QString&) {
              order << QStringLiteral("finished %1 %2").arg(id, status);
            });
    const QString key = launcher->launch(writeConfig(QStringLiteral("pipeline"), 4));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 20000);
    QCOMPARE(started.count(), 2);
    const QString search = started.at(0).at(0).toString();
    const QString retrain = started.at(1).at(0).toString();
    QCOMPARE(search.size(), 32);
    QCOMPARE(retrain.size(), 32);
    QVERIFY(search != retrain);
    const QStringList expected{
        QStringLiteral("started ") + search, QStringLiteral("finished %1 FINISHED").arg(search),
        QStringLiteral("started ") + retrain, QStringLiteral("finished %1 FINISHED").arg(retrain)};
    QCOMPARE(order, expected);
    // Nudges go to the run they belong to: 4 steps each.
    int searchNudges = 0, retrainNudges = 0;
    for (const auto& args : updated) {
      if (args.at(0).toString() == search) ++searchNudges;
      if (args.at(0).toString() == retrain) ++retrainNudges;
    }
    QCOMPARE(searchNudges, 4);
    QCOMPARE(retrainNudges, 4);
    QVERIFY(!launcher->hasActiveRuns());
    QVERIFY(launcher->isLaunchedHere(search));
    QVERIFY(launcher->isLaunchedHere(retrain));
    QVERIFY(!launcher->stderrText(key).contains(QStringLiteral("ignored")));
    // Both rows are stored and linked.
    const auto a = storedRun(search);
    const auto b = storedRun(retrain);
    QVERIFY(a && b);
    QCOMPARE(a->status, RunStatus::Finished);
    QCOMPARE(b->status, RunStatus::Finished);
    QCOMPARE(QString::fromStdString(a->allocation_method), QStringLiteral("guilomo_search"));
    QCOMPARE(QString::fromStdString(b->tags.at("guilomo/search_run")), search);
    QCOMPARE(QString::fromStdString(a->tags.at("guilomo/retrain_run")), retrain);
  }

  void pipelineStopStopsCurrentRun() {
    auto launcher = makeLauncher();
    QSignalSpy started(launcher.get(), &RunLauncher::runStarted);
    QSignalSpy finished(launcher.get(), &RunLauncher::runFinished);
    const QString key = launcher->launch(writeConfig(QStringLiteral("pipeline_slow"), 3, 30));
    QTRY_COMPARE_WITH_TIMEOUT(started.count(), 2, 20000);
    const QString search = started.at(0).at(0).toString();
    const QString retrain = started.at(1).at(0).toString();
    QCOMPARE(finished.count(), 1);
    QCOMPARE(finished.at(0).at(0).toString(), search);
    QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("FINISHED"));
    QVERIFY(!launcher->isActive(search));  // its process goes on, the run has ended
    QVERIFY(launcher->isActive(retrain));
    QCOMPARE(launcher->activeRunIds(), QStringList{retrain});
    QVERIFY(!launcher->stop(search));
    QVERIFY(launcher->stop(key));  // the launch key names the run now current
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 20000);
    QCOMPARE(finished.at(1).at(0).toString(), retrain);
    QCOMPARE(finished.at(1).at(1).toString(), QStringLiteral("KILLED"));
    QCOMPARE(storedRun(search)->status, RunStatus::Finished);
    QCOMPARE(storedRun(retrain)->status, RunStatus::Killed);
  }

  void pipelineFailedSearchEndsIt() {
    auto launcher = makeLauncher();
    QSignalSpy started(launcher.get(), &RunLauncher::runStarted);
    QSignalSpy finished(launcher.get(), &RunLauncher::runFinished);
    launcher->launch(writeConfig(QStringLiteral("pipeline_failed"), 4));
    QTRY_VERIFY_WITH_TIMEOUT(!launcher->hasActiveRuns(), 20000);
    QCOMPARE(started.count(), 1);
    QCOMPARE(finished.count(), 1);
    QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("FAILED"));
    QCOMPARE(finished.at(0).at(2).toString(), QStringLiteral("search diverged"));
  }

  void foreignRunIdWithoutStatusIsWarning() {
    auto launcher = makeLauncher();
    QSignalSpy started(launcher.get(), &RunLauncher::runStarted);
    QSignalSpy updated(launcher.get(), &RunLauncher::runUpdated);
    QSignalSpy finished(launcher.get(), &RunLauncher::runFinished);
    launcher->launch(writeConfig(QStringLiteral("foreign")));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
    QCOMPARE(started.count(), 1);
    const QString id = started.at(0).at(0).toString();
    QCOMPARE(finished.at(0).at(0).toString(), id);
    QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("FINISHED"));
    QCOMPARE(updated.count(), 6);
    for (const auto& args : updated) QCOMPARE(args.at(0).toString(), id);
    QCOMPARE(launcher->stderrText(id).count(QStringLiteral("line for another run")), 1);
  }

  void missingExecutable() {
    RunLauncher launcher(m_dir.filePath(QStringLiteral("no-such-apportion")), m_db);
    QSignalSpy failed(&launcher, &RunLauncher::launchFailed);
    launcher.launch(writeConfig(QStringLiteral("normal")));
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 10000);
    QVERIFY(failed.at(0).at(1).toString().contains(QStringLiteral("no-such-apportion")));
    QVERIFY(!launcher.hasActiveRuns());
  }
};

QTEST_MAIN(TestRunLauncher)
#include "tst_run_launcher.moc"
