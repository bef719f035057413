// SPDX-License-Identifier: GPL-3.0-or-later
// Hostile input refused (issue 15): the bounded JSON parse (depth, size, duplicate keys, numbers
// beyond a double, positions), integer narrowing checked against hand-written limits, the
// config and HF config readers on overflowing integers and unknown dtypes, and a run store whose
// pages are overwritten: quick_check refuses it and the salvage copy keeps exactly the runs whose
// pages survived; a copy made twice adds nothing and a differing run id is a reported conflict.
#include <sqlite3.h>

#include <QTemporaryDir>
#include <QtTest>
#include <string>

#include "core/backbone/model_config.h"
#include "core/common/error.h"
#include "core/common/json_parse.h"
#include "core/config/experiment_config.h"
#include "core/events/progress_line.h"
#include "core/store/run_reader.h"
#include "core/store/run_store.h"
#include "core/store/store_copy.h"
#include "core/store/store_integrity.h"
#include "tests/core/store_test_util.h"

using namespace apportion;
using namespace apportion::test;

namespace {

std::string parse_error(const std::string& text, JsonLimits limits = JsonLimits::config()) {
  try {
    parse_json_bounded(text, limits);
  } catch (const JsonInputError& e) {
    return e.what();
  }
  return "<accepted>";
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// A run id of 32 copies of one hex digit: runs sort by id in the metrics b-tree.
std::string run_id_of(char c) { return std::string(32, c); }

}  // namespace

class TestHostileInput : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void depth_limit() {
    // 64 levels parse, 65 do not; brackets inside strings do not count.
    const std::string ok = std::string(64, '[') + std::string(64, ']');
    QVERIFY(parse_json_bounded(ok, JsonLimits::config()).is_array());
    const std::string deep = std::string(65, '[') + std::string(65, ']');
    const std::string msg = parse_error(deep);
    QVERIFY2(has(msg, "nested deeper than 64 levels") && has(msg, "byte 64"), msg.c_str());
    QVERIFY(parse_json_bounded(R"({"a":")" + std::string(500, '[') + R"("})", JsonLimits::config())
                .is_object());
    // The issue's crash: 65,000 levels where a number is expected, 130 KB.
    const std::string hostile =
        R"({"train":{"steps":)" + std::string(65000, '[') + std::string(65000, ']') + "}}";
    QVERIFY2(has(parse_error(hostile), "nested deeper"), "no depth error");
  }

  void size_limit_and_positions() {
    JsonLimits small = JsonLimits::config();
    small.max_bytes = 10;
    QVERIFY(has(parse_error(R"({"a": 12345678})", small), "over the limit of 10 bytes"));
    // Line and column of a syntax error (hand-counted: line 2, column 9 is the second comma).
    const std::string msg = parse_error("{\"a\": 1,\n \"b\": 2,,}");
    QVERIFY2(has(msg, "line 2, column 9 (byte 17)"), msg.c_str());
    try {
      parse_json_bounded(R"({"a": [1, 2)", JsonLimits::config());
      QFAIL("accepted");
    } catch (const JsonInputError& e) {
      QVERIFY(e.truncated());
    }
  }

  void duplicate_keys_and_numbers() {
    const std::string dup = parse_error(R"({"train": {"steps": 5, "lr": 1, "steps": 6}})");
    QVERIFY2(has(dup, "duplicate key \"steps\"") && has(dup, "at train.steps"), dup.c_str());
    const std::string in_array = parse_error(R"({"a": [{"k": 1}, {"k": 1, "k": 2}]})");
    QVERIFY2(has(in_array, "at a[1].k"), in_array.c_str());
    // The same key in sibling objects is fine.
    QVERIFY(parse_json_bounded(R"([{"k":1},{"k":2}])", JsonLimits::config()).is_array());
    const std::string huge = parse_error(R"({"lr": 1e999})");
    QVERIFY2(has(huge, "number out of range") && has(huge, "1e999") &&
                 has(huge, "line 1, column 8 (byte 7)"),
             huge.c_str());
    QVERIFY(!try_parse_json_bounded("{", JsonLimits::line()));
  }

  void integer_narrowing() {
    using nlohmann::json;
    QCOMPARE(json_to_integer<int>(json(2147483647)).value_or(0), 2147483647);
    QVERIFY(!json_to_integer<int>(json(2147483648LL)));
    QVERIFY(!json_to_integer<int>(json(4294967298ULL)));  // once trained with 2 experts
    QCOMPARE(json_to_integer<int>(json(-2147483648LL)).value_or(0), -2147483647 - 1);
    QVERIFY(!json_to_integer<int>(json(-2147483649LL)));
    QVERIFY(!json_to_integer<uint64_t>(json(-1)));
    QCOMPARE(json_to_integer<uint64_t>(json(18446744073709551615ULL)).value_or(0),
             18446744073709551615ULL);
    QVERIFY(!json_to_integer<int64_t>(json(9223372036854775808ULL)));
    QCOMPARE(json_to_integer<int>(json(3.0)).value_or(0), 3);
    QVERIFY(!json_to_integer<int>(json(3.5)));
    QVERIFY(!json_to_integer<int64_t>(json(9.3e18)));  // past 2^63
    QVERIFY(!json_to_integer<int>(json("7")));
  }

  void config_and_model_config_refuse() {
    auto j = nlohmann::json::parse(R"({"backbone":{"path":"x"},
      "allocation":{"method":"mola","experts_per_layer":[4294967298,2,2,2]},
      "adapters":{"r":8}})");
    std::string msg;
    try {
      ExperimentConfig::from_json(j);
    } catch (const ConfigError& e) {
      msg = e.what();
    }
    QVERIFY2(has(msg, "experts_per_layer[0]") && has(msg, "out of range"), msg.c_str());

    auto hf = nlohmann::json::parse(R"({"architectures":["LlamaForCausalLM"],"model_type":"llama",
      "vocab_size":260,"hidden_size":64,"intermediate_size":176,"num_hidden_layers":2,
      "num_attention_heads":4,"num_key_value_heads":2,"torch_dtype":"float8"})");
    msg.clear();
    try {
      ModelConfig::from_json(hf, "m/config.json");
    } catch (const Error& e) {
      msg = e.what();
    }
    QVERIFY2(has(msg, "m/config.json") && has(msg, "torch_dtype") && has(msg, "float8"),
             msg.c_str());
    hf["torch_dtype"] = "bfloat16";
    hf["vocab_size"] = 4294967556ULL;
    msg.clear();
    try {
      ModelConfig::from_json(hf, "m/config.json");
    } catch (const Error& e) {
      msg = e.what();
    }
    QVERIFY2(has(msg, "vocab_size"), msg.c_str());
  }

  void progress_line_out_of_range() {
    // A version beyond int is not a protocol line; a step beyond int64 is ignored, not wrapped.
    QVERIFY(!parse_progress_line(R"({"v":4294967297,"event":"progress"})"));
    const auto line =
        parse_progress_line(R"({"v":1,"event":"progress","step":1e300,"exit_code":4294967297})");
    QVERIFY(line.has_value());
    QCOMPARE(line->step, int64_t{0});
    QCOMPARE(line->exit_code, 0);
  }

  void damaged_store_refused_and_salvaged() {
    QTemporaryDir dir;
    const std::string db = dir.filePath(QStringLiteral("ws.sqlite")).toStdString();
    const std::vector<char> ids = {'a', 'b', 'c', 'd'};
    {
      RunStore store(db);
      for (char c : ids) {
        store.start_run(make_start(run_id_of(c)));
        for (int step = 0; step < 3000; ++step) {
          store.log_metric(run_id_of(c), point("train/loss", step, 1.0 / (step + 1)));
        }
        store.finish_run(run_id_of(c), RunStatus::Finished, "");
      }
      store.flush();
    }
    raw_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    {
      const auto intact = quick_check_store(db);
      QVERIFY2(intact.empty(), intact.empty() ? "" : intact.front().c_str());
    }
    // The metrics leaves in key order: run a's first, then b's, …; overwrite one in the middle
    // of run b's range, so b is lost and a, c, d survive.
    if (!corrupt_leaf_page(db, "metrics", 3.0 / 8)) QSKIP("this SQLite has no dbstat table");
    const auto problems = quick_check_store(db);
    QVERIFY2(!problems.empty(), "quick_check found nothing");
    const std::string refused = store_error_of([&] { require_intact_store(db); });
    QVERIFY2(has(refused, "is damaged") && has(refused, "apportion salvage " + db),
             refused.c_str());

    const std::string rescued = dir.filePath(QStringLiteral("rescued.sqlite")).toStdString();
    const StoreCopyReport report = copy_store_runs(db, rescued);
    QCOMPARE(report.runs.size(), size_t{4});
    QCOMPARE(report.count(RunCopyResult::Outcome::Copied), 3);
    QCOMPARE(report.count(RunCopyResult::Outcome::Unreadable), 1);
    QCOMPARE(report.runs[1].run_id, run_id_of('b'));
    QCOMPARE(report.runs[1].outcome, RunCopyResult::Outcome::Unreadable);
    QVERIFY(quick_check_store(rescued).empty());
    RunReader reader(rescued);
    for (char c : {'a', 'c', 'd'}) {
      QCOMPARE(reader.metric_series(run_id_of(c), "train/loss").steps.size(), size_t{3000});
    }
    QVERIFY(!reader.find_run(run_id_of('b')));

    // Copying again adds nothing; a run id whose rows differ is reported, not overwritten.
    const StoreCopyReport again = copy_store_runs(rescued, rescued + ".2");
    QCOMPARE(again.count(RunCopyResult::Outcome::Copied), 3);
    const StoreCopyReport twice = copy_store_runs(rescued, rescued + ".2");
    QCOMPARE(twice.count(RunCopyResult::Outcome::AlreadyPresent), 3);
    raw_exec(rescued + ".2",
             "DELETE FROM metrics WHERE run_id = '" + run_id_of('c') + "' AND step >= 2000");
    const StoreCopyReport conflict = copy_store_runs(rescued, rescued + ".2");
    QCOMPARE(conflict.count(RunCopyResult::Outcome::Conflict), 1);
    QVERIFY(has(conflict.runs[1].detail, "metrics: 3000 rows here, 2000 in the target"));
    QCOMPARE(RunReader(rescued + ".2").metric_series(run_id_of('c'), "train/loss").steps.size(),
             size_t{2000});
  }
};

QTEST_APPLESS_MAIN(TestHostileInput)
#include "tst_hostile_input.moc"
