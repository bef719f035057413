// SPDX-License-Identifier: GPL-3.0-or-later
// NewRunDialog: presets load and validate with ap_core, a bad edit shows the ConfigError text
// (starting with the JSON path) and disables Launch, form fields and JSON stay in sync, the
// allocation preview, and Launch writes <workspace>/configs/<name>-<timestamp>.json. Every
// method of the combo (lora … static_frequency) writes its allocation.method and sub-object,
// shows its own controls and previews the right count (GuiLoMo supernet, DR-LoRA budget); every
// registered method is listed and its fields() become a settings box that patches
// allocation.<section>.<key>.
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QGroupBox>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QtTest>
#include <nlohmann/json.hpp>

#include "core/methods/method_registry.h"
#include "tests/ui/demo_run.h"
#include "ui/widgets/new_run_dialog.h"

using namespace apportion;

namespace {

/// The widget of field `key` in method `method`'s settings box, as W (nullptr when absent).
template <typename W>
W* field(const ui::NewRunDialog& dialog, const char* method, const char* key) {
  return qobject_cast<W*>(
      dialog.methodFieldWidget(QString::fromUtf8(method), QString::fromUtf8(key)));
}

bool boxVisible(const ui::NewRunDialog& dialog, const char* method) {
  const QGroupBox* box = dialog.methodBox(QString::fromUtf8(method));
  return box && box->isVisibleTo(&dialog);
}

}  // namespace

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
    const std::string name = method.toStdString();
    QCOMPARE(boxVisible(dialog, "guilomo"), guilomoControls);
    QCOMPARE(boxVisible(dialog, "drlora") || boxVisible(dialog, "static_frequency"), drControls);
    QCOMPARE(boxVisible(dialog, name.c_str()) && field<QSpinBox>(dialog, name.c_str(), "r_init"),
             rInitControl);
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
      field<QComboBox>(dialog, "guilomo", "stage")->setCurrentText(QStringLiteral("search"));
      field<QComboBox>(dialog, "guilomo", "architect_mode")
          ->setCurrentText(QStringLiteral("first_order"));
      field<QComboBox>(dialog, "guilomo", "split")->setCurrentText(QStringLiteral("alternate"));
      field<QComboBox>(dialog, "guilomo", "readout")->setCurrentText(QStringLiteral("argmax"));
      field<QSpinBox>(dialog, "guilomo", "search_steps")->setValue(25);
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
      QVERIFY2(dialog.previewText().contains(QString::fromStdString(format_count(139264))),
               qPrintable(dialog.previewText()));
      QVERIFY2(dialog.previewText().contains(QStringLiteral("25-step search")),
               qPrintable(dialog.previewText()));
      // For looking at it: AP_SCREENSHOT_DIR=/tmp ./tst_new_run_dialog writes
      // new_run_guilomo.png.
      const QString shots = qEnvironmentVariable("AP_SCREENSHOT_DIR");
      if (!shots.isEmpty()) {
        dialog.show();
        QTest::qWait(200);
        QVERIFY(dialog.grab().save(shots + QStringLiteral("/new_run_guilomo.png")));
      }
    }
    if (drControls) {
      const auto& d = j["allocation"]["drlora"];
      QCOMPARE(d["r_target"].get<int>(), 8);
      QCOMPARE(d["r_max"].get<int>(), 32);
      QCOMPARE(d.contains("r_init"), rInitControl);
      field<QSpinBox>(dialog, name.c_str(), "r_target")->setValue(6);
      field<QSpinBox>(dialog, name.c_str(), "r_max")->setValue(16);
      const auto k = nlohmann::json::parse(dialog.configText().toStdString());
      QCOMPARE(k["allocation"]["drlora"]["r_target"].get<int>(), 6);
      QCOMPARE(k["allocation"]["drlora"]["r_max"].get<int>(), 16);
      QVERIFY2(dialog.previewText().contains(QStringLiteral("× 6 = 192 rank units")),
               qPrintable(dialog.previewText()));
      // 192 rank units × 3 projections × (32 + 64) = 55,296 parameters at the budget.
      QVERIFY2(dialog.previewText().contains(QString::fromStdString(format_count(55296))),
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
    QCOMPARE(field<QSpinBox>(dialog, "drlora", "r_init")->value(), 4);
    QVERIFY2(dialog.isValid(), qPrintable(dialog.errorText()));
    QVERIFY2(!dialog.previewText().contains(QStringLiteral("dense adapters")),
             qPrintable(dialog.previewText()));  // only the routed experts are targets
  }

  void everyMethodIsListedWithItsFields() {
    ui::NewRunDialog dialog(m_presets, m_workspace);
    loadMola(dialog, /*moeBackbone=*/true);
    QCOMPARE(dialog.methodCombo()->count(), static_cast<int>(methods().size()));
    for (const Method* m : methods()) {
      const QString name = QString::fromStdString(m->name());
      const int index = dialog.methodCombo()->findText(name);
      QVERIFY2(index >= 0, qPrintable(name));
      QCOMPARE(dialog.methodCombo()->itemData(index, Qt::ToolTipRole).toString(),
               QString::fromStdString(m->description()));
      const std::vector<MethodField> fields = m->fields();
      QGroupBox* box = dialog.methodBox(name);
      QCOMPARE(box != nullptr, !fields.empty());
      if (fields.empty()) continue;
      dialog.methodCombo()->setCurrentIndex(index);
      QVERIFY2(box->isVisibleTo(&dialog), qPrintable(name));
      QCOMPARE(box->title(), QString::fromStdString(m->label()));
      int editors = 0;
      for (QWidget* w : box->findChildren<QWidget*>(Qt::FindDirectChildrenOnly))
        if (qobject_cast<QAbstractSpinBox*>(w) || qobject_cast<QComboBox*>(w) ||
            qobject_cast<QLineEdit*>(w))
          ++editors;
      QCOMPARE(editors, static_cast<int>(fields.size()));
      for (const Method* other : methods())
        if (other != m && dialog.methodBox(QString::fromStdString(other->name())))
          QVERIFY(!dialog.methodBox(QString::fromStdString(other->name()))->isVisibleTo(&dialog));
      // Each field edit lands at allocation.<section>.<key>.
      for (const MethodField& f : fields) {
        QWidget* w = dialog.methodFieldWidget(name, QString::fromStdString(f.key));
        QVERIFY2(w && w->parentWidget() == box,
                 qPrintable(name + QLatin1Char('.') + QString::fromStdString(f.key)));
        nlohmann::json expected;
        if (auto* spin = qobject_cast<QSpinBox*>(w)) {
          spin->setValue(spin->value() < spin->maximum() ? spin->value() + 1 : spin->value() - 1);
          expected = spin->value();
        } else if (auto* dspin = qobject_cast<QDoubleSpinBox*>(w)) {
          dspin->setValue(dspin->value() < dspin->maximum() ? dspin->value() + dspin->singleStep()
                                                            : dspin->value() - dspin->singleStep());
          expected = dspin->value();
        } else if (auto* combo = qobject_cast<QComboBox*>(w)) {
          QVERIFY(combo->count() > 1);
          combo->setCurrentIndex((combo->currentIndex() + 1) % combo->count());
          expected = combo->currentText().toStdString();
        } else if (auto* edit = qobject_cast<QLineEdit*>(w)) {
          edit->setText(edit->text() + QStringLiteral("x"));
          expected = edit->text().toStdString();
        } else {
          QFAIL("unexpected field widget");
        }
        auto j = nlohmann::json::parse(dialog.configText().toStdString());
        const nlohmann::json at = j["allocation"][m->section()][f.key];
        QVERIFY2(at == expected, qPrintable(name + QLatin1Char('.') +
                                            QString::fromStdString(f.key + ": " + at.dump())));
        QCOMPARE(dialog.methodCombo()->currentText(), name);  // the edit keeps the method
      }
    }
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
