// SPDX-License-Identifier: GPL-3.0-or-later
// GuiLoMo readout tests (torch-free): data-driven GSV → allocation cases from
// tests/data/guilomo/readout_*.json, the reference expert.json / rank.json layout (golden files,
// round trips, malformed files from reference_errors.json), our own layout, module paths,
// parameter counts and the budget-matched readout on a hand-worked example.
#include <QDir>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>

#include "core/allocation/guilomo_allocation_io.h"
#include "core/allocation/guilomo_readout.h"
#include "core/common/error.h"
#include "core/config/experiment_config.h"

using namespace apportion;

namespace {

QString data_dir() {
  return qEnvironmentVariable("AP_TEST_DATA", QStringLiteral(AP_SOURCE_DIR "/tests/data")) +
         QStringLiteral("/guilomo");
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "<no throw>";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

/// A JSON array of numbers (null → NaN) as floats.
std::vector<float> floats(const nlohmann::json& j) {
  std::vector<float> out;
  for (const auto& v : j) {
    out.push_back(v.is_null() ? std::numeric_limits<float>::quiet_NaN() : v.get<float>());
  }
  return out;
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

/// hidden 8, intermediate 16: q_proj (in 8, out 8), down_proj (in 16, out 8).
ModelShape tiny_shape() {
  ModelShape s;
  s.num_layers = 2;
  s.hidden_size = 8;
  s.intermediate_size = 16;
  s.num_attention_heads = 2;
  s.num_key_value_heads = 2;
  return s;
}

/// Module A: layer 0 q_proj, N = 2, ranks {4, 2}; module B: layer 0 down_proj, N = 3,
/// ranks {1, 3, 8} (slot 3 unused).
GuiLoMoAllocation tiny_allocation() {
  GuiLoMoAllocation a;
  a.n_max = 4;
  a.r_max = 8;
  a.top_k = 2;
  a.modules.push_back({"model.layers.0.self_attn.q_proj", 0, "q_proj", 2, {4, 2, 7, 7}});
  a.modules.push_back({"model.layers.0.mlp.down_proj", 0, "down_proj", 3, {1, 3, 8, 5}});
  return a;
}

}  // namespace

class TestGuiLoMoReadout : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  // Catches: a wrong argmax (last instead of first tie), a missing +1, the min-2 / top-k floor
  // on the expert count not applied, unvalidated sizes or NaNs.
  void readout_data() {
    QTest::addColumn<QString>("file");
    const QDir dir(data_dir());
    const auto files = dir.entryList({QStringLiteral("readout_*.json")}, QDir::Files, QDir::Name);
    QVERIFY2(files.size() >= 8, qPrintable(QStringLiteral("few cases in ") + dir.path()));
    for (const auto& f : files) QTest::newRow(qPrintable(f)) << dir.filePath(f);
  }

  void readout() {
    QFETCH(QString, file);
    const auto j = load_json_file(file.toStdString());
    GuiLoMoReadoutOptions o;
    o.n_max = j["options"]["n_max"].get<int>();
    o.r_max = j["options"]["r_max"].get<int>();
    o.top_k = j["options"]["top_k"].get<int>();
    o.min_experts = j["options"]["min_experts"].get<int>();
    std::vector<GsvModuleValues> values;
    for (const auto& m : j["modules"]) {
      GsvModuleValues v;
      v.path = m["path"].get<std::string>();
      v.expert = floats(m["expert"]);
      for (const auto& r : m["rank"]) v.rank.push_back(floats(r));
      values.push_back(v);
    }
    if (j.contains("expected_error")) {
      const auto err = error_of([&] { read_allocation(values, o); });
      QVERIFY2(contains(err, j["expected_error"].get<std::string>()), err.c_str());
      return;
    }
    const auto a = read_allocation(values, o);
    QCOMPARE(a.modules.size(), values.size());
    for (const auto& m : j["modules"]) {
      const auto* found = a.find(m["path"].get<std::string>());
      QVERIFY(found != nullptr);
      QCOMPARE(found->experts, m["expected_experts"].get<int>());
      QCOMPARE(found->ranks, m["expected_ranks"].get<std::vector<int>>());
      QCOMPARE(found->layer, parse_module_path(found->path).first);
    }
  }

  // Catches: wrong key layout (infix, slot numbering, prefix), lost slots, wrong sort order
  // (layer 10 before layer 2), and any asymmetry between writer and reader.
  void reference_layout_round_trip() {
    const std::string dir = (data_dir() + QStringLiteral("/reference_layout")).toStdString();
    const GuiLoMoReadoutOptions o;  // 8 × 8, top-2: the reference setting
    const auto a = load_reference_files(dir + "/expert.json", dir + "/rank.json", o);
    QCOMPARE(allocation_to_json(a), load_json_file(dir + "/expected_allocation.json"));
    QCOMPARE(a.modules.front().path, std::string("model.layers.2.self_attn.q_proj"));
    QCOMPARE(a.modules.back().path, std::string("model.layers.10.mlp.down_proj"));
    QCOMPARE(a.modules[1].used_ranks(), (std::vector<int>{1, 1, 2, 8, 4, 6}));
    // Writing the reference layout gives back the original files (as JSON values).
    const auto ref = to_reference_json(a);
    QCOMPARE(ref.expert, load_json_file(dir + "/expert.json"));
    QCOMPARE(ref.rank, load_json_file(dir + "/rank.json"));
    // Through files: reference pair and our layout.
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const std::string out = tmp.path().toStdString();
    save_reference_files(a, out);
    const auto b = load_reference_files(out + "/expert.json", out + "/rank.json", o);
    QCOMPARE(allocation_to_json(b), allocation_to_json(a));
    save_allocation(a, out + "/allocation.json");
    QCOMPARE(allocation_to_json(load_allocation(out + "/allocation.json")), allocation_to_json(a));
  }

  // Unused slots the reference file leaves out (rank 0) survive both layouts.
  void partial_slots_round_trip() {
    const nlohmann::json expert = {{"model.layers.0.mlp.up_proj", 2}};
    const nlohmann::json rank = {{"model.layers.0.mlp.up_proj.expertlora_E_vector_0", 5},
                                 {"model.layers.0.mlp.up_proj.expertlora_E_vector_1", 1}};
    GuiLoMoReadoutOptions o;
    o.n_max = 4;
    const auto a = from_reference_json(expert, rank, o, "expert.json", "rank.json");
    QCOMPARE(a.modules.at(0).ranks, (std::vector<int>{5, 1, 0, 0}));
    QCOMPARE(to_reference_json(a).rank, rank);
    const auto b = allocation_from_json(allocation_to_json(a), "mem");
    QCOMPARE(b.modules.at(0).ranks, a.modules.at(0).ranks);
  }

  // Catches: malformed reference files accepted, or errors that do not say which file and key.
  void reference_errors_data() {
    QTest::addColumn<int>("index");
    const auto j =
        load_json_file((data_dir() + QStringLiteral("/reference_errors.json")).toStdString());
    QVERIFY(j["cases"].size() >= 10);
    for (size_t i = 0; i < j["cases"].size(); ++i) {
      QTest::newRow(j["cases"][i]["name"].get<std::string>().c_str()) << static_cast<int>(i);
    }
  }

  void reference_errors() {
    QFETCH(int, index);
    const auto all =
        load_json_file((data_dir() + QStringLiteral("/reference_errors.json")).toStdString());
    const auto& c = all["cases"][static_cast<size_t>(index)];
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const std::string expert = tmp.path().toStdString() + "/expert.json";
    const std::string rank = tmp.path().toStdString() + "/rank.json";
    write_text(expert, c.contains("expert_text") ? c["expert_text"].get<std::string>()
                                                 : c["expert"].dump(4));
    write_text(rank,
               c.contains("rank_text") ? c["rank_text"].get<std::string>() : c["rank"].dump(4));
    const auto err = error_of([&] { load_reference_files(expert, rank, GuiLoMoReadoutOptions{}); });
    const std::string file = tmp.path().toStdString() + "/" + c["file"].get<std::string>();
    QVERIFY2(err.rfind(file, 0) == 0, ("error does not start with the file: " + err).c_str());
    for (const auto& part : c["contains"]) {
      QVERIFY2(contains(err, part.get<std::string>()), (err + "\n  lacks: " + part.dump()).c_str());
    }
  }

  // Catches: our own layout accepting typos or inconsistent values silently.
  void own_layout_errors_data() {
    QTest::addColumn<QString>("patch");
    QTest::addColumn<QString>("expected");
    QTest::newRow("unknown key") << R"({"n_maxx": 3})"
                                 << "n_maxx: unknown key";
    QTest::newRow("format") << R"({"format": "other"})"
                            << "format: must be \"apportion.guilomo_allocation\"";
    QTest::newRow("version") << R"({"version": 2})"
                             << "version: unsupported version 2";
    QTest::newRow("module key") << R"({"modules": [{"path": "a.q_proj", "experts": 2,
        "ranks": [1, 1, 1, 1], "rnak": 1}]})"
                                << "modules[0].rnak: unknown key";
    QTest::newRow("ranks length") << R"({"modules": [{"path": "a.q_proj", "experts": 2,
        "ranks": [1, 1]}]})"
                                  << "modules[0].ranks: must have n_max=4 entries";
    QTest::newRow("used rank 0") << R"({"modules": [{"path": "a.q_proj", "experts": 3,
        "ranks": [1, 1, 0, 0]}]})"
                                 << "modules[0].ranks[2]\": rank 0 is outside [1, r_max=8]";
    QTest::newRow("experts") << R"({"modules": [{"path": "a.q_proj", "experts": 5,
        "ranks": [1, 1, 1, 1]}]})"
                             << "modules[0].experts\": 5 experts is outside";
    QTest::newRow("missing") << R"({"modules": [{"path": "a.q_proj", "ranks": [1, 1, 1, 1]}]})"
                             << "modules[0].experts: missing";
  }

  void own_layout_errors() {
    QFETCH(QString, patch);
    QFETCH(QString, expected);
    auto j = allocation_to_json(tiny_allocation());
    j.merge_patch(nlohmann::json::parse(patch.toStdString()));
    const auto err = error_of([&] { allocation_from_json(j, "alloc.json"); });
    QVERIFY2(err.rfind("alloc.json: ", 0) == 0, err.c_str());
    QVERIFY2(contains(err, expected.toStdString()), err.c_str());
  }

  void module_paths() {
    using P = std::pair<int, std::string>;
    QCOMPARE(parse_module_path("model.layers.12.self_attn.q_proj"), P(12, "q_proj"));
    QCOMPARE(parse_module_path("base_model.model.model.layers.0.mlp.down_proj"), P(0, "down_proj"));
    QCOMPARE(parse_module_path("layers.3.mlp.up_proj"), P(3, "up_proj"));
    QCOMPARE(parse_module_path("model.sublayers.3.x.q_proj"), P(-1, "q_proj"));
    QCOMPARE(parse_module_path("model.layers.x.q_proj"), P(-1, "q_proj"));
    QCOMPARE(parse_module_path("q_proj"), P(-1, "q_proj"));
  }

  // Hand count: A (q_proj, in 8, out 8): routers 2·8 = 16, ranks (4+2)·16 = 96 → 112;
  // B (down_proj, in 16, out 8): routers 3·16 = 48, ranks (1+3+8)·24 = 288 → 336. Total 448;
  // without routers 384. Unused slots (7, 7 and 5) must not count.
  void parameter_count() {
    QCOMPARE(count_parameters(tiny_allocation(), tiny_shape(), true), int64_t{448});
    QCOMPARE(count_parameters(tiny_allocation(), tiny_shape(), false), int64_t{384});
  }

  // Hand-worked: fixed router part 64. P(c) = 64 + 16(f(4c) + f(2c)) + 24(f(c) + f(3c) + f(8c)),
  // f(x) = max(1, floor x). Target 300: P(0.625) = 64 + 16·3 + 24·6 = 280 ≤ 300, but at c = 2/3
  // f(3c) becomes 2 and P = 304 > 300, so c → 2/3⁻: A {2, 1}, B {1, 1, 5}, count 280.
  // Fractional parts c·r − r': A0 .667, A1 .333, B0 −.333 (clamped up), B1 ≈1.0, B2 .333.
  // Fill with 20 left: B1 costs 24 (skip), A0 costs 16 (take → 4 left), the rest cost ≥ 16.
  // Result A {3, 1}, B {1, 1, 5}: 64 + 16·4 + 24·7 = 296.
  void budget_matched_hand_example() {
    BudgetMatchOptions b;
    b.target_parameters = 300;
    const auto m = budget_matched(tiny_allocation(), tiny_shape(), b);
    QCOMPARE(m.modules[0].experts, 2);
    QCOMPARE(m.modules[1].experts, 3);
    QCOMPARE(m.modules[0].used_ranks(), (std::vector<int>{3, 1}));
    QCOMPARE(m.modules[1].used_ranks(), (std::vector<int>{1, 1, 5}));
    QCOMPARE(m.modules[1].ranks[3], 5);  // unused slot untouched
    QCOMPARE(count_parameters(m, tiny_shape(), true), int64_t{296});
    // A clamped-up rank is not "almost due" for a raise: q_proj with N = 3, ranks {1, 2, 2},
    // target 90. Routers 24; P(c) = 24 + 16·(3) = 72 for c < 1 and 104 at c = 1 (both 2s step up
    // together), so c → 1⁻, ranks {1, 1, 1}, 18 left: one raise of 16 fits. Shortfalls c·r − r':
    // slot 0: c − 1 ≈ −0 (clamped), slots 1, 2: 2c − 1 ≈ 1 → slot 1 gets it: {1, 2, 1}, 88.
    GuiLoMoAllocation q;
    q.n_max = 3;
    q.modules.push_back({"model.layers.0.self_attn.q_proj", 0, "q_proj", 3, {1, 2, 2}});
    b.target_parameters = 90;
    const auto mq = budget_matched(q, tiny_shape(), b);
    QCOMPARE(mq.modules[0].ranks, (std::vector<int>{1, 2, 1}));
    QCOMPARE(count_parameters(mq, tiny_shape(), true), int64_t{88});
  }

  // Catches: drift when the allocation is already on target, counts above the target, rank
  // order within a module not preserved, caps ignored, impossible targets accepted.
  void budget_matched_properties() {
    const auto a = tiny_allocation();
    const auto shape = tiny_shape();
    BudgetMatchOptions b;
    b.target_parameters = count_parameters(a, shape, true);
    QCOMPARE(allocation_to_json(budget_matched(a, shape, b)), allocation_to_json(a));
    for (int64_t target : {168, 200, 333, 448, 700, 896, 5000}) {
      for (int cap : {0, 16}) {
        b.target_parameters = target;
        b.max_rank = cap;
        if (cap == 16 && target > 64 + 16 * 32 + 24 * 48) continue;
        const auto m = budget_matched(a, shape, b);
        const int64_t n = count_parameters(m, shape, true);
        QVERIFY2(n <= target, qPrintable(QString::number(n)));
        QVERIFY2(target - n < 16 + 24, qPrintable(QString::number(n)));  // close to target
        for (size_t k = 0; k < m.modules.size(); ++k) {
          const auto before = a.modules[k].used_ranks();
          const auto after = m.modules[k].used_ranks();
          for (size_t i = 0; i < after.size(); ++i) {
            QVERIFY(after[i] >= 1);
            if (cap > 0) QVERIFY(after[i] <= cap);
            for (size_t j = 0; j < after.size(); ++j) {
              if (before[i] > before[j]) QVERIFY(after[i] >= after[j]);
            }
          }
        }
      }
    }
    b.max_rank = 0;
    b.target_parameters = 167;  // all ranks 1: 64 + 16·2 + 24·3 = 168
    QVERIFY(contains(error_of([&] { budget_matched(a, shape, b); }), "is below 168"));
    b.max_rank = 4;
    b.target_parameters = 64 + 16 * 8 + 24 * 12 + 1;
    QVERIFY(contains(error_of([&] { budget_matched(a, shape, b); }), "max_rank=4"));
  }
};

QTEST_APPLESS_MAIN(TestGuiLoMoReadout)
#include "tst_guilomo_readout.moc"
