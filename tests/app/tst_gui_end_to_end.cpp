// SPDX-License-Identifier: GPL-3.0-or-later
// End to end with the REAL `apportion train` (AP_APPORTION_EXE): a tiny random-init run launched
// through RunLauncher finishes and the RunView shows its curves; Stop on a longer run yields
// KILLED with a checkpoint; a bad config fails before a run row exists, with its message.
// Skips only when the executable does not exist.
#include <qcustomplot.h>
#include <QComboBox>
#include <QLabel>
#include <QProcess>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>
#include <nlohmann/json.hpp>

#include "app/gui/cli_queries.h"
#include "app/gui/run_launcher.h"
#include "core/config/experiment_config.h"
#include "core/store/run_reader.h"
#include "ui/models/workspace.h"
#include "ui/plots/expert_count_bars.h"
#include "ui/plots/expert_load_heatmap.h"
#include "ui/plots/metric_plot.h"
#include "ui/widgets/backbone_picker.h"
#include "ui/widgets/new_run_dialog.h"
#include "ui/widgets/run_view.h"

using namespace apportion;

namespace {

nlohmann::json tinyConfig(int steps) {
  return nlohmann::json::parse(R"({
    "name": "gui-e2e",
    "backbone": {"config": {"num_hidden_layers": 2, "hidden_size": 32, "intermediate_size": 64,
                            "num_attention_heads": 4, "num_key_value_heads": 2,
                            "vocab_size": 260}},
    "adapters": {"method": "moe_lora", "r": 4, "top_k": 2, "num_experts": 4},
    "allocation": {"method": "uniform"},
    "data": {"train_examples": 48, "eval_examples": 12, "max_seq_len": 64},
    "train": {"steps": 4, "micro_batch_size": 4, "eval_every": 2, "log_every": 1,
              "log_matrices_every": 2, "checkpoint_every": 1000}
  })")
      .patch(nlohmann::json::parse(R"([{"op":"replace","path":"/train/steps","value":)" +
                                   std::to_string(steps) + "}]"));
}

}  // namespace

class TestGuiEndToEnd : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir m_dir;
  QString m_exe;
  QString m_db;

  QString writeConfig(const QString& name, const nlohmann::json& j) {
    QDir().mkpath(m_dir.filePath(QStringLiteral("configs")));
    const QString path =
        m_dir.filePath(QStringLiteral("configs/") + name + QStringLiteral(".json"));
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly)) return {};
    f.write(QByteArray::fromStdString(j.dump(2)));
    return path;
  }

 private Q_SLOTS:
  void initTestCase() {
    m_exe = qEnvironmentVariable("AP_APPORTION_EXE");
    if (m_exe.isEmpty() || !QFileInfo(m_exe).isExecutable())
      QSKIP("AP_APPORTION_EXE does not name an executable (build the `apportion` target)");
    QVERIFY(m_dir.isValid());
    m_db = m_dir.filePath(QStringLiteral("workspace.sqlite"));
    ui::Workspace::open(m_db);  // creates the database like the GUI does
  }

  void tinyRunFinishesAndShowsCurves() {
    const nlohmann::json cfg = tinyConfig(4);
    ExperimentConfig::from_json(cfg);  // the GUI's validation accepts what the CLI will run
    RunLauncher launcher(m_exe, m_db);
    launcher.setThreads(1);
    QSignalSpy started(&launcher, &RunLauncher::runStarted);
    QSignalSpy updated(&launcher, &RunLauncher::runUpdated);
    QSignalSpy finished(&launcher, &RunLauncher::runFinished);
    QSignalSpy failed(&launcher, &RunLauncher::launchFailed);
    launcher.launch(writeConfig(QStringLiteral("tiny"), cfg));
    QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1 || failed.count() == 1, 300000);
    QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.at(0).at(1).toString()));
    const QString id = finished.at(0).at(0).toString();
    QVERIFY2(finished.at(0).at(1).toString() == QStringLiteral("FINISHED"),
             qPrintable(finished.at(0).at(2).toString() + launcher.stderrText(id)));
    QCOMPARE(started.count(), 1);
    QVERIFY(updated.count() >= 1);

    auto ws = ui::Workspace::open(m_db);
    ui::RunView view;
    view.setReader(ws->reader());
    view.setRun(id);
    QCPGraph* loss = view.lossPlot()->series(QStringLiteral("train/loss"));
    QVERIFY(loss);
    QVERIFY(loss->dataCount() > 0);
    QVERIFY(view.accuracyPlot()->series(QStringLiteral("eval/acc")));
    QVERIFY(view.accuracyPlot()->series(QStringLiteral("eval/acc"))->dataCount() > 0);
    QCOMPARE(view.expertBars()->expertsPerLayer(), (std::vector<int>{4, 4}));
    QVERIFY(!view.heatmap()->steps().empty());
    QCOMPARE(view.heatmap()->grid().layers, 2);
    QCOMPARE(view.heatmap()->grid().experts, 4);
  }

  void stopYieldsKilled() {
    RunLauncher launcher(m_exe, m_db);
    launcher.setThreads(1);
    QSignalSpy updated(&launcher, &RunLauncher::runUpdated);
    QSignalSpy finished(&launcher, &RunLauncher::runFinished);
    QSignalSpy failed(&launcher, &RunLauncher::launchFailed);
    launcher.launch(writeConfig(QStringLiteral("long"), tinyConfig(5000)));
    QTRY_VERIFY_WITH_TIMEOUT(updated.count() >= 1 || failed.count() == 1, 300000);
    QVERIFY(failed.isEmpty());
    const QString id = updated.at(0).at(0).toString();
    QVERIFY(launcher.stop(id));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 120000);
    QCOMPARE(finished.at(0).at(1).toString(), QStringLiteral("KILLED"));
    RunReader reader(m_db.toStdString());
    const std::optional<Run> run = reader.find_run(id.toStdString());
    QVERIFY(run);
    QCOMPARE(run->status, RunStatus::Killed);
    bool checkpoint = false;
    for (const Artifact& a : reader.artifacts(id.toStdString()))
      checkpoint |= a.kind == "checkpoint";
    QVERIFY2(checkpoint, "a stopped run records a checkpoint artifact");
  }

  void newRunDialogInspectsModelFoldersAndOffersDevices() {
    // A real model folder: pretrain a tiny backbone for two steps with the real CLI.
    nlohmann::json pre = tinyConfig(2);
    pre.erase("adapters");
    pre.erase("allocation");
    pre["backbone"]["output"] = "backbones/tiny";
    QProcess p;
    p.start(m_exe,
            {QStringLiteral("pretrain"), writeConfig(QStringLiteral("pre"), pre),
             QStringLiteral("--db"), m_db, QStringLiteral("--progress"), QStringLiteral("none")});
    QVERIFY(p.waitForFinished(120000));
    QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
    const QString model = m_dir.filePath(QStringLiteral("backbones/tiny"));

    ui::NewRunDialog dialog(qEnvironmentVariable("AP_EXPERIMENTS"), QDir(m_dir.path()),
                            make_cli_queries(m_exe));
    QVERIFY(dialog.selectPreset(QStringLiteral("lora.json")));
    QVERIFY(dialog.backbonePicker()->deviceCombo()->findText(QStringLiteral("cpu")) >= 0);
    dialog.backbonePicker()->chooseFolder(model);
    const QString summary = dialog.backbonePicker()->summaryLabel()->text();
    QVERIFY2(summary.contains(QStringLiteral("LlamaForCausalLM")), qPrintable(summary));
    QVERIFY2(summary.contains(QStringLiteral("2 layers")), qPrintable(summary));
    auto j = nlohmann::json::parse(dialog.configText().toStdString());
    QCOMPARE(j["backbone"]["path"].get<std::string>(), std::string("backbones/tiny"));
    QVERIFY(!j["backbone"].contains("config"));
    QVERIFY2(dialog.isValid(), qPrintable(dialog.errorText()));

    // A folder whose config.json is broken: the error is shown and the config keeps its path.
    const QString broken = m_dir.filePath(QStringLiteral("broken-model"));
    QDir().mkpath(broken);
    QFile bad(broken + QStringLiteral("/config.json"));
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write("{\"architectures\": [\"GPT2LMHeadModel\"]}");
    bad.close();
    dialog.backbonePicker()->chooseFolder(broken);
    const QString error = dialog.backbonePicker()->summaryLabel()->text();
    QVERIFY2(error.contains(QStringLiteral("GPT2LMHeadModel")), qPrintable(error));
    j = nlohmann::json::parse(dialog.configText().toStdString());
    QCOMPARE(j["backbone"]["path"].get<std::string>(), std::string("backbones/tiny"));
  }

  void badConfigFailsBeforeRun() {
    nlohmann::json cfg = tinyConfig(4);
    cfg["adapters"]["r"] = 0;
    RunLauncher launcher(m_exe, m_db);
    QSignalSpy failed(&launcher, &RunLauncher::launchFailed);
    QSignalSpy started(&launcher, &RunLauncher::runStarted);
    launcher.launch(writeConfig(QStringLiteral("bad"), cfg));
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 60000);
    QCOMPARE(started.count(), 0);
    const QString message = failed.at(0).at(1).toString();
    QVERIFY2(message.contains(QStringLiteral("code 2")), qPrintable(message));
    QVERIFY2(message.contains(QStringLiteral("adapters.r")), qPrintable(message));
  }
};

QTEST_MAIN(TestGuiEndToEnd)
#include "tst_gui_end_to_end.moc"
