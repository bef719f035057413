// SPDX-License-Identifier: GPL-3.0-or-later
// Results tables of a workspace, as papers print them: one row per run (or per seed group: mean
// ± 95 % CI half-width over its seeds, and n), one column per task (the union over the rows,
// sorted) plus "avg", each cell the run's reported accuracy (report/acc/<task>, at its checkpoint
// rule) or, for runs without a report (older runs, runs still going), the latest
// eval/acc/<task>. Every column carries the protocol id(s) and split its numbers were scored
// under; when rows disagree the header lists all of them and a warning says so (numbers under
// different protocols are never mixed silently). Also the per-task view of one run (the GUI's
// task panel) and the comparability checks of two sets of runs (the compare view's banner).
// Pure functions over run-store value types: no SQLite, Qt or torch.
//
// Intended usage:
//   RunReader reader("ws/workspace.sqlite");
//   ResultsTableOptions opt;
//   opt.groups = true;                                   // rows = seed groups
//   const ResultsTable t = build_results_table(reader.list_runs(), opt);
//   std::cout << results_table_markdown(t);              // accuracy in %, warnings below
//   std::ofstream("table.csv") << results_table_csv(t);  // raw fractions, protocol_<task> columns
//   for (const TaskResult& r : task_results(run)) ...    // task, split, protocol, acc, …
//   for (const std::string& w : comparability_warnings(runs_a, runs_b)) ...
//
// CSV layout (documented in `apportion export --help`): one header row, one line per row.
//   runs:   run_id,name,experiment,seed,status,rule,report_step,<task>…,avg,
//           protocol_<task>…,split_<task>…
//   groups: group_key,label,n,seeds,rule,<task>,<task>_ci95,<task>_n…,avg,avg_ci95,avg_n,
//           protocol_<task>…,split_<task>…
// Values are fractions (0.8241) with 6 significant digits; an empty field is a missing value
// (no such task, or a CI over fewer than two seeds). protocol_/split_ fields hold the row's own
// protocol and split per task ("a/b" when a group's members differ), so a CSV row never loses
// what its numbers mean. Seeds are separated by ";". Warnings are not part of the CSV (the CLI
// prints them to stderr).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/store/run_types.h"

namespace apportion {

/// The rule of a run that wrote no report (report/rule absent): its cells are the latest eval
/// values, which are final only for a FINISHED run that evaluated at its last step.
constexpr const char* kRuleLatest = "latest";
/// The split of a task whose run has no split/<task> tag: older runs (builtin and jsonl suites)
/// evaluated one held-out set, which the trainer now tags "eval".
constexpr const char* kDefaultSplit = "eval";

/// What one run recorded for one task.
struct TaskResult {
  static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
  std::string task;
  std::string split;               ///< tag split/<task>, else kDefaultSplit
  std::string protocol;            ///< tag protocol/<task>, else fallback_protocol(run)
  bool protocol_inferred = false;  ///< no protocol/<task> tag: the protocol is inferred
  double accuracy = kNone;         ///< report/acc/<task>, else the latest eval/acc/<task>
  bool reported = false;           ///< accuracy is report/acc/<task>
  double latest_accuracy = kNone;  ///< the latest eval/acc/<task>
  double acc_norm = kNone;         ///< report/acc_norm/<task>, else the latest eval/acc_norm/<task>
  double parse_failures = kNone;   ///< the latest eval/parse_failures/<task> (a count)
  double validation_accuracy = kNone;  ///< the latest val/acc/<task>
};

/// The protocol of a run's tasks without a protocol/<task> tag: "greedy_first_match" when the
/// run's params say data.eval_mode "generate", else "teacher_forced".
std::string fallback_protocol(const Run& run);
/// Tag report/rule ("last", "best_validation", "best_test"), else kRuleLatest.
std::string checkpoint_rule(const Run& run);
/// Tag report/best_on_test is "true": the reported evaluation was chosen on the test split.
bool best_on_test(const Run& run);
/// Tag report/step as a number, else -1.
int64_t report_step(const Run& run);
/// Every task the run has a per-task metric for (accuracy, acc_norm, parse failures or
/// validation accuracy), sorted by name.
std::vector<TaskResult> task_results(const Run& run);

/// One cell: the value of a run, or mean and 95 % CI half-width over a group's runs.
struct ResultsCell {
  int n = 0;                                               ///< values behind the cell
  double mean = std::numeric_limits<double>::quiet_NaN();  ///< NaN when n == 0
  double ci95 = std::numeric_limits<double>::quiet_NaN();  ///< half-width; NaN when n < 2
};

/// One task column: the protocols and splits its rows used (distinct, sorted).
struct ResultsColumn {
  std::string task;
  std::vector<std::string> protocols;
  std::vector<std::string> splits;
};

/// One row: a run, or a seed group.
struct ResultsRow {
  std::string label;  ///< run name / group label (with a short id when labels repeat)
  std::string key;    ///< run id / seed-group key
  std::string experiment;
  std::vector<std::string> run_ids;  ///< the run, or the members ordered by seed
  std::vector<uint64_t> seeds;       ///< seeds[i] of run_ids[i]
  std::string status;                ///< runs: "FINISHED", …; groups: "" (see warnings)
  std::vector<std::string> rules;    ///< distinct checkpoint rules of its runs, sorted
  int64_t report_step = -1;          ///< runs: report/step (-1: none); groups: -1
  bool best_on_test = false;         ///< a run of the row chose its checkpoint on the test split
  bool partial = false;              ///< a run of the row lacks a task that has a column
  std::vector<ResultsCell> cells;    ///< one per column
  ResultsCell avg;                   ///< over runs of the mean of each run's own tasks
  std::vector<std::vector<std::string>> protocols;  ///< per column: distinct protocols (or none)
  std::vector<std::vector<std::string>> splits;     ///< per column: distinct splits (or none)
};

struct ResultsTable {
  bool groups = false;
  std::vector<ResultsColumn> columns;  ///< sorted by task
  std::vector<ResultsRow> rows;        ///< by start time (groups: of their first run)
  /// One line each: protocol or split mismatches in a column, mixed checkpoint rules,
  /// checkpoints chosen on the test split, runs not FINISHED, partial averages.
  std::vector<std::string> warnings;
};

struct ResultsTableOptions {
  bool groups = false;                    ///< rows = seed groups (run_groups.h)
  std::vector<std::string> run_prefixes;  ///< only these runs (id or unique id prefix each)
  std::string experiment;                 ///< only runs of this experiment (exact name)
};

/// Builds the table over `runs` (RunReader::list_runs()). Runs without any per-task accuracy
/// (pretraining, runs that failed before their first evaluation) are left out. Throws StoreError
/// naming the argument when a prefix matches no run or several, or when no run belongs to the
/// experiment.
ResultsTable build_results_table(const std::vector<Run>& runs, const ResultsTableOptions& options);

/// Markdown: accuracy in % with 2 decimals ("82.00 ± 25.41" for a group; "(n=1)" after a cell
/// over fewer runs than the group has; "-" for none), a header "task (protocol, split)" per
/// column, a note on how cells were chosen and one "**Warning:** …" line per warning.
std::string results_table_markdown(const ResultsTable& table);
/// CSV, raw fractions, layout in the header comment of this file.
std::string results_table_csv(const ResultsTable& table);

/// Why two sets of runs (a comparison's sides) are not comparable task by task: a task scored
/// under different protocols or on different splits, different checkpoint rules, a checkpoint
/// chosen on the test split. One sentence each, naming the task; empty when nothing differs.
std::vector<std::string> comparability_warnings(const std::vector<Run>& a,
                                                const std::vector<Run>& b);
/// The same over N sides named `names` ("A", "B", "C", …): a task is flagged when the sides
/// that scored it differ ("csqa: scored under different protocols: A x, B y, C x; …").
std::vector<std::string> comparability_warnings(const std::vector<std::vector<Run>>& sides,
                                                const std::vector<std::string>& names);

}  // namespace apportion
