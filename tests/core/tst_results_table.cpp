// SPDX-License-Identifier: GPL-3.0-or-later
// Results tables over a real SQLite store written with RunWriter: two seeds of one config
// (reported numbers at best_validation, protocol mola_regex) and an older run (only
// eval/acc/<task>, no protocol tag), checked as exact Markdown and CSV text against
// hand-computed means and Student-t half-widths; the protocol-mismatch warning, the fallback to
// the latest eval/acc/<task>, run/experiment filters and their errors, partial averages,
// best-on-test runs, the per-task view of one run and the comparability warnings.
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/store/results_table.h"
#include "core/store/run_groups.h"
#include "core/store/run_reader.h"
#include "core/store/run_writer.h"
#include "core/store/store_keys.h"
#include "tests/core/store_test_util.h"

using namespace apportion;
using namespace apportion::test;

namespace {

const std::string kSeed0 = "aaaa0000000000000000000000000001";
const std::string kSeed1 = "aaaa1111000000000000000000000002";
const std::string kOld = "bbbb0000000000000000000000000003";

// Hand-computed: for n = 2 the sample std is |a − b| / √2, so the 95 % half-width
// t(0.975, 1) · s / √2 is t · |a − b| / 2 = 12.7062047 · 0.02 = 0.254124 (25.41 points) for
// 0.80/0.84, 0.90/0.94 and the run averages 0.85/0.89 alike.

RunStarted start(const std::string& id,
                 const std::string& name,
                 const std::string& method,
                 uint64_t seed) {
  RunStarted e = make_start(id, "paper");
  e.run_name = name;
  e.seed = seed;
  e.allocation_method = method;
  e.config_json = R"({"adapters":{"r":8},"allocation":{"method":")" + method + R"("},"seed":)" +
                  std::to_string(seed) + "}";
  e.params = {{"adapters.r", "8"},
              {"allocation.method", "\"" + method + "\""},
              {"seed", std::to_string(seed)}};
  return e;
}

/// A seed run of "lora" with reported numbers (best_validation at step 40).
void write_reported(
    RunWriter& w, const std::string& id, uint64_t seed, int64_t start_ms, double mrpc, double sqa) {
  w.start_run(start(id, "lora-s" + std::to_string(seed), "lora", seed), start_ms);
  for (const char* task : {"mrpc", "scienceqa"}) {
    w.set_tag(id, kProtocolTagPrefix + std::string(task), "mola_regex");
    w.set_tag(id, kEvalSplitTagPrefix + std::string(task), "test");
  }
  w.log_metric(id, point("eval/acc/mrpc", 20, mrpc - 0.1));
  w.log_metric(id, point("eval/acc/mrpc", 40, mrpc));
  w.log_metric(id, point("eval/acc/mrpc", 60, mrpc - 0.02));  // later, but not the reported one
  w.log_metric(id, point("eval/acc/scienceqa", 60, sqa - 0.05));
  w.log_metric(id, point("eval/parse_failures/mrpc", 60, 3));
  w.log_metric(id, point("val/acc/mrpc", 60, 0.5));
  w.set_tag(id, kReportRuleTag, "best_validation");
  w.set_tag(id, kReportStepTag, "40");
  w.log_metric(id, point(kMetricReportAccPrefix + std::string("mrpc"), 60, mrpc));
  w.log_metric(id, point(kMetricReportAccPrefix + std::string("scienceqa"), 60, sqa));
  w.log_metric(id, point(kMetricReportAcc, 60, (mrpc + sqa) / 2));
  w.finish_run(id, RunStatus::Finished, "", start_ms + 500);
}

/// QCOMPAREs two texts line by line (a failure shows the first differing line whole).
#define AP_COMPARE_TEXT(actual, expected)                                                 \
  do {                                                                                    \
    const QStringList a_ = q(actual).split(QLatin1Char('\n'));                            \
    const QStringList e_ = q(expected).split(QLatin1Char('\n'));                          \
    for (int i_ = 0; i_ < std::min(a_.size(), e_.size()); ++i_) QCOMPARE(a_[i_], e_[i_]); \
    QCOMPARE(a_.size(), e_.size());                                                       \
  } while (false)

std::string lines(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

Run fake_run(const std::string& id, const std::string& name) {
  Run r;
  r.run_id = id;
  r.name = name;
  r.experiment_name = "x";
  r.status = RunStatus::Finished;
  r.config_json = "{\"name\":\"" + name + "\"}";
  return r;
}

}  // namespace

class TestResultsTable : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase();
  void runs_markdown_with_protocol_mismatch();
  void groups_markdown();
  void groups_csv();
  void runs_csv();
  void matching_protocols_have_no_warning();
  void fallback_to_latest_eval_for_old_runs();
  void filters_and_their_errors();
  void partial_rows_and_best_on_test();
  void generate_mode_runs_fall_back_to_greedy();
  void task_results_of_one_run();
  void comparability_warnings_name_the_task();

 private:
  std::vector<Run> runs() const { return RunReader(m_db).list_runs(); }
  std::string groupKey(const std::string& runId) const {
    for (const Run& r : runs())
      if (r.run_id == runId) return seed_group_key(r);
    return {};
  }

  QTemporaryDir m_dir;
  std::string m_db;
};

void TestResultsTable::initTestCase() {
  QVERIFY(m_dir.isValid());
  m_db = m_dir.filePath(QStringLiteral("workspace.sqlite")).toStdString();
  RunWriter w(m_db);
  w.begin();
  write_reported(w, kSeed0, 0, 1000, 0.80, 0.90);
  write_reported(w, kSeed1, 1, 2000, 0.84, 0.94);
  // An older run: eval/acc/<task> only, no protocol or split tags, no report.
  w.start_run(start(kOld, "mola-old", "mola", 0), 3000);
  w.log_metric(kOld, point("eval/acc/mrpc", 20, 0.60));
  w.log_metric(kOld, point("eval/acc/mrpc", 40, 0.66));
  w.log_metric(kOld, point("eval/acc/scienceqa", 40, 0.70));
  w.log_metric(kOld, point(kMetricEvalAcc, 40, 0.68));
  w.finish_run(kOld, RunStatus::Finished, "", 3500);
  // A pretraining run: no per-task accuracy, left out of every table.
  RunStarted pre = make_start("cccc0000000000000000000000000004", "paper");
  pre.run_name = "pretrain";
  w.start_run(pre, 4000);
  w.log_metric(pre.run_id, point("eval/loss", 10, 2.5));
  w.finish_run(pre.run_id, RunStatus::Finished, "", 4500);
  w.commit();
}

void TestResultsTable::runs_markdown_with_protocol_mismatch() {
  const ResultsTable t = build_results_table(runs(), {});
  const std::string expected =
      "| Run | Rule | mrpc (mola_regex / teacher_forced, eval / test) | scienceqa (mola_regex / "
      "teacher_forced, eval / test) | Avg |\n"
      "| :--- | :--- | ---: | ---: | ---: |\n"
      "| lora-s0 | best_validation | 80.00 | 90.00 | 85.00 |\n"
      "| lora-s1 | best_validation | 84.00 | 94.00 | 89.00 |\n"
      "| mola-old | latest | 66.00 | 70.00 | 68.00 |\n"
      "\n"
      "Accuracy in %. A cell is the run's reported accuracy (report/acc/<task>, at the rule "
      "shown) or, with rule \"latest\", its latest eval/acc/<task>; header: task (protocol, "
      "split).\n"
      "\n"
      "- **Warning:** mrpc: rows use different protocols: mola_regex (lora-s0, lora-s1); "
      "teacher_forced (mola-old). Their numbers are not comparable.\n"
      "- **Warning:** mrpc: rows use different splits: eval (mola-old); test (lora-s0, "
      "lora-s1). Their numbers are not comparable.\n"
      "- **Warning:** scienceqa: rows use different protocols: mola_regex (lora-s0, lora-s1); "
      "teacher_forced (mola-old). Their numbers are not comparable.\n"
      "- **Warning:** scienceqa: rows use different splits: eval (mola-old); test (lora-s0, "
      "lora-s1). Their numbers are not comparable.\n"
      "- **Warning:** rows use different checkpoint rules: best_validation (lora-s0, lora-s1); "
      "latest (mola-old).\n";
  AP_COMPARE_TEXT(results_table_markdown(t), expected);
  QCOMPARE(t.columns.size(), size_t(2));
  QCOMPARE(t.columns[0].protocols, (std::vector<std::string>{"mola_regex", "teacher_forced"}));
}

void TestResultsTable::groups_markdown() {
  ResultsTableOptions opt;
  opt.groups = true;
  const ResultsTable t = build_results_table(runs(), opt);
  QCOMPARE(t.rows.size(), size_t(2));
  QCOMPARE(t.rows[0].run_ids, (std::vector<std::string>{kSeed0, kSeed1}));
  QCOMPARE(t.rows[0].cells[0].n, 2);
  QVERIFY(std::fabs(t.rows[0].cells[0].mean - 0.82) < 1e-12);
  QVERIFY(std::fabs(t.rows[0].cells[0].ci95 - 12.7062047361747 * 0.02) < 1e-9);
  QVERIFY(std::isnan(t.rows[1].cells[0].ci95));
  const std::string expected =
      "| Group | n | Rule | mrpc (mola_regex / teacher_forced, eval / test) | scienceqa "
      "(mola_regex / "
      "teacher_forced, eval / test) | Avg |\n"
      "| :--- | ---: | :--- | ---: | ---: | ---: |\n"
      "| lora | 2 | best_validation | 82.00 ± 25.41 | 92.00 ± 25.41 | 87.00 ± 25.41 |\n"
      "| mola-old | 1 | latest | 66.00 | 70.00 | 68.00 |\n"
      "\n"
      "Accuracy in %. A cell is the run's reported accuracy (report/acc/<task>, at the rule "
      "shown) or, with rule \"latest\", its latest eval/acc/<task>; header: task (protocol, "
      "split). Groups: mean ± 95 % CI half-width over seeds (Student t).\n"
      "\n"
      "- **Warning:** mrpc: rows use different protocols: mola_regex (lora); teacher_forced "
      "(mola-old). Their numbers are not comparable.\n"
      "- **Warning:** mrpc: rows use different splits: eval (mola-old); test (lora). Their "
      "numbers are not comparable.\n"
      "- **Warning:** scienceqa: rows use different protocols: mola_regex (lora); "
      "teacher_forced (mola-old). Their numbers are not comparable.\n"
      "- **Warning:** scienceqa: rows use different splits: eval (mola-old); test (lora). Their "
      "numbers are not comparable.\n"
      "- **Warning:** rows use different checkpoint rules: best_validation (lora); latest "
      "(mola-old).\n";
  AP_COMPARE_TEXT(results_table_markdown(t), expected);
}

void TestResultsTable::groups_csv() {
  ResultsTableOptions opt;
  opt.groups = true;
  const std::string expected =
      "group_key,label,n,seeds,rule,mrpc,mrpc_ci95,mrpc_n,scienceqa,scienceqa_ci95,scienceqa_n,"
      "avg,avg_ci95,avg_n,protocol_mrpc,protocol_scienceqa,split_mrpc,split_scienceqa\n" +
      groupKey(kSeed0) +
      ",lora,2,0;1,best_validation,0.82,0.254124,2,0.92,0.254124,2,0.87,0.254124,2,"
      "mola_regex,mola_regex,test,test\n" +
      groupKey(kOld) +
      ",mola-old,1,0,latest,0.66,,1,0.7,,1,0.68,,1,teacher_forced,teacher_forced,eval,eval\n";
  AP_COMPARE_TEXT(results_table_csv(build_results_table(runs(), opt)), expected);
}

void TestResultsTable::runs_csv() {
  const std::string expected =
      "run_id,name,experiment,seed,status,rule,report_step,mrpc,scienceqa,avg,protocol_mrpc,"
      "protocol_scienceqa,split_mrpc,split_scienceqa\n" +
      kSeed0 +
      ",lora-s0,paper,0,FINISHED,best_validation,40,0.8,0.9,0.85,mola_regex,mola_regex,test,"
      "test\n" +
      kSeed1 +
      ",lora-s1,paper,1,FINISHED,best_validation,40,0.84,0.94,0.89,mola_regex,mola_regex,test,"
      "test\n" +
      kOld +
      ",mola-old,paper,0,FINISHED,latest,,0.66,0.7,0.68,teacher_forced,teacher_forced,"
      "eval,eval\n";
  AP_COMPARE_TEXT(results_table_csv(build_results_table(runs(), {})), expected);
}

void TestResultsTable::matching_protocols_have_no_warning() {
  ResultsTableOptions opt;
  opt.groups = true;
  opt.run_prefixes = {"aaaa0", "aaaa1"};
  const ResultsTable t = build_results_table(runs(), opt);
  QVERIFY(t.warnings.empty());
  const std::string expected =
      "| Group | n | Rule | mrpc (mola_regex, test) | scienceqa (mola_regex, test) | Avg |\n"
      "| :--- | ---: | :--- | ---: | ---: | ---: |\n"
      "| lora | 2 | best_validation | 82.00 ± 25.41 | 92.00 ± 25.41 | 87.00 ± 25.41 |\n"
      "\n"
      "Accuracy in %. A cell is the run's reported accuracy (report/acc/<task>, at the rule "
      "shown) or, with rule \"latest\", its latest eval/acc/<task>; header: task (protocol, "
      "split). Groups: mean ± 95 % CI half-width over seeds (Student t).\n";
  AP_COMPARE_TEXT(results_table_markdown(t), expected);
}

void TestResultsTable::fallback_to_latest_eval_for_old_runs() {
  ResultsTableOptions opt;
  opt.run_prefixes = {"bbbb"};
  const ResultsTable t = build_results_table(runs(), opt);
  QCOMPARE(t.rows.size(), size_t(1));
  QCOMPARE(t.rows[0].rules, std::vector<std::string>{"latest"});
  QCOMPARE(t.rows[0].cells[0].mean, 0.66);  // the step-40 value, not step 20's
  QCOMPARE(t.columns[0].protocols, std::vector<std::string>{"teacher_forced"});
  // The seeds' cells are the reported values (0.80), not their last eval (0.78 at step 60).
  opt.run_prefixes = {kSeed0};
  QCOMPARE(build_results_table(runs(), opt).rows[0].cells[0].mean, 0.80);
}

void TestResultsTable::filters_and_their_errors() {
  ResultsTableOptions opt;
  opt.experiment = "paper";
  QCOMPARE(build_results_table(runs(), opt).rows.size(), size_t(3));
  opt.experiment = "nope";
  QCOMPARE(q(store_error_of([&] { build_results_table(runs(), opt); })),
           QStringLiteral("no runs in experiment 'nope' (experiments: paper)"));
  opt.experiment.clear();
  opt.run_prefixes = {"ffff"};
  QCOMPARE(q(store_error_of([&] { build_results_table(runs(), opt); })),
           QStringLiteral("no run whose id starts with 'ffff' (list them with `apportion runs`)"));
  opt.run_prefixes = {"aaaa"};
  QCOMPARE(q(store_error_of([&] { build_results_table(runs(), opt); })),
           QStringLiteral("run id prefix 'aaaa' matches 2 runs; write more of the run id"));
  // A run without per-task accuracy named explicitly is left out with a warning.
  opt.run_prefixes = {"cccc", "aaaa0"};
  const ResultsTable t = build_results_table(runs(), opt);
  QCOMPARE(t.rows.size(), size_t(1));
  QCOMPARE(q(lines(t.warnings)), QStringLiteral("left out (no per-task accuracy): pretrain.\n"));
  QCOMPARE(q(results_table_markdown(build_results_table({}, {}))),
           QStringLiteral("(no runs with per-task accuracy)\n"));
}

void TestResultsTable::partial_rows_and_best_on_test() {
  Run a = fake_run("11110000000000000000000000000000", "a");
  a.latest_metrics = {{"eval/acc/x", 0.5}, {"eval/acc/y", 0.7}};
  Run b = fake_run("22220000000000000000000000000000", "b");
  b.start_ms = 1;
  b.status = RunStatus::Running;
  b.tags = {{kReportRuleTag, "best_test"}, {kBestOnTestTag, "true"}};
  b.latest_metrics = {{"report/acc/x", 0.9}};
  const ResultsTable t = build_results_table({a, b}, {});
  const std::string expected =
      "| Run | Rule | x (teacher_forced, eval) | y (teacher_forced, eval) | Avg |\n"
      "| :--- | :--- | ---: | ---: | ---: |\n"
      "| a | latest | 50.00 | 70.00 | 60.00 |\n"
      "| b | best_test | 90.00 | - | 90.00 † |\n";
  QVERIFY(results_table_markdown(t).rfind(expected, 0) == 0);
  QCOMPARE(q(lines(t.warnings)),
           QStringLiteral("rows use different checkpoint rules: best_test (b); latest (a).\n"
                          "b: the reported checkpoint was chosen on the test split "
                          "(report/best_on_test); its numbers are optimistic.\n"
                          "b: RUNNING; its numbers are not final.\n"
                          "avg marked † covers only the row's own tasks (a run lacks a column): "
                          "b.\n"));
  // Two runs named alike get their id prefixes; a group (labelled by its experiment: the
  // names have no -s<seed>) cell over fewer runs says its n.
  Run c = fake_run("33330000000000000000000000000000", "a");
  c.start_ms = 2;
  c.config_json = a.config_json;
  c.seed = 1;
  c.latest_metrics = {{"eval/acc/x", 0.7}};
  const ResultsTable runsTable = build_results_table({a, c}, {});
  QCOMPARE(q(runsTable.rows[0].label), QStringLiteral("a [11110000]"));
  ResultsTableOptions groups;
  groups.groups = true;
  const std::string md = results_table_markdown(build_results_table({a, c}, groups));
  QVERIFY2(md.find("| x | 2 | latest | 60.00 ± 127.06 | 70.00 (n=1) | 65.00 ± 63.53 † |") !=
               std::string::npos,
           md.c_str());
}

void TestResultsTable::generate_mode_runs_fall_back_to_greedy() {
  Run r = fake_run("44440000000000000000000000000000", "gen");
  r.params = {{"data.eval_mode", "\"generate\""}};
  r.latest_metrics = {{"eval/acc/t", 0.25}};
  QCOMPARE(q(fallback_protocol(r)), QStringLiteral("greedy_first_match"));
  const auto results = task_results(r);
  QCOMPARE(results.size(), size_t(1));
  QCOMPARE(q(results[0].protocol), QStringLiteral("greedy_first_match"));
  QVERIFY(results[0].protocol_inferred);
  r.tags = {{"protocol/t", "mc_loglik"}, {"split/t", "validation"}};
  QCOMPARE(q(task_results(r)[0].protocol), QStringLiteral("mc_loglik"));
  QCOMPARE(q(task_results(r)[0].split), QStringLiteral("validation"));
}

void TestResultsTable::task_results_of_one_run() {
  const auto run = RunReader(m_db).find_run(kSeed0);
  QVERIFY(run);
  const auto results = task_results(*run);
  QCOMPARE(results.size(), size_t(2));
  const TaskResult& mrpc = results[0];
  QCOMPARE(q(mrpc.task), QStringLiteral("mrpc"));
  QCOMPARE(q(mrpc.protocol), QStringLiteral("mola_regex"));
  QVERIFY(!mrpc.protocol_inferred);
  QVERIFY(mrpc.reported);
  QCOMPARE(mrpc.accuracy, 0.80);
  QCOMPARE(mrpc.latest_accuracy, 0.78);
  QCOMPARE(mrpc.parse_failures, 3.0);
  QCOMPARE(mrpc.validation_accuracy, 0.5);
  QVERIFY(std::isnan(mrpc.acc_norm));
  QCOMPARE(q(checkpoint_rule(*run)), QStringLiteral("best_validation"));
  QCOMPARE(report_step(*run), int64_t(40));
  QVERIFY(!best_on_test(*run));
}

void TestResultsTable::comparability_warnings_name_the_task() {
  std::vector<Run> all = runs();
  std::vector<Run> lora, old;
  for (const Run& r : all) (r.run_id == kOld ? old : lora).push_back(r);
  QCOMPARE(q(lines(comparability_warnings(lora, lora))), QString());
  AP_COMPARE_TEXT(
      lines(comparability_warnings(lora, old)),
      std::string("mrpc: scored under different protocols: A mola_regex, B "
                  "teacher_forced; the accuracies are not comparable\n"
                  "mrpc: evaluated on different splits: A test, B eval; the accuracies are not "
                  "comparable\n"
                  "scienceqa: scored under different protocols: A mola_regex, B "
                  "teacher_forced; the accuracies are not comparable\n"
                  "scienceqa: evaluated on different splits: A test, B eval; the accuracies are "
                  "not comparable\n"
                  "different checkpoint rules: A best_validation, B latest; the reported "
                  "evaluations were chosen differently\n"));
  Run v = old.front();
  v.tags["split/mrpc"] = "validation";
  v.tags["split/scienceqa"] = "test";
  v.tags["protocol/mrpc"] = "mola_regex";
  v.tags["protocol/scienceqa"] = "mola_regex";
  v.tags[kReportRuleTag] = "best_validation";
  QCOMPARE(q(lines(comparability_warnings(lora, {v}))),
           QStringLiteral("mrpc: evaluated on different splits: A test, B validation; the "
                          "accuracies are not comparable\n"));
}

QTEST_APPLESS_MAIN(TestResultsTable)
#include "tst_results_table.moc"
