// SPDX-License-Identifier: GPL-3.0-or-later
// NewRunDialog: presets load and validate with ap_core, a bad edit shows the ConfigError text
// (starting with the JSON path) and disables Launch, form fields and JSON stay in sync, the
// allocation preview, and Launch writes <workspace>/configs/<name>-<timestamp>.json. Every
// method of the combo (lora … static_frequency) writes its allocation.method and sub-object,
// shows its own controls and previews the right count (GuiLoMo supernet, DR-LoRA budget).
#include <QComboBox>
#include <QDir>
#include <QGroupBox>
#include <QLocale>
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
    // A Mixtral-layout backbone folder: 4 layers × 8 routed experts of width 64.
    QDir().mkpath(m_workspace.filePath(QStringLiteral("tiny-mixtral")));
    QVERIFY(writeFile(m_workspace.filePath(QStringLiteral("tiny-mixtral/config.json")),
                      R"({"architectures": ["MixtralForCausalLM"], "model_type": "mixtral",
                          "num_hidden_layers": 4, "hidden_size": 32, "intermediate_size": 64,
                          "num_attention_heads": 4, "num_key_value_heads": 2,
                          "num_local_experts": 8, "num_experts_per_tok": 2,
                          "vocab_size": 260})"));
  }

  /// The tiny_mola preset, optionally on the Mixtral folder, with the given target modules.
  void loadMola(ui::NewRunDialog& dialog, bool moeBackbone, bool onlyMlp = false) {
    QVERIFY(dialog.selectPreset(QStringLiteral("tiny_mola.json")));
    auto j = nlohmann::json::parse(dialog.configText().toStdString());
    if (moeBackbone) {
      j["backbone"] = {{"path", "tiny-mixtral"}};
      if (onlyMlp) j["adapters"]["target_modules"] = {"gate_proj", "up_proj", "down_proj"};
    }
    dialog.setConfigText(QString::fromStdString(j.dump(2)));
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

  void methodsWriteTheirJson_data() {
    QTest::addColumn<QString>("method");
    QTest::addColumn<bool>("moeBackbone");
    QTest::addColumn<bool>("guilomoControls");
    QTest::addColumn<bool>("drControls");
    QTest::addColumn<bool>("rInitControl");
    QTest::addColumn<QString>("adaptersMethod");
    QTest::addColumn<QString>("previewNeedle");
    QTest::newRow("lora") << "lora" << false << false << false << false << "lora"
                          << "Plain LoRA";
    QTest::newRow("uniform") << "uniform" << false << false << false << false << "moe_lora"
                             << "4 · 4 · 4 · 4";
    QTest::newRow("mola") << "mola" << false << false << false << false << "moe_lora"
                          << "2 · 4 · 6 · 8";
    QTest::newRow("guilomo") << "guilomo" << false << true << false << false << "moe_lora"
                             << "search decides the final allocation";
    QTest::newRow("drlora") << "drlora" << true << false << true << true << "moe_lora"
                            << "4 MoE layers × 8 experts × 8 = 256 rank units";
    QTest::newRow("static_frequency")
        << "static_frequency" << true << false << true << false << "moe_lora"
        << "Static-frequency baseline";
  }

  void methodsWriteTheirJson() {
    QFETCH(QString, method);
    QFETCH(bool, moeBackbone);
    QFETCH(bool, guilomoControls);
    QFETCH(bool, drControls);
    QFETCH(bool, rInitControl);
    QFETCH(QString, adaptersMethod);
    QFETCH(QString, previewNeedle);
    ui::NewRunDialog dialog(m_presets, m_workspace);
    loadMola(dialog, moeBackbone);
    const int index = dialog.methodCombo()->findText(method);
    QVERIFY(index >= 0);
    QVERIFY(!dialog.methodCombo()->itemData(index, Qt::ToolTipRole).toString().isEmpty());
    dialog.methodCombo()->setCurrentIndex(index);
    QVERIFY2(dialog.isValid(), qPrintable(dialog.errorText()));
    QVERIFY2(dialog.previewText().contains(previewNeedle), qPrintable(dialog.previewText()));
    QCOMPARE(dialog.guilomoBox()->isVisibleTo(&dialog), guilomoControls);
    QCOMPARE(dialog.drloraBox()->isVisibleTo(&dialog), drControls);
    QCOMPARE(dialog.rInitSpin()->isVisibleTo(&dialog), rInitControl);
    const auto j = nlohmann::json::parse(dialog.configText().toStdString());
    QCOMPARE(QString::fromStdString(j["adapters"]["method"].get<std::string>()), adaptersMethod);
    const std::string expectedAllocation = method == QLatin1String("lora") ? "mola"  // untouched
                                                                           : method.toStdString();
    QCOMPARE(j["allocation"]["method"].get<std::string>(), expectedAllocation);
    // Only the chosen method's sub-object is written.
    QCOMPARE(j["allocation"].contains("guilomo"), method == QLatin1String("guilomo"));
    QCOMPARE(j["allocation"].contains("drlora"), drControls);
    QCOMPARE(j["allocation"].contains("preset"),
             method == QLatin1String("mola") || method == QLatin1String("lora"));
    if (method == QLatin1String("guilomo")) {
      const auto& g = j["allocation"]["guilomo"];
      QCOMPARE(g["stage"].get<std::string>(), std::string("pipeline"));
      QCOMPARE(g["architect_mode"].get<std::string>(), std::string("second_order"));
      dialog.guilomoStageCombo()->setCurrentText(QStringLiteral("search"));
      dialog.architectModeCombo()->setCurrentText(QStringLiteral("first_order"));
      dialog.splitCombo()->setCurrentText(QStringLiteral("alternate"));
      dialog.readoutCombo()->setCurrentText(QStringLiteral("argmax"));
      dialog.searchStepsSpin()->setValue(25);
      const auto k = nlohmann::json::parse(dialog.configText().toStdString());
      const auto& h = k["allocation"]["guilomo"];
      QCOMPARE(h["stage"].get<std::string>(), std::string("search"));
      QCOMPARE(h["architect_mode"].get<std::string>(), std::string("first_order"));
      QCOMPARE(h["split"].get<std::string>(), std::string("alternate"));
      QCOMPARE(h["readout"].get<std::string>(), std::string("argmax"));
      QCOMPARE(h["search_steps"].get<int>(), 25);
      QVERIFY2(dialog.isValid(), qPrintable(dialog.errorText()));
      // Supernet: 8 experts of rank 8 on 7 modules of 4 layers (hidden 32, kv 16, MLP 64):
      // Σ(in+out) = 512, Σ in = 256 per layer → 4 · (64·512 + 8·256) = 139,264.
      QVERIFY2(dialog.previewText().contains(QLocale::system().toString(139264LL)),
               qPrintable(dialog.previewText()));
      QVERIFY2(dialog.previewText().contains(QStringLiteral("25-step search")),
               qPrintable(dialog.previewText()));
    }
    if (drControls) {
      const auto& d = j["allocation"]["drlora"];
      QCOMPARE(d["r_target"].get<int>(), 8);
      QCOMPARE(d["r_max"].get<int>(), 32);
      QCOMPARE(d.contains("r_init"), rInitControl);
      dialog.rTargetSpin()->setValue(6);
      dialog.rMaxSpin()->setValue(16);
      const auto k = nlohmann::json::parse(dialog.configText().toStdString());
      QCOMPARE(k["allocation"]["drlora"]["r_target"].get<int>(), 6);
      QCOMPARE(k["allocation"]["drlora"]["r_max"].get<int>(), 16);
      QVERIFY2(dialog.previewText().contains(QStringLiteral("× 6 = 192 rank units")),
               qPrintable(dialog.previewText()));
      // 192 rank units × 3 projections × (32 + 64) = 55,296 parameters at the budget.
      QVERIFY2(dialog.previewText().contains(QLocale::system().toString(55296LL)),
               qPrintable(dialog.previewText()));
      // Switching away drops the DR-LoRA settings again.
      dialog.methodCombo()->setCurrentText(QStringLiteral("uniform"));
      const auto u = nlohmann::json::parse(dialog.configText().toStdString());
      QVERIFY(!u["allocation"].contains("drlora"));
      QCOMPARE(u["allocation"]["method"].get<std::string>(), std::string("uniform"));
    }
  }

  void routedMethodsNeedAMoeBackbone() {
    ui::NewRunDialog dialog(m_presets, m_workspace);
    loadMola(dialog, /*moeBackbone=*/false);
    dialog.methodCombo()->setCurrentText(QStringLiteral("drlora"));
    QVERIFY(!dialog.isValid());
    QVERIFY2(dialog.errorText().contains(QStringLiteral("dense")), qPrintable(dialog.errorText()));
    // Syncing from JSON picks drlora even with adapters.method lora (the experts get LoRA).
    loadMola(dialog, /*moeBackbone=*/true, /*onlyMlp=*/true);
    auto j = nlohmann::json::parse(dialog.configText().toStdString());
    j["adapters"]["method"] = "lora";
    j["allocation"] = {{"method", "drlora"}, {"drlora", {{"r_init", 4}, {"r_target", 8}}}};
    dialog.setConfigText(QString::fromStdString(j.dump(2)));
    QCOMPARE(dialog.methodCombo()->currentText(), QStringLiteral("drlora"));
    QCOMPARE(dialog.rInitSpin()->value(), 4);
    QVERIFY2(dialog.isValid(), qPrintable(dialog.errorText()));
    QVERIFY2(!dialog.previewText().contains(QStringLiteral("dense adapters")),
             qPrintable(dialog.previewText()));  // only the routed experts are targets
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
