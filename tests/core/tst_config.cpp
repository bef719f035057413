// SPDX-License-Identifier: GPL-3.0-or-later
// Config parsing tests: data-driven over tests/data/configs/<case>/{config.json, expected.txt}
// (a valid parse summary or the expected error substring), plus overrides and flattening.
#include <QDir>
#include <QtTest/QtTest>

#include "core/allocation/expert_allocation.h"
#include "core/common/error.h"
#include "core/config/experiment_config.h"

using namespace apportion;

class TestConfig : public QObject {
  Q_OBJECT

 private:
  static std::string summary(const ExperimentConfig& c) {
    const auto& a = *c.adapters;
    std::string s = "OK " + a.method + " " + c.allocation.method +
                    " top_k=" + std::to_string(a.top_k) + " r=" + std::to_string(a.r) +
                    " steps=" + std::to_string(c.train.steps);
    if (c.allocation.method == "guilomo") {
      const auto& g = c.allocation.guilomo;
      s += " guilomo(stage=" + g.stage + " mode=" + g.architect_mode + " split=" + g.split +
           " readout=" + g.readout + " scaling=" + g.scaling + " n_max=" + std::to_string(g.n_max) +
           " r_max=" + std::to_string(g.r_max) + " alpha_lr=" + nlohmann::json(g.alpha_lr).dump() +
           ")";
    }
    if (c.allocation.method == "drlora" || c.allocation.method == "static_frequency") {
      const auto& d = c.allocation.drlora;
      s += " drlora(r_init=" + std::to_string(d.r_init) +
           " r_target=" + std::to_string(d.r_target) + " r_max=" + std::to_string(d.r_max) +
           " delta_r=" + std::to_string(d.delta_r) + " interval=" + std::to_string(d.interval) +
           " saliency=" + d.saliency + ")";
    }
    return s;
  }
  static QString dataDir() {
    return qEnvironmentVariable("AP_TEST_DATA", QStringLiteral(AP_SOURCE_DIR "/tests/data")) +
           QStringLiteral("/configs");
  }

 private Q_SLOTS:
  void cases_data() {
    QTest::addColumn<QString>("dir");
    const QDir root(dataDir());
    QVERIFY2(root.exists(), qPrintable(QStringLiteral("missing ") + root.path()));
    const auto entries = root.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
    QVERIFY(entries.size() >= 10);
    for (const auto& name : entries) QTest::newRow(qPrintable(name)) << root.filePath(name);
  }

  void cases() {
    QFETCH(QString, dir);
    QFile expectedFile(dir + QStringLiteral("/expected.txt"));
    QVERIFY(expectedFile.open(QIODevice::ReadOnly));
    const std::string expected = QString::fromUtf8(expectedFile.readAll()).trimmed().toStdString();
    const std::string path = (dir + QStringLiteral("/config.json")).toStdString();
    std::string actual;
    try {
      actual = summary(ExperimentConfig::from_json(load_json_file(path)));
    } catch (const ConfigError& e) {
      actual = e.what();
    }
    if (expected.rfind("OK ", 0) == 0) {
      QCOMPARE(QString::fromStdString(actual), QString::fromStdString(expected));
    } else {
      QVERIFY2(
          actual.find(expected) != std::string::npos,
          qPrintable(QStringLiteral("expected error containing '%1', got '%2'")
                         .arg(QString::fromStdString(expected), QString::fromStdString(actual))));
    }
  }

  void syntaxErrorNamesFileAndLine() {
    const std::string path =
        (dataDir() + QStringLiteral("/syntax_error/config.json")).toStdString();
    try {
      load_json_file(path);
      QFAIL("no error");
    } catch (const ConfigError& e) {
      const std::string msg = e.what();
      QVERIFY2(msg.find(path + ":1:") == 0, e.what());
    }
  }

  void missingFileIsClear() {
    try {
      load_json_file("/nonexistent/x.json");
      QFAIL("no error");
    } catch (const ConfigError& e) {
      QVERIFY(std::string(e.what()).find("/nonexistent/x.json: cannot open") == 0);
    }
  }

  void overridesPatchBeforeParsing() {
    nlohmann::json j = nlohmann::json::parse(
        R"({"backbone": {"path": "b"}, "adapters": {"top_k": 2}, "allocation": {"method": "mola", "preset": "8642"}})");
    apply_overrides(j, {"train.lr=3e-4", "adapters.top_k=1", "allocation.preset=2468",
                        "train.schedule=linear"});
    const auto c = ExperimentConfig::from_json(j);
    QCOMPARE(c.train.lr, 3e-4);
    QCOMPARE(c.adapters->top_k, 1);
    QCOMPARE(QString::fromStdString(c.allocation.preset), QStringLiteral("2468"));
    QCOMPARE(QString::fromStdString(c.train.schedule), QStringLiteral("linear"));
  }

  void overrideErrors() {
    nlohmann::json j = {{"backbone", {{"path", "b"}}}};
    QVERIFY_THROWS_EXCEPTION(ConfigError, apply_overrides(j, {"novalue"}));
    QVERIFY_THROWS_EXCEPTION(ConfigError, apply_overrides(j, {"backbone.path.x=1"}));
    apply_overrides(j, {"adapters.top_k=\"two\""});
    try {
      ExperimentConfig::from_json(j);
      QFAIL("no error");
    } catch (const ConfigError& e) {
      QVERIFY2(std::string(e.what()).find("adapters.top_k: must be an integer") == 0, e.what());
    }
  }

  void roundTripThroughToJson() {
    nlohmann::json j = nlohmann::json::parse(
        R"({"name": "x", "backbone": {"path": "b"}, "adapters": {"method": "moe_lora", "num_experts": 6, "top_k": 3, "balance": {"coef": 0.01, "scope": "module"}}, "seed": 5})");
    const auto c = ExperimentConfig::from_json(j);
    const auto c2 = ExperimentConfig::from_json(c.to_json());
    QCOMPARE(c2.to_json().dump(), c.to_json().dump());
    QCOMPARE(c2.adapters->num_experts, 6);
    QCOMPARE(c2.adapters->balance.coef, 0.01);
    QCOMPARE(c2.seed, uint64_t{5});
  }

  void methodSectionsRoundTrip() {
    nlohmann::json j = nlohmann::json::parse(
        R"({"backbone": {"path": "b"}, "adapters": {"method": "moe_lora"}, "allocation": {"method": "guilomo", "guilomo": {"n_max": 6, "r_max": 4, "readout": "budget_matched", "budget_parameters": 12345, "hvp_same_noise": false, "allocation_file": "a.json"}}})");
    const auto c = ExperimentConfig::from_json(j);
    const auto c2 = ExperimentConfig::from_json(c.to_json());
    QCOMPARE(c2.to_json().dump(), c.to_json().dump());
    QCOMPARE(c2.allocation.guilomo.n_max, 6);
    QCOMPARE(c2.allocation.guilomo.budget_parameters, uint64_t{12345});
    QCOMPARE(c2.allocation.guilomo.hvp_same_noise, false);
    QCOMPARE(QString::fromStdString(c2.allocation.guilomo.allocation_file),
             QStringLiteral("a.json"));
    j["allocation"] = nlohmann::json::parse(
        R"({"method": "drlora", "drlora": {"r_init": 1, "r_target": 4, "r_max": 16, "gamma": 0.25}})");
    const auto d = ExperimentConfig::from_json(j);
    const auto d2 = ExperimentConfig::from_json(d.to_json());
    QCOMPARE(d2.to_json().dump(), d.to_json().dump());
    QCOMPARE(d2.allocation.drlora.r_max, 16);
    QCOMPARE(d2.allocation.drlora.gamma, 0.25);
    QVERIFY(!d.to_json()["allocation"].contains("guilomo"));  // only the method's own section
  }

  void flattenGivesDottedParams() {
    const auto flat =
        flatten_json(nlohmann::json::parse(R"({"a": {"b": 1, "c": "s", "d": [1,2]}})"));
    QCOMPARE(flat.size(), size_t{3});
    QCOMPARE(QString::fromStdString(flat.at("a.b")), QStringLiteral("1"));
    QCOMPARE(QString::fromStdString(flat.at("a.c")), QStringLiteral("s"));
    QCOMPARE(QString::fromStdString(flat.at("a.d")), QStringLiteral("[1,2]"));
  }

  void layersToTransformParsesAndRoundTrips() {
    nlohmann::json j = nlohmann::json::parse(
        R"({"backbone": {"config": {"num_hidden_layers": 4}}, "adapters": {"method": "lora", "layers_to_transform": [2, 3]}})");
    const auto c = ExperimentConfig::from_json(j);
    QCOMPARE(c.adapters->layers_to_transform, (std::vector<int>{2, 3}));
    QVERIFY(!c.adapters->adapts_layer(1));
    QVERIFY(c.adapters->adapts_layer(3));
    const auto out = c.to_json();
    QCOMPARE(out["adapters"]["layers_to_transform"].dump(), std::string("[2,3]"));
    QCOMPARE(ExperimentConfig::from_json(out).to_json().dump(), out.dump());
    // Absent: every layer, and to_json leaves the key out (an empty list would not parse).
    j["adapters"].erase("layers_to_transform");
    const auto all = ExperimentConfig::from_json(j);
    QVERIFY(all.adapters->adapts_layer(0) && all.adapters->adapts_layer(3));
    QVERIFY(!all.to_json()["adapters"].contains("layers_to_transform"));
  }

  void layersToTransformErrors() {
    const auto error = [](const std::string& adapters, const std::string& extra = "") {
      try {
        ExperimentConfig::from_json(nlohmann::json::parse(
            R"({"backbone": {"config": {"num_hidden_layers": 4}}, "adapters": )" + adapters +
            extra + "}"));
      } catch (const ConfigError& e) {
        return std::string(e.what());
      }
      return std::string("<no error>");
    };
    const auto expect = [](const std::string& actual, const std::string& expected) {
      QVERIFY2(actual.find(expected) == 0, (actual + "\n  expected: " + expected).c_str());
    };
    expect(error(R"({"layers_to_transform": [0, 1, 7]})"),
           "adapters.layers_to_transform[2]: layer 7 out of range (the backbone has 4 layers)");
    expect(error(R"({"layers_to_transform": [1, 0, 1]})"),
           "adapters.layers_to_transform[2]: layer 1 listed twice");
    expect(error(R"({"layers_to_transform": []})"),
           "adapters.layers_to_transform: must list at least one layer; omit the key");
    expect(error(R"({"layers_to_transform": [-1]})"),
           "adapters.layers_to_transform[0]: layer -1 out of range");
    expect(error(R"({"layers_to_transform": [0, "1"]})"),
           "adapters.layers_to_transform[1]: must be an integer, got string");
    expect(error(R"({"layers_to_transform": 2})"),
           "adapters.layers_to_transform: must be a list of decoder-layer indices, got integer");
    for (const char* method : {"guilomo", "drlora", "static_frequency"}) {
      expect(error(R"({"layers_to_transform": [0]})",
                   std::string(R"(, "allocation": {"method": ")") + method + "\"}"),
             std::string("adapters.layers_to_transform: not supported with allocation.method \"") +
                 method + "\"");
    }
    // A model folder: the layer count is known when the model is built (same message).
    const auto folder = ExperimentConfig::from_json(nlohmann::json::parse(
        R"({"backbone": {"path": "b"}, "adapters": {"method": "moe_lora", "num_experts": 2, "top_k": 1, "layers_to_transform": [1, 5]}})"));
    ModelShape shape;
    shape.num_layers = 4;
    shape.hidden_size = 8;
    shape.intermediate_size = 16;
    shape.num_attention_heads = 2;
    shape.num_key_value_heads = 2;
    try {
      plan_allocation(folder, shape);
      QFAIL("no error");
    } catch (const ConfigError& e) {
      expect(e.what(),
             "adapters.layers_to_transform[1]: layer 5 out of range (the backbone has 4 layers)");
    }
    // In range: layers left out get no experts and top-k 0.
    shape.num_layers = 6;
    const auto a = plan_allocation(folder, shape);
    QCOMPARE(a.ranks.size(), size_t{6});
    for (int l = 0; l < 6; ++l) {
      const bool listed = l == 1 || l == 5;
      QCOMPARE(a.experts(l), listed ? 2 : 0);
      QCOMPARE(a.top_k[static_cast<size_t>(l)], listed ? 1 : 0);
    }
  }
};

QTEST_APPLESS_MAIN(TestConfig)
#include "tst_config.moc"
