// SPDX-License-Identifier: GPL-3.0-or-later
// Runs beyond the window, with the REAL `apportion` (AP_APPORTION_EXE) and a temporary local
// executor profile ({"kind":"local","max_parallel":2} in a temporary XDG_CONFIG_HOME): a
// 2-member sweep submitted through the Sweep dialog of MainWindow (preview, submit, background
// pull) ends with both runs FINISHED in the store and tagged as members; a run submitted from
// the New-run dialog to the profile is stopped through Run → Stop (`apportion stop`) and ends
// KILLED; resubmitting the finished sweep resubmits nothing; a foreign store is imported.
// Skips only when the executable does not exist.
#include <QFile>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QtTest>

#include "app/gui/main_window.h"
#include "app/gui/remote_commands.h"
#include "app/gui/run_launcher.h"
#include "core/store/run_reader.h"
#include "core/store/run_store.h"
#include "tests/ui/demo_run.h"
#include "ui/models/workspace.h"
#include "ui/widgets/executor_picker.h"
#include "ui/widgets/new_run_dialog.h"
#include "ui/widgets/sweep_dialog.h"

using namespace apportion;

class TestRemoteSweep : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir m_dir;
  QString m_exe;
  QString m_db;
  QString m_tiny;

  std::vector<Run> runs() const { return RunReader(m_db.toStdString()).list_runs(); }

  static QString tag(const Run& run, const std::string& key) {
    const auto it = run.tags.find(key);
    return it == run.tags.end() ? QString() : QString::fromStdString(it->second);
  }

  /// The result of one RemoteCommands call, waited for.
  static CliResult wait(const std::function<void(RemoteCommands::Done)>& call) {
    std::optional<CliResult> result;
    call([&result](const CliResult& r) { result = r; });
    [&result] { QTRY_VERIFY_WITH_TIMEOUT(result.has_value(), 120000); }();
    return result.value_or(CliResult{});
  }

 private Q_SLOTS:
  void initTestCase() {
    m_exe = qEnvironmentVariable("AP_APPORTION_EXE");
    if (m_exe.isEmpty() || !QFileInfo(m_exe).isExecutable())
      QSKIP("AP_APPORTION_EXE does not name an executable (build the `apportion` target)");
    QVERIFY(m_dir.isValid());
    qputenv("XDG_CONFIG_HOME", m_dir.filePath(QStringLiteral("config")).toUtf8());
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope,
                       m_dir.filePath(QStringLiteral("settings")));
    const QString profiles = ui::ExecutorPicker::profilesDir();
    QVERIFY(QDir().mkpath(profiles));
    QFile profile(profiles + QStringLiteral("/here.json"));
    QVERIFY(profile.open(QIODevice::WriteOnly));
    profile.write(R"({"kind":"local","max_parallel":2})");
    profile.close();
    QVERIFY(QDir().mkpath(m_dir.filePath(QStringLiteral("ws"))));
    m_db = m_dir.filePath(QStringLiteral("ws/workspace.sqlite"));
    ui::Workspace::open(m_db);
    m_tiny = qEnvironmentVariable("AP_TEST_DATA") + QStringLiteral("/cli/tiny-random.json");
    QVERIFY(QFileInfo::exists(m_tiny));
  }

  void sweepFromTheDialogFinishes() {
    MainWindow window(AppPaths{qEnvironmentVariable("AP_EXPERIMENTS"), m_exe});
    QVERIFY(window.openWorkspace(m_db));
    window.remote()->setPullInterval(0.3);
    auto* dialog = qobject_cast<ui::SweepDialog*>(window.openSweepDialog());
    QVERIFY(dialog);
    dialog->setExperimentPath(m_tiny);
    dialog->clearGrid();
    dialog->addGridRow(QStringLiteral("train.lr"), QStringLiteral("0.001, 0.003"));
    dialog->maxStepsSpin()->setValue(3);
    dialog->setSweepName(QStringLiteral("e2e"));
    QVERIFY(dialog->executorPicker()->selectProfile(QStringLiteral("here")));
    QCOMPARE(dialog->memberCount(), 2);
    QVERIFY2(dialog->submitButton()->isEnabled(), qPrintable(dialog->errorText()));

    dialog->preview();  // `apportion sweep --dry-run`: members listed, nothing submitted
    QTRY_VERIFY_WITH_TIMEOUT(!dialog->isBusy(), 60000);
    QVERIFY2(dialog->outputView()->toPlainText().contains(QStringLiteral("dry run")),
             qPrintable(dialog->outputView()->toPlainText()));
    QVERIFY(runs().empty());

    QSignalSpy submitted(dialog, &ui::SweepDialog::submitted);
    dialog->submit();
    QVERIFY(submitted.wait(60000));
    QVERIFY2(submitted.at(0).at(2).toBool(), qPrintable(submitted.at(0).at(3).toString()));
    QCOMPARE(submitted.at(0).at(0).toString(),
             m_dir.filePath(QStringLiteral("ws/sweeps/e2e.json")));
    QVERIFY(QFileInfo::exists(submitted.at(0).at(0).toString()));
    QVERIFY(window.remote()->isPulling());          // the follower runs while the launches are open
    QVERIFY(!dialog->submitButton()->isEnabled());  // an edit makes a new sweep to submit

    const auto finished = [this] {
      int n = 0;
      for (const Run& r : runs()) n += r.status == RunStatus::Finished ? 1 : 0;
      return n;
    };
    QTRY_COMPARE_WITH_TIMEOUT(finished(), 2, 120000);
    QStringList points;
    for (const Run& r : runs()) {
      QVERIFY(tag(r, "sweep").startsWith(QStringLiteral("sw-")));
      QVERIFY(!tag(r, "remote/launch").isEmpty());
      QVERIFY(tag(r, "seed_group").startsWith(tag(r, "sweep")));
      points << tag(r, "sweep/point");
    }
    points.sort();
    QCOMPARE(points,
             (QStringList{QStringLiteral("train.lr=0.001"), QStringLiteral("train.lr=0.003")}));
    // Every launch ended: the follower stops by itself.
    QTRY_VERIFY_WITH_TIMEOUT(!window.remote()->isPulling(), 60000);
    QCOMPARE(window.remote()->openLaunchCount(), 0);

    // Resubmitting a sweep whose members all finished resubmits nothing.
    const QString sweep = tag(runs().front(), "sweep");
    const CliResult r = wait(
        [&](RemoteCommands::Done done) { window.remote()->resubmitSweep(sweep, std::move(done)); });
    QVERIFY2(r.ok, qPrintable(r.text()));
    QVERIFY2(r.out.contains(QStringLiteral("0 of 2")), qPrintable(r.text()));
  }

  void profileRunFromNewRunDialogStops() {
    MainWindow window(AppPaths{qEnvironmentVariable("AP_EXPERIMENTS"), m_exe});
    QVERIFY(window.openWorkspace(m_db));
    window.remote()->setPullInterval(0.3);
    const size_t before = runs().size();
    auto* dialog = qobject_cast<ui::NewRunDialog*>(window.openNewRunDialog());
    QVERIFY(dialog);
    QFile tiny(m_tiny);
    QVERIFY(tiny.open(QIODevice::ReadOnly));
    nlohmann::json cfg = nlohmann::json::parse(tiny.readAll().toStdString());
    cfg["name"] = "long-remote";
    cfg["train"]["steps"] = 1000000;
    dialog->setConfigText(QString::fromStdString(cfg.dump(2)));
    QVERIFY2(dialog->isValid(), qPrintable(dialog->errorText()));
    QVERIFY(dialog->executorPicker()->selectProfile(QStringLiteral("here")));
    QCOMPARE(dialog->launchButton()->text(), QStringLiteral("Submit"));
    dialog->launch();
    QTRY_VERIFY_WITH_TIMEOUT(window.remote()->isPulling(), 60000);  // submitted
    QVERIFY(window.launcher()->activeRunIds().isEmpty());           // not a child of this window

    QString id;
    const auto running = [this, &id, before] {
      const std::vector<Run> all = runs();
      for (const Run& r : all)
        if (r.name == "long-remote" && r.status == RunStatus::Running && r.latest_steps.size())
          id = QString::fromStdString(r.run_id);
      return all.size() > before && !id.isEmpty();
    };
    QTRY_VERIFY_WITH_TIMEOUT(running(), 120000);
    QTRY_VERIFY_WITH_TIMEOUT(window.canStop(id), 10000);  // once the table has read the run
    QVERIFY(window.stopRun(id));
    const auto status = [this, &id] {
      return RunReader(m_db.toStdString()).find_run(id.toStdString())->status;
    };
    QTRY_COMPARE_WITH_TIMEOUT(status(), RunStatus::Killed, 120000);
    QTRY_VERIFY_WITH_TIMEOUT(!window.remote()->isPulling(), 60000);
  }

  void failuresAreReported() {
    RemoteCommands remote(m_exe, m_db);
    remote.setPullInterval(0.3);
    // A profile that does not exist: the CLI's message comes back.
    const CliResult missing = wait([&](RemoteCommands::Done done) {
      remote.submitTrain(m_tiny, m_dir.filePath(QStringLiteral("nowhere.json")), std::move(done));
    });
    QVERIFY(!missing.ok);
    QVERIFY2(missing.err.contains(QStringLiteral("nowhere.json")), qPrintable(missing.text()));
    QVERIFY(!remote.isPulling());
    // A launch whose `apportion` cannot start ends without a run; the follower says so.
    const QString broken = m_dir.filePath(QStringLiteral("broken.json"));
    QFile f(broken);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(R"({"kind":"local","apportion":"/nonexistent/apportion"})");
    f.close();
    QSignalSpy messages(&remote, &RemoteCommands::pullMessage);
    const CliResult submitted = wait(
        [&](RemoteCommands::Done done) { remote.submitTrain(m_tiny, broken, std::move(done)); });
    QVERIFY2(submitted.ok, qPrintable(submitted.text()));
    QVERIFY(remote.isPulling());
    QTRY_VERIFY_WITH_TIMEOUT(!remote.isPulling(), 60000);
    QStringList said;
    for (const QList<QVariant>& m : messages) said << m.at(0).toString();
    QVERIFY2(said.join(QLatin1Char('\n')).contains(QStringLiteral("without a run")),
             qPrintable(said.join(QLatin1Char('\n'))));
  }

  void importMergesAForeignStore() {
    const QString other = m_dir.filePath(QStringLiteral("elsewhere.sqlite"));
    std::string id;
    {
      RunStore store(other.toStdString());
      test::DemoRunSpec spec;
      spec.name = "from-elsewhere";
      id = test::add_demo_run(store, spec);
      store.flush();
    }
    RemoteCommands remote(m_exe, m_db);
    const CliResult r =
        wait([&](RemoteCommands::Done done) { remote.importStore(other, std::move(done)); });
    QVERIFY2(r.ok, qPrintable(r.text()));
    QVERIFY(RunReader(m_db.toStdString()).find_run(id));
    const CliResult again =
        wait([&](RemoteCommands::Done done) { remote.importStore(other, std::move(done)); });
    QVERIFY2(again.ok, qPrintable(again.text()));  // already present: nothing to do
  }
};

QTEST_MAIN(TestRemoteSweep)
#include "tst_remote_sweep.moc"
