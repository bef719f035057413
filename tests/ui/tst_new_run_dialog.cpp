// SPDX-License-Identifier: GPL-3.0-or-later
// NewRunDialog: presets load and validate with ap_core, a bad edit shows the ConfigError text
// (starting with the JSON path) and disables Launch, form fields and JSON stay in sync, the
// allocation preview, and Launch writes <workspace>/configs/<name>-<timestamp>.json.
#include <QComboBox>
#include <QDir>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QtTest>
#include <nlohmann/json.hpp>

#include "tests/ui/demo_run.h"
#include "ui/widgets/new_run_dialog.h"

using namespace apportion;

class TestNewRunDialog : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir m_dir;
  QString m_presets;
  QDir m_workspace;

  static bool writeFile(const QString& path, const QByteArray& data) {
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(data) == data.size();
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    m_presets = m_dir.filePath(QStringLiteral("experiments"));
    QDir().mkpath(m_presets);
    m_workspace = QDir(m_dir.filePath(QStringLiteral("ws")));
    QDir().mkpath(m_workspace.absolutePath());
    test::DemoRunSpec mola;
    mola.experiment = "tiny-mola";
    QVERIFY(writeFile(m_presets + QStringLiteral("/tiny_mola.json"),
                      QByteArray::fromStdString(test::demo_config_json(mola))));
    test::DemoRunSpec uniform;
    uniform.experiment = "tiny-uniform";
    uniform.method = "uniform";
    uniform.layers = 2;
    QVERIFY(writeFile(m_presets + QStringLiteral("/tiny_uniform.json"),
                      QByteArray::fromStdString(test::demo_config_json(uniform))));
  }

  void loadsPresetAndPreviewsAllocation() {
    ui::NewRunDialog dialog(m_presets, m_workspace);
    QCOMPARE(dialog.presetCombo()->count(), 2);
    QVERIFY(dialog.selectPreset(QStringLiteral("tiny_mola.json")));
    QVERIFY2(dialog.isValid(), qPrintable(dialog.errorText()));
    QVERIFY(dialog.launchButton()->isEnabled());
    QVERIFY(dialog.errorText().isEmpty());
    QVERIFY2(dialog.previewText().contains(QStringLiteral("2 · 4 · 6 · 8")),
             qPrintable(dialog.previewText()));
    QVERIFY(dialog.previewText().contains(QStringLiteral("trainable")));
    QCOMPARE(dialog.methodCombo()->currentText(), QStringLiteral("mola"));
    QCOMPARE(dialog.rankSpin()->value(), 8);
    QCOMPARE(dialog.stepsSpin()->value(), 40);

    QVERIFY(dialog.selectPreset(QStringLiteral("tiny_uniform.json")));
    QVERIFY2(dialog.isValid(), qPrintable(dialog.errorText()));
    QVERIFY2(dialog.previewText().contains(QStringLiteral("4 · 4")),
             qPrintable(dialog.previewText()));
  }

  void badEditShowsPathAndDisablesLaunch() {
    ui::NewRunDialog dialog(m_presets, m_workspace);
    QVERIFY(dialog.selectPreset(QStringLiteral("tiny_mola.json")));
    QVERIFY(dialog.isValid());
    auto j = nlohmann::json::parse(dialog.configText().toStdString());
    j["adapters"]["r"] = 0;
    dialog.setConfigText(QString::fromStdString(j.dump(2)));
    QVERIFY(!dialog.isValid());
    QVERIFY(!dialog.launchButton()->isEnabled());
    QVERIFY2(dialog.errorText().contains(QStringLiteral("adapters.r")),
             qPrintable(dialog.errorText()));

    j["adapters"]["r"] = 8;
    j["adapters"]["lora_aplha"] = 16;  // a typo must be an error, not a silent default
    dialog.setConfigText(QString::fromStdString(j.dump(2)));
    QVERIFY(!dialog.isValid());
    QVERIFY2(dialog.errorText().contains(QStringLiteral("lora_aplha")),
             qPrintable(dialog.errorText()));

    dialog.setConfigText(QStringLiteral("{\n  \"name\": \"x\",\n  \"adapters\": {\n}"));
    QVERIFY(!dialog.isValid());
    QVERIFY(!dialog.launchButton()->isEnabled());
    QVERIFY2(dialog.errorText().contains(QStringLiteral("JSON syntax")),
             qPrintable(dialog.errorText()));

    dialog.setConfigText(QStringLiteral("[1, 2]"));  // valid JSON, but not a config object
    QVERIFY(!dialog.isValid());
    QVERIFY2(dialog.errorText().contains(QStringLiteral("JSON object")),
             qPrintable(dialog.errorText()));

    QVERIFY(dialog.selectPreset(QStringLiteral("tiny_mola.json")));
    QVERIFY(dialog.launchButton()->isEnabled());
  }

  void formAndJsonStayInSync() {
    ui::NewRunDialog dialog(m_presets, m_workspace);
    QVERIFY(dialog.selectPreset(QStringLiteral("tiny_uniform.json")));
    dialog.topKSpin()->setValue(3);
    auto j = nlohmann::json::parse(dialog.configText().toStdString());
    QCOMPARE(j["adapters"]["top_k"].get<int>(), 3);
    dialog.stepsSpin()->setValue(123);
    j = nlohmann::json::parse(dialog.configText().toStdString());
    QCOMPARE(j["train"]["steps"].get<int>(), 123);
    // Editing the JSON moves the form.
    j["adapters"]["r"] = 16;
    dialog.setConfigText(QString::fromStdString(j.dump(2)));
    QCOMPARE(dialog.rankSpin()->value(), 16);
    // Switching the method rewrites adapters/allocation.
    dialog.methodCombo()->setCurrentText(QStringLiteral("lora"));
    j = nlohmann::json::parse(dialog.configText().toStdString());
    QCOMPARE(j["adapters"]["method"].get<std::string>(), std::string("lora"));
    QVERIFY2(dialog.isValid(), qPrintable(dialog.errorText()));
    QVERIFY2(dialog.previewText().contains(QStringLiteral("LoRA")),
             qPrintable(dialog.previewText()));
  }

  void launchWritesConfig() {
    ui::NewRunDialog dialog(m_presets, m_workspace);
    QVERIFY(dialog.selectPreset(QStringLiteral("tiny_mola.json")));
    QSignalSpy spy(&dialog, &ui::NewRunDialog::launchRequested);
    dialog.launch();
    QCOMPARE(spy.count(), 1);
    const QString path = spy.at(0).at(0).toString();
    QVERIFY(QFileInfo::exists(path));
    QVERIFY(path.startsWith(m_workspace.filePath(QStringLiteral("configs/tiny-mola-"))));
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(QString::fromUtf8(f.readAll()), dialog.configText());
  }

  void repositoryPresetsAreValid() {
    const QString dir = qEnvironmentVariable("AP_EXPERIMENTS");
    const QStringList files = QDir(dir).entryList({QStringLiteral("*.json")}, QDir::Files);
    if (dir.isEmpty() || files.isEmpty()) QSKIP("no presets in AP_EXPERIMENTS");
    ui::NewRunDialog dialog(dir, m_workspace);
    for (const QString& f : files) {
      QVERIFY(dialog.selectPreset(f));
      QVERIFY2(dialog.isValid(), qPrintable(f + QStringLiteral(": ") + dialog.errorText()));
    }
  }
};

QTEST_MAIN(TestNewRunDialog)
#include "tst_new_run_dialog.moc"
