// SPDX-License-Identifier: GPL-3.0-or-later
// Per-task views: RunView's "Tasks" tab (split, protocol, accuracy, acc_norm, parse failures,
// validation, reported value and rule; an older run's inferred protocol and "latest" rule),
// CompareView's banner when two runs used different protocols or checkpoint rules, and the
// New-run dialog's Datasets section (suite combo, rows, protocol fields → data.datasets JSON,
// keys it has no control for kept). AP_SCREENSHOT_DIR=DIR also writes run_task_metrics.png,
// new_run_datasets.png and the store (task_metrics.sqlite) for `apportion-gui --run-tab 4`.
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <map>
#include <memory>

#include <qcustomplot.h>
#include <nlohmann/json.hpp>

#include "core/common/uuid.h"
#include "core/scoring/protocol.h"
#include "core/store/run_reader.h"
#include "core/store/run_store.h"
#include "core/store/store_keys.h"
#include "tests/ui/demo_run.h"
#include "ui/widgets/compare_view.h"
#include "ui/widgets/dataset_editor.h"
#include "ui/widgets/new_run_dialog.h"
#include "ui/widgets/run_view.h"

using namespace apportion;

namespace {

struct TaskSpec {
  const char* task;
  const char* protocol;
  double reported;  ///< report/acc/<task>
};

/// MoLA's six tasks (protocol a) and one lm-eval multiple-choice task, final values near the
/// MoLA 2468 row of BENCHMARKS.md.
const TaskSpec kPaperTasks[] = {
    {"mrpc", kProtocolMolaRegex, 0.8545}, {"cola", kProtocolMolaRegex, 0.8619},
    {"rte", kProtocolMolaRegex, 0.8917},  {"scienceqa", kProtocolMolaRegex, 0.9236},
    {"csqa", kProtocolMolaRegex, 0.7715}, {"obqa", kProtocolMolaRegex, 0.7840},
    {"arc_e", kProtocolMcLoglik, 0.6610}};

/// A finished run with curves, per-task evaluations every 50 steps, validation accuracy and a
/// report at best_validation (step 150). `other_protocol`: csqa/obqa under label_next_token
/// and rule "last" (a run that is not comparable task by task).
std::string writePaperRun(RunStore& store,
                          const std::string& name,
                          uint64_t seed,
                          bool other_protocol) {
  test::DemoRunSpec spec;
  spec.name = name;
  spec.experiment = "mola-paper";
  spec.seed = seed;
  spec.steps = 200;
  const std::string id = make_uuid_hex();
  store.start_run(test::demo_run_started(spec, id));
  const std::string rule = other_protocol ? "last" : "best_validation";
  const int64_t reportStep = other_protocol ? 200 : 150;
  double sum = 0;
  for (int step = 10; step <= 200; step += 10)
    store.log_metric(id, {"train/loss", step, 0.6 + 2.0 * std::exp(-step / 50.0), 0});
  std::map<int, double> meanAcc;  // step → sum of the tasks' accuracies (eval/acc)
  for (const TaskSpec& t : kPaperTasks) {
    std::string protocol = t.protocol;
    if (other_protocol && (std::string(t.task) == "csqa" || std::string(t.task) == "obqa"))
      protocol = kProtocolLabelNextToken;
    store.set_tag(id, kProtocolTagPrefix + std::string(t.task), protocol);
    store.set_tag(id, kEvalSplitTagPrefix + std::string(t.task), "test");
    const double offset = other_protocol ? -0.03 : 0.0;
    for (int step = 50; step <= 200; step += 50) {
      const double acc = t.reported + offset - 0.2 * std::exp(-step / 40.0) +
                         (step == reportStep ? 0.0 : -0.004 * (step % 100 == 0 ? 1 : 2));
      store.log_metric(id, {kMetricEvalAccPrefix + std::string(t.task), step, acc, 0});
      meanAcc[step] += acc / static_cast<double>(std::size(kPaperTasks));
      store.log_metric(id, {kMetricValAccPrefix + std::string(t.task), step, acc - 0.01, 0});
      if (protocol == kProtocolMcLoglik)
        store.log_metric(id, {kMetricEvalAccNormPrefix + std::string(t.task), step, acc + 0.02, 0});
      else if (protocol == kProtocolMolaRegex)
        store.log_metric(id, {kMetricEvalParseFailPrefix + std::string(t.task), step,
                              static_cast<double>(200 / step), 0});
    }
    const double reported = t.reported + offset;
    store.log_metric(id, {kMetricReportAccPrefix + std::string(t.task), 200, reported, 0});
    if (protocol == kProtocolMcLoglik)
      store.log_metric(id,
                       {kMetricReportAccNormPrefix + std::string(t.task), 200, reported + 0.02, 0});
    sum += reported;
  }
  for (const auto& [step, acc] : meanAcc) {
    store.log_metric(id, {kMetricEvalAcc, step, acc, 0});
    store.log_metric(id, {kMetricEvalLoss, step, 0.7 + 1.5 * std::exp(-step / 60.0), 0});
  }
  store.log_metric(id, {kMetricReportAcc, 200, sum / std::size(kPaperTasks), 0});
  store.set_tag(id, kReportRuleTag, rule);
  store.set_tag(id, kReportStepTag, std::to_string(reportStep));
  store.finish_run(id, RunStatus::Finished, "");
  store.flush();
  return id;
}

QString cell(const QTableWidget* t, int row, int column) {
  const QTableWidgetItem* item = t->item(row, column);
  return item ? item->text() : QString();
}

nlohmann::json configOf(const ui::NewRunDialog& d) {
  return nlohmann::json::parse(d.configText().toStdString());
}

}  // namespace

class TestTaskViews : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir m_dir;
  std::string m_db;
  std::string m_paper, m_paper2, m_other, m_old;
  QString m_shots;

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    m_shots = qEnvironmentVariable("AP_SCREENSHOT_DIR");
    m_db = m_dir.filePath(QStringLiteral("workspace.sqlite")).toStdString();
    {
      RunStore store(m_db);
      m_paper = writePaperRun(store, "mola-2468-s0", 0, false);
      m_paper2 = writePaperRun(store, "mola-2468-s1", 1, false);
      m_other = writePaperRun(store, "lora-r64-s0", 0, true);
      test::DemoRunSpec old;  // a builtin-suite run of an older build: no protocol tags, no report
      old.name = "old-builtin";
      m_old = test::add_demo_run(store, old);
    }  // closed: the WAL is checkpointed into the file a copy takes
    if (!m_shots.isEmpty()) {
      const QString copy = QDir(m_shots).filePath(QStringLiteral("task_metrics.sqlite"));
      QFile::remove(copy);
      QFile::copy(QString::fromStdString(m_db), copy);
    }
  }

  void runViewListsTasks() {
    ui::RunView view;
    view.resize(1100, 640);
    view.setReader(std::make_shared<RunReader>(m_db));
    view.setRun(QString::fromStdString(m_paper));
    QTableWidget* t = view.taskTable();
    QCOMPARE(view.tabs()->tabText(view.tasksTabIndex()), QStringLiteral("Tasks"));
    QCOMPARE(view.tasksTabIndex(), view.tabs()->count() - 1);  // the older tab indices stay
    QCOMPARE(t->rowCount(), 7);
    // Sorted by task: arc_e, cola, csqa, mrpc, obqa, rte, scienceqa.
    QCOMPARE(cell(t, 0, 0), QStringLiteral("arc_e"));
    QCOMPARE(cell(t, 0, 2), QStringLiteral("mc_loglik"));
    QCOMPARE(cell(t, 0, 4), QStringLiteral("68.10 %"));  // reported acc_norm
    QCOMPARE(cell(t, 0, 5), QStringLiteral("—"));        // no parse failures for mc_loglik
    QCOMPARE(t->item(0, 2)->toolTip(), QString::fromStdString(protocol_description("mc_loglik")));
    QCOMPARE(cell(t, 3, 0), QStringLiteral("mrpc"));
    QCOMPARE(cell(t, 3, 1), QStringLiteral("test"));
    QCOMPARE(cell(t, 3, 2), QStringLiteral("mola_regex"));
    QCOMPARE(cell(t, 3, 5), QStringLiteral("1"));  // 200 / 200 at the last evaluation
    QCOMPARE(cell(t, 3, 7), QStringLiteral("85.45 %"));
    QVERIFY(t->item(3, 7)->font().bold());
    QCOMPARE(cell(t, 3, 8), QStringLiteral("best_validation (step 150)"));
    QVERIFY(view.taskNote()->text().contains(QStringLiteral("best_validation")));
    QVERIFY(view.taskNote()->text().contains(QStringLiteral("step 150")));
    QCOMPARE(view.taskBars()->plottableCount(), 1);
    QCOMPARE(qobject_cast<QCPBars*>(view.taskBars()->plottable(0))->data()->size(), 7);
    QCOMPARE(qobject_cast<QCPBars*>(view.taskBars()->plottable(0))->data()->at(3)->value, 85.45);
    if (!m_shots.isEmpty()) {
      view.tabs()->setCurrentIndex(view.tasksTabIndex());
      view.show();
      QVERIFY(QTest::qWaitForWindowExposed(&view));
      view.grab().save(QDir(m_shots).filePath(QStringLiteral("run_view_tasks.png")));
    }

    // An older run: the protocol is inferred, nothing reported, the rule is "latest".
    view.setRun(QString::fromStdString(m_old));
    QCOMPARE(t->rowCount(), 3);
    QCOMPARE(cell(t, 0, 0), QStringLiteral("arithmetic"));
    QCOMPARE(cell(t, 0, 2), QStringLiteral("teacher_forced (inferred)"));
    QCOMPARE(cell(t, 0, 7), QStringLiteral("—"));
    QCOMPARE(cell(t, 0, 8), QStringLiteral("latest"));
    QVERIFY(view.taskNote()->text().contains(QStringLiteral("latest evaluation")));
    view.setRun({});
    QCOMPARE(t->rowCount(), 0);
  }

  void compareWarnsAboutProtocols() {
    ui::CompareView view;
    view.setReader(std::make_shared<RunReader>(m_db));
    view.setRuns(QString::fromStdString(m_paper), QString::fromStdString(m_other));
    QVERIFY(view.protocolWarning()->isVisibleTo(&view));
    const QStringList w = view.protocolWarnings();
    QCOMPARE(w.size(), 3);
    QCOMPARE(w[0], QStringLiteral("csqa: scored under different protocols: A mola_regex, B "
                                  "label_next_token; the accuracies are not comparable"));
    QVERIFY(w[1].startsWith(QStringLiteral("obqa: scored under different protocols")));
    QCOMPARE(w[2], QStringLiteral("different checkpoint rules: A best_validation, B last; the "
                                  "reported evaluations were chosen differently"));
    QVERIFY(view.protocolWarning()->text().contains(QStringLiteral("csqa")));
    // Two seeds of one config: nothing to warn about.
    view.setRuns(QString::fromStdString(m_paper), QString::fromStdString(m_paper2));
    QVERIFY(!view.protocolWarning()->isVisibleTo(&view));
    QVERIFY(view.protocolWarnings().isEmpty());
    // A group side compares every member's protocols.
    view.setSides({QStringLiteral("mola-2468"),
                   QStringLiteral("g"),
                   {QString::fromStdString(m_paper), QString::fromStdString(m_paper2)}},
                  ui::CompareSide::run(QString::fromStdString(m_other)));
    QCOMPARE(view.protocolWarnings().size(), 3);
  }

  void newRunDialogWritesDatasets() {
    const QString presets = m_dir.filePath(QStringLiteral("experiments"));
    QDir().mkpath(presets);
    test::DemoRunSpec spec;
    spec.experiment = "tiny-mola";
    QFile preset(presets + QStringLiteral("/tiny_mola.json"));
    QVERIFY(preset.open(QIODevice::WriteOnly));
    preset.write(QByteArray::fromStdString(test::demo_config_json(spec)));
    preset.close();
    ui::NewRunDialog dialog(presets, QDir(m_dir.path()));
    ui::DatasetEditor* editor = dialog.datasetEditor();
    QVERIFY(dialog.isValid());
    QCOMPARE(dialog.suiteCombo()->currentText(), QStringLiteral("builtin"));
    QVERIFY(!editor->isEnabled());

    dialog.suiteCombo()->setCurrentText(QStringLiteral("datasets"));
    QVERIFY(editor->isEnabled());
    QCOMPARE(editor->rowCount(), 1);
    nlohmann::json j = configOf(dialog);
    QCOMPARE(j["data"]["suite"].get<std::string>(), std::string("datasets"));
    QCOMPARE(j["data"]["datasets"][0]["name"].get<std::string>(), std::string("task1"));
    QVERIFY(!dialog.isValid());  // no train file yet
    QVERIFY(dialog.errorText().contains(QStringLiteral("data.datasets[0]")));

    editor->nameEdit()->setText(QStringLiteral("scienceqa"));
    editor->formatCombo()->setCurrentText(QStringLiteral("scienceqa"));
    editor->trainEdit()->setText(QStringLiteral("scienceqa/train.jsonl"));
    editor->evalEdit()->setText(QStringLiteral("scienceqa/test.jsonl"));
    editor->protocolCombo()->setCurrentText(QStringLiteral("mola_regex"));
    QVERIFY(editor->patternEdit()->isEnabled());
    QVERIFY(!editor->labelsEdit()->isEnabled());
    QVERIFY(!editor->glueTaskCombo()->isEnabled());
    QCOMPARE(editor->protocolHelp()->text(),
             QString::fromStdString(protocol_description("mola_regex")));
    const int row = editor->protocolCombo()->findText(QStringLiteral("beam_first_match"));
    QCOMPARE(editor->protocolCombo()->itemData(row, Qt::ToolTipRole).toString(),
             QString::fromStdString(protocol_description("beam_first_match")));
    j = configOf(dialog);
    const auto expected = nlohmann::json::parse(R"({"name": "scienceqa", "format": "scienceqa",
        "template": "alpaca", "train": "scienceqa/train.jsonl",
        "eval": [{"path": "scienceqa/test.jsonl", "split": "test", "role": "test"}],
        "protocol": {"id": "mola_regex"}})");
    QCOMPARE(QString::fromStdString(j["data"]["datasets"][0].dump()),
             QString::fromStdString(expected.dump()));
    QVERIFY2(dialog.isValid(), qPrintable(dialog.errorText()));

    // A second dataset scored by next-token labels with 5 shots; labels only for that protocol.
    editor->addRow();
    QCOMPARE(editor->rowCount(), 2);
    editor->nameEdit()->setText(QStringLiteral("csqa"));
    editor->trainEdit()->setText(QStringLiteral("csqa/train.json"));
    editor->protocolCombo()->setCurrentText(QStringLiteral("label_next_token"));
    QVERIFY(!editor->patternEdit()->isEnabled());
    editor->labelsEdit()->setText(QStringLiteral("A, B, C,D ,E"));
    editor->fewshotSpin()->setValue(5);
    editor->templateCombo()->setCurrentText(QStringLiteral("choose"));
    j = configOf(dialog);
    QCOMPARE(QString::fromStdString(j["data"]["datasets"][1]["protocol"].dump()),
             QStringLiteral(R"({"id":"label_next_token","labels":["A","B","C","D","E"],)"
                            R"("num_fewshot":5})"));
    QCOMPARE(j["data"]["datasets"][1]["template"].get<std::string>(), std::string("choose"));
    QVERIFY2(dialog.isValid(), qPrintable(dialog.errorText()));
    if (!m_shots.isEmpty()) {
      editor->rootEdit()->setText(QStringLiteral("/data/LLM-Adapters/dataset"));
      dialog.show();
      QVERIFY(QTest::qWaitForWindowExposed(&dialog));
      dialog.grab().save(QDir(m_shots).filePath(QStringLiteral("new_run_datasets.png")));
    }
    editor->protocolCombo()->setCurrentText(QStringLiteral("teacher_forced"));
    QVERIFY(!configOf(dialog)["data"]["datasets"][1]["protocol"].contains("labels"));
    QCOMPARE(editor->list()->item(1)->text(), QStringLiteral("csqa · alpaca · teacher_forced"));
    editor->rootEdit()->setText(QStringLiteral("/data/LLM-Adapters/dataset"));
    editor->checkpointRuleCombo()->setCurrentText(QStringLiteral("best_validation"));
    j = configOf(dialog);
    QCOMPARE(j["data"]["root"].get<std::string>(), std::string("/data/LLM-Adapters/dataset"));
    QCOMPARE(j["train"]["checkpoint_rule"].get<std::string>(), std::string("best_validation"));
    QVERIFY(dialog.errorText().contains(QStringLiteral("validation split")));
    editor->checkpointRuleCombo()->setCurrentText(QStringLiteral("last"));

    // Leaving the suite drops data.datasets (only "datasets" accepts it); the rows come back.
    dialog.suiteCombo()->setCurrentText(QStringLiteral("builtin"));
    QVERIFY(!configOf(dialog)["data"].contains("datasets"));
    QVERIFY(!editor->isEnabled());
    QVERIFY2(dialog.isValid(), qPrintable(dialog.errorText()));
    dialog.suiteCombo()->setCurrentText(QStringLiteral("datasets"));
    QCOMPARE(configOf(dialog)["data"]["datasets"].size(), size_t(2));
    editor->selectRow(0);
    editor->removeSelected();
    QCOMPARE(configOf(dialog)["data"]["datasets"][0]["name"].get<std::string>(),
             std::string("csqa"));

    // Keys the form has no control for survive an edit (weight, further eval splits).
    j = configOf(dialog);
    j["data"]["datasets"][0]["weight"] = 2.5;
    j["data"]["datasets"][0]["eval"] = nlohmann::json::parse(
        R"([{"split": "validation", "path": "csqa/dev.json", "role": "validation"},
            {"split": "test", "path": "csqa/test.json", "role": "test"}])");
    dialog.setConfigText(QString::fromStdString(j.dump(2)));
    QCOMPARE(editor->evalEdit()->text(), QStringLiteral("csqa/dev.json"));
    QCOMPARE(editor->roleCombo()->currentText(), QStringLiteral("validation"));
    editor->nameEdit()->setText(QStringLiteral("commonsenseqa"));
    j = configOf(dialog);
    QCOMPARE(j["data"]["datasets"][0]["weight"].get<double>(), 2.5);
    QCOMPARE(j["data"]["datasets"][0]["eval"].size(), size_t(2));
    QCOMPARE(j["data"]["datasets"][0]["eval"][1]["path"].get<std::string>(),
             std::string("csqa/test.json"));
    QCOMPARE(j["data"]["datasets"][0]["name"].get<std::string>(), std::string("commonsenseqa"));
  }
};

QTEST_MAIN(TestTaskViews)
#include "tst_task_views.moc"
