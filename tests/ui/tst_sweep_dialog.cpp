// SPDX-License-Identifier: GPL-3.0-or-later
// The Sweep dialog without a CLI: grid values and seed lists (text ↔ JSON), the grid → sweep
// JSON → file → dialog round trip, the live member count and a member config that ap_core
// rejects; the executor picker over profiles in a temporary XDG_CONFIG_HOME; and the run
// table's filter finding a sweep's runs by its key (with a "where" tooltip line).
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "core/store/run_store.h"
#include "tests/ui/demo_run.h"
#include "ui/models/run_table_filter.h"
#include "ui/models/run_table_model.h"
#include "ui/models/workspace.h"
#include "ui/widgets/executor_picker.h"
#include "ui/widgets/sweep_dialog.h"
#include "ui/widgets/sweep_values.h"

using namespace apportion;
using ui::ExecutorPicker;
using ui::SweepDialog;

namespace {

void writeFile(const QString& path, const QByteArray& text) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
  f.write(text);
}

}  // namespace

class TestSweepDialog : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir m_dir;
  QString m_experiment;

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    // Profiles (and QSettings, which follow XDG_CONFIG_HOME) live in the temporary folder.
    qputenv("XDG_CONFIG_HOME", m_dir.filePath(QStringLiteral("config")).toUtf8());
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope,
                       m_dir.filePath(QStringLiteral("settings")));
    m_experiment = qEnvironmentVariable("AP_TEST_DATA") + QStringLiteral("/cli/tiny-random.json");
    QVERIFY2(QFileInfo::exists(m_experiment), qPrintable(m_experiment));
  }

  void gridValues_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("strings");
    QTest::addColumn<QString>("json");
    QTest::newRow("numbers") << "0.001, 3e-3" << false << R"([0.001,0.003])";
    QTest::newRow("words") << "mola, uniform" << false << R"(["mola","uniform"])";
    QTest::newRow("digits as numbers") << "2468, 8642" << false << R"([2468,8642])";
    QTest::newRow("digits kept text") << "2468, 8642" << true << R"(["2468","8642"])";
    QTest::newRow("arrays") << "[2,4], [4, 2]" << false << R"([[2,4],[4,2]])";
    QTest::newRow("quoted comma") << R"("a,b", c)" << false << R"(["a,b","c"])";
    QTest::newRow("literals") << "true, null,  ,7" << false << R"([true,null,7])";
    QTest::newRow("empty") << "  " << false << R"([])";
  }

  void gridValues() {
    QFETCH(QString, text);
    QFETCH(bool, strings);
    QFETCH(QString, json);
    const nlohmann::json values = ui::parseGridValues(text, strings);
    QCOMPARE(QString::fromStdString(values.dump()), json);
    // Formatting reads back to the same values.
    QCOMPARE(ui::parseGridValues(ui::formatGridValues(values, strings), strings), values);
  }

  void seeds_data() {
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("seeds");  // "" with error non-empty: malformed
    QTest::addColumn<bool>("error");
    QTest::newRow("range") << "0-2"
                           << "0,1,2" << false;
    QTest::newRow("list") << "0,1,2"
                          << "0,1,2" << false;
    QTest::newRow("mixed") << "0-2, 5, 1"
                           << "0,1,2,5" << false;
    QTest::newRow("none") << ""
                          << "" << false;
    QTest::newRow("word") << "a"
                          << "" << true;
    QTest::newRow("backwards") << "3-1"
                               << "" << true;
    QTest::newRow("two dashes") << "1-2-3"
                                << "" << true;
    QTest::newRow("too many") << "0-20000"
                              << "" << true;
  }

  void seeds() {
    QFETCH(QString, text);
    QFETCH(QString, seeds);
    QFETCH(bool, error);
    QString why;
    const auto parsed = ui::parseSeeds(text, &why);
    QCOMPARE(!parsed.has_value(), error);
    QCOMPARE(why.isEmpty(), !error);
    if (!parsed) return;
    QStringList got;
    for (uint64_t s : *parsed) got << QString::number(s);
    QCOMPARE(got.join(QLatin1Char(',')), seeds);
    QCOMPARE(*ui::parseSeeds(ui::formatSeeds(*parsed)), *parsed);
  }

  void formatSeedsCompressesRuns() {
    QCOMPARE(ui::formatSeeds({0, 1, 2, 5, 7, 8}), QStringLiteral("0-2,5,7,8"));
  }

  void gridRoundTripsThroughAFile() {
    SweepDialog dialog(QString(), QDir(m_dir.path()));
    QCOMPARE(dialog.memberCount(), -1);  // no experiment yet
    QVERIFY(!dialog.errorText().isEmpty());
    dialog.setExperimentPath(m_experiment);
    QCOMPARE(dialog.memberCount(), 1);  // no grid, no seeds: the experiment once
    dialog.clearGrid();
    dialog.addGridRow(QStringLiteral("train.lr"), QStringLiteral("0.001, 0.003"));
    dialog.addGridRow(QStringLiteral("allocation.method"), QStringLiteral("uniform, mola"));
    dialog.addGridRow(QStringLiteral("name"), QStringLiteral("1, 2"));  // a string key: text
    dialog.seedsEdit()->setText(QStringLiteral("0-2"));
    dialog.fixedEdit()->setText(QStringLiteral("data.train_examples=32; train.log_every=1"));
    dialog.maxStepsSpin()->setValue(3);
    dialog.maxParallelSpin()->setValue(2);
    dialog.setSweepName(QStringLiteral("lr-x-method"));
    QCOMPARE(dialog.memberCount(), 2 * 2 * 2 * 3);
    QVERIFY2(dialog.errorText().isEmpty(), qPrintable(dialog.errorText()));
    QVERIFY(dialog.countText().contains(QStringLiteral("24 runs")));
    QCOMPARE(dialog.outputView()->toPlainText().split(QLatin1Char('\n')).size(), 24);

    const QString sweepDir = m_dir.filePath(QStringLiteral("sweeps"));
    QDir().mkpath(sweepDir);
    const nlohmann::ordered_json j = dialog.sweepJson(sweepDir);
    QVERIFY(j["name"] == "lr-x-method");
    QCOMPARE(j["grid"]["train.lr"], nlohmann::ordered_json::parse("[0.001,0.003]"));
    QCOMPARE(j["grid"]["allocation.method"],
             nlohmann::ordered_json::parse(R"(["uniform","mola"])"));
    QCOMPARE(j["grid"]["name"], nlohmann::ordered_json::parse(R"(["1","2"])"));
    QCOMPARE(j["seeds"], nlohmann::ordered_json::parse("[0,1,2]"));
    QCOMPARE(j["set"].size(), size_t{2});
    QVERIFY(j["max_steps"] == 3);
    QVERIFY(j["max_parallel"] == 2);
    QVERIFY(j.begin().key() == "name");  // fields and grid rows keep their order in the file
    QVERIFY(j["grid"].begin().key() == "train.lr");
    const QString rel = QString::fromStdString(j["experiment"].get<std::string>());
    QCOMPARE(QFileInfo(QDir(sweepDir).absoluteFilePath(rel)).canonicalFilePath(),
             QFileInfo(m_experiment).canonicalFilePath());

    const QString file = QDir(sweepDir).filePath(QStringLiteral("lr.json"));
    QString error;
    QVERIFY2(dialog.saveFile(file, &error), qPrintable(error));
    SweepDialog reopened(QString(), QDir(m_dir.path()));
    QVERIFY2(reopened.loadFile(file, &error), qPrintable(error));
    QCOMPARE(reopened.grid()->rowCount(), 3);
    QCOMPARE(reopened.seedsEdit()->text(), QStringLiteral("0-2"));
    QCOMPARE(reopened.memberCount(), 24);
    QCOMPARE(reopened.sweepJson(sweepDir), j);
  }

  void badMembersAndRowsAreShown() {
    SweepDialog dialog(QString(), QDir(m_dir.path()));
    dialog.setExperimentPath(m_experiment);
    dialog.clearGrid();
    dialog.addGridRow(QStringLiteral("train.lrr"), QStringLiteral("0.1"));
    QCOMPARE(dialog.memberCount(), -1);
    QVERIFY2(dialog.errorText().contains(QStringLiteral("lrr")), qPrintable(dialog.errorText()));
    QVERIFY(!dialog.submitButton()->isEnabled());
    dialog.clearGrid();
    dialog.addGridRow(QString(), QStringLiteral("1, 2"));
    QVERIFY2(dialog.errorText().contains(QStringLiteral("key is missing")),
             qPrintable(dialog.errorText()));
    dialog.clearGrid();
    dialog.seedsEdit()->setText(QStringLiteral("2-1"));
    QVERIFY(dialog.errorText().contains(QStringLiteral("backwards")));
    dialog.seedsEdit()->setText(QStringLiteral("4,5"));
    QCOMPARE(dialog.memberCount(), 2);
    QVERIFY(!dialog.submitButton()->isEnabled());  // valid, but no backend to submit with
  }

  void pickerListsProfiles() {
    const QString dir = ExecutorPicker::profilesDir();
    QCOMPARE(dir, m_dir.filePath(QStringLiteral("config/apportion/profiles")));
    {
      ExecutorPicker empty;
      QCOMPARE(empty.profileCount(), 0);
      QCOMPARE(empty.combo()->count(), 1);
      QVERIFY(!empty.findChild<QLabel*>()->isHidden());  // the "put profiles here" hint
    }
    QVERIFY(QDir().mkpath(dir));
    writeFile(dir + QStringLiteral("/gpu1.json"),
              R"({"kind":"ssh","host":"gpu1","user":"me","workspace":"/data/me/ws",
                  "max_parallel":2})");
    writeFile(dir + QStringLiteral("/cluster.json"),
              R"({"kind":"slurm","host":"login1","partition":"gpu","gpus_per_task":1,
                  "workspace":"/scratch/ws","max_parallel":4})");
    writeFile(dir + QStringLiteral("/here.json"), R"({"kind":"local","max_parallel":2})");
    writeFile(dir + QStringLiteral("/broken.json"), R"({"kind":"teleport"})");
    ExecutorPicker picker;
    QCOMPARE(picker.profileCount(), 4);
    QCOMPARE(picker.combo()->count(), 5);
    QVERIFY(picker.findChild<QLabel*>()->isHidden());
    QCOMPARE(picker.profilePath(), QString());  // this computer first
    const QStringList texts = [&picker] {
      QStringList t;
      for (int i = 0; i < picker.combo()->count(); ++i) t << picker.combo()->itemText(i);
      return t;
    }();
    QVERIFY2(texts.join(QLatin1Char('|')).contains(QStringLiteral("gpu1 — ssh · me@gpu1")),
             qPrintable(texts.join(QLatin1Char('|'))));
    QVERIFY(texts.join(QLatin1Char('|')).contains(QStringLiteral("cluster — slurm · login1")));
    QVERIFY(texts.join(QLatin1Char('|')).contains(QStringLiteral("broken — unreadable")));
    QVERIFY(!picker.selectProfile(QStringLiteral("broken")));  // listed, not choosable
    QSignalSpy changed(&picker, &ExecutorPicker::profileChanged);
    QVERIFY(picker.selectProfile(QStringLiteral("gpu1")));
    QCOMPARE(changed.size(), 1);
    QCOMPARE(picker.profilePath(), dir + QStringLiteral("/gpu1.json"));
    QCOMPARE(picker.profileName(), QStringLiteral("gpu1"));
    QVERIFY(picker.combo()->toolTip().contains(QStringLiteral("gpu1.json")));
    QVERIFY(picker.selectProfile(dir + QStringLiteral("/here.json")));
    QVERIFY(picker.selectProfile(QString()));
    QCOMPARE(picker.profilePath(), QString());

    // A remembered choice comes back; the sweep dialog passes "local" for this computer.
    picker.setRememberKey(QStringLiteral("test/executor"));
    QVERIFY(picker.selectProfile(QStringLiteral("cluster")));
    ExecutorPicker again;
    again.setRememberKey(QStringLiteral("test/executor"));
    QCOMPARE(again.profileName(), QStringLiteral("cluster"));
    SweepDialog dialog(QString(), QDir(m_dir.path()));
    dialog.executorPicker()->selectProfile(QString());
    QCOMPARE(dialog.profileArgument(), QStringLiteral("local"));
    dialog.executorPicker()->selectProfile(QStringLiteral("here"));
    QCOMPARE(dialog.profileArgument(), dir + QStringLiteral("/here.json"));
  }

  void tableFilterFindsSweepRuns() {
    const QString db = m_dir.filePath(QStringLiteral("ws.sqlite"));
    {
      RunStore store(db.toStdString());
      test::DemoRunSpec member;
      member.name = "lr-sweep train.lr=0.1-s0";
      member.tags = {{"sweep", "sw-1a2b3c4d"},
                     {"sweep/point", "train.lr=0.1"},
                     {"remote/launch", "sw-1a2b3c4d-0"}};
      test::add_demo_run(store, member);
      test::DemoRunSpec plain;
      plain.name = "by-hand";
      test::add_demo_run(store, plain);
      store.flush();
    }
    auto ws = ui::Workspace::open(db);
    ui::RunTableModel model;
    model.setReader(ws->reader());
    ui::RunTableFilter filter;
    filter.setSourceModel(&model);
    filter.setFilterKeyColumn(-1);
    filter.setFilterCaseSensitivity(Qt::CaseInsensitive);
    QCOMPARE(filter.rowCount(), 2);
    filter.setFilterFixedString(QStringLiteral("sw-1a2b"));  // in no shown column, in its tags
    QCOMPARE(filter.rowCount(), 1);
    const QString tip = filter.index(0, 0).data(Qt::ToolTipRole).toString();
    QVERIFY2(tip.contains(QStringLiteral("launch sw-1a2b3c4d-0")), qPrintable(tip));
    QVERIFY2(tip.contains(QStringLiteral("point train.lr=0.1")), qPrintable(tip));
    filter.setFilterFixedString(QStringLiteral("by-hand"));
    QCOMPARE(filter.rowCount(), 1);
    QVERIFY(
        !filter.index(0, 0).data(Qt::ToolTipRole).toString().contains(QStringLiteral("launch")));
  }
};

QTEST_MAIN(TestSweepDialog)
#include "tst_sweep_dialog.moc"
