// SPDX-License-Identifier: GPL-3.0-or-later
// Results tables (rows = runs or seed groups, columns = tasks + avg) with their protocols,
// splits and checkpoint rules; Markdown and CSV renderers; comparability checks of two sides.
#include "core/store/results_table.h"

#include "core/common/csv_text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <set>

#include "core/common/error.h"
#include "core/scoring/protocol.h"
#include "core/store/run_groups.h"
#include "core/store/store_keys.h"

namespace apportion {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double latest(const Run& run, const std::string& key) {
  const auto it = run.latest_metrics.find(key);
  return it == run.latest_metrics.end() ? kNaN : it->second;
}

std::string tag(const Run& run, const std::string& key) {
  const auto it = run.tags.find(key);
  return it == run.tags.end() ? std::string() : it->second;
}

/// A param's text without JSON string quotes.
std::string param_text(const Run& run, const std::string& key) {
  const auto it = run.params.find(key);
  if (it == run.params.end()) return {};
  const std::string& v = it->second;
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') return v.substr(1, v.size() - 2);
  return v;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? sep : "") + parts[i];
  return out;
}

std::vector<std::string> sorted(const std::set<std::string>& s) { return {s.begin(), s.end()}; }

std::string format(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

/// The task results of a run that carry an accuracy (the table's cells).
std::map<std::string, TaskResult> scored_tasks(const Run& run) {
  std::map<std::string, TaskResult> out;
  for (TaskResult& r : task_results(run))
    if (std::isfinite(r.accuracy)) out.emplace(r.task, std::move(r));
  return out;
}

/// Mean of a run's own task accuracies (NaN without any).
double run_average(const std::map<std::string, TaskResult>& tasks) {
  if (tasks.empty()) return kNaN;
  double sum = 0;
  for (const auto& [task, r] : tasks) sum += r.accuracy;
  return sum / static_cast<double>(tasks.size());
}

ResultsCell cell_of(const std::vector<double>& values) {
  ResultsCell c;
  const SampleSummary s = summarize(values);
  c.n = s.n;
  if (s.n == 0) return c;
  c.mean = s.mean;
  if (s.n >= 2) c.ci95 = s.ci95_high - s.mean;
  return c;
}

/// The runs `options` select (experiment, then prefixes), in the order given.
std::vector<const Run*> select_runs(const std::vector<Run>& runs,
                                    const ResultsTableOptions& options) {
  std::vector<const Run*> pool;
  for (const Run& r : runs)
    if (options.experiment.empty() || r.experiment_name == options.experiment) pool.push_back(&r);
  if (!options.experiment.empty() && pool.empty()) {
    std::set<std::string> names;
    for (const Run& r : runs) names.insert(r.experiment_name);
    throw StoreError("no runs in experiment '" + options.experiment + "'" +
                     (names.empty() ? std::string(" (the workspace has no runs)")
                                    : " (experiments: " + join(sorted(names), ", ") + ")"));
  }
  if (options.run_prefixes.empty()) return pool;
  std::vector<const Run*> chosen;
  for (const std::string& prefix : options.run_prefixes) {
    if (prefix.empty()) throw StoreError("an empty run id prefix was given");
    std::vector<const Run*> matches;
    for (const Run* r : pool) {
      if (r->run_id == prefix) {
        matches = {r};
        break;
      }
      if (starts_with(r->run_id, prefix)) matches.push_back(r);
    }
    const std::string where =
        options.experiment.empty() ? "" : " in experiment '" + options.experiment + "'";
    if (matches.empty()) {
      throw StoreError("no run whose id starts with '" + prefix + "'" + where +
                       " (list them with `apportion runs`)");
    }
    if (matches.size() > 1) {
      throw StoreError("run id prefix '" + prefix + "' matches " + std::to_string(matches.size()) +
                       " runs" + where + "; write more of the run id");
    }
    if (std::find(chosen.begin(), chosen.end(), matches[0]) == chosen.end())
      chosen.push_back(matches[0]);
  }
  return chosen;
}

/// "p1 (row a, row b); p2 (row c)": which rows use which value of a column.
std::string who_uses(const ResultsTable& t,
                     size_t column,
                     const std::vector<std::string>& values,
                     bool protocols) {
  std::vector<std::string> parts;
  for (const std::string& v : values) {
    std::vector<std::string> rows;
    for (const ResultsRow& row : t.rows) {
      const auto& used = protocols ? row.protocols[column] : row.splits[column];
      if (std::find(used.begin(), used.end(), v) != used.end()) rows.push_back(row.label);
    }
    parts.push_back(v + " (" + join(rows, ", ") + ")");
  }
  return join(parts, "; ");
}

void add_warnings(ResultsTable& t, const std::vector<std::string>& left_out) {
  for (size_t c = 0; c < t.columns.size(); ++c) {
    const ResultsColumn& col = t.columns[c];
    if (col.protocols.size() > 1) {
      t.warnings.push_back(
          col.task + ": rows use different protocols: " + who_uses(t, c, col.protocols, true) +
          ". Their numbers are not comparable.");
    }
    if (col.splits.size() > 1) {
      t.warnings.push_back(col.task +
                           ": rows use different splits: " + who_uses(t, c, col.splits, false) +
                           ". Their numbers are not comparable.");
    }
  }
  std::map<std::string, std::vector<std::string>> by_rule;
  for (const ResultsRow& row : t.rows)
    for (const std::string& rule : row.rules) by_rule[rule].push_back(row.label);
  if (by_rule.size() > 1) {
    std::vector<std::string> parts;
    for (const auto& [rule, rows] : by_rule) parts.push_back(rule + " (" + join(rows, ", ") + ")");
    t.warnings.push_back("rows use different checkpoint rules: " + join(parts, "; ") + ".");
  }
  for (const ResultsRow& row : t.rows) {
    if (row.best_on_test) {
      t.warnings.push_back(row.label +
                           ": the reported checkpoint was chosen on the test split "
                           "(report/best_on_test); its numbers are optimistic.");
    }
  }
  for (const ResultsRow& row : t.rows) {
    if (t.groups && !row.status.empty()) {
      t.warnings.push_back(row.label + ": runs not FINISHED (" + row.status +
                           "); its numbers are not final.");
    } else if (!t.groups && row.status != to_string(RunStatus::Finished)) {
      t.warnings.push_back(row.label + ": " + row.status + "; its numbers are not final.");
    }
  }
  std::vector<std::string> partial;
  for (const ResultsRow& row : t.rows)
    if (row.partial) partial.push_back(row.label);
  if (!partial.empty()) {
    t.warnings.push_back("avg marked † covers only the row's own tasks (a run lacks a column): " +
                         join(partial, ", ") + ".");
  }
  if (!left_out.empty()) {
    t.warnings.push_back("left out (no per-task accuracy): " + join(left_out, ", ") + ".");
  }
}

/// Run names (or id prefixes) as labels; a label used twice gets " [<short id>]".
void disambiguate(std::vector<ResultsRow>& rows, bool groups) {
  std::map<std::string, int> uses;
  for (const ResultsRow& row : rows) ++uses[row.label];
  for (ResultsRow& row : rows) {
    if (uses[row.label] < 2) continue;
    std::string short_key = row.key;
    if (groups) {
      const auto colon = short_key.find(':');
      const size_t head = colon == std::string::npos ? 0 : colon + 1;
      short_key = short_key.substr(0, head + 8);
    } else {
      short_key = short_key.substr(0, 8);
    }
    row.label += " [" + short_key + "]";
  }
}

std::string md_escape(std::string s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

std::string md_cell(const ResultsCell& c, bool groups, int row_n, bool dagger) {
  if (c.n == 0) return "-";
  std::string s = format("%.2f", 100 * c.mean);
  if (groups && std::isfinite(c.ci95)) s += " ± " + format("%.2f", 100 * c.ci95);
  if (dagger) s += " †";
  if (groups && c.n < row_n) s += " (n=" + std::to_string(c.n) + ")";
  return s;
}

std::string csv_number(double v) { return std::isfinite(v) ? format("%.6g", v) : std::string(); }

}  // namespace

std::string fallback_protocol(const Run& run) {
  return param_text(run, "data.eval_mode") == "generate" ? kProtocolGreedyFirstMatch
                                                         : kProtocolTeacherForced;
}

std::string checkpoint_rule(const Run& run) {
  const std::string rule = tag(run, kReportRuleTag);
  return rule.empty() ? kRuleLatest : rule;
}

bool best_on_test(const Run& run) { return tag(run, kBestOnTestTag) == "true"; }

int64_t report_step(const Run& run) {
  const std::string step = tag(run, kReportStepTag);
  if (step.empty()) return -1;
  try {
    return std::stoll(step);
  } catch (const std::exception&) {
    return -1;
  }
}

std::vector<TaskResult> task_results(const Run& run) {
  const std::vector<std::string> prefixes = {kMetricReportAccPrefix,     kMetricEvalAccPrefix,
                                             kMetricReportAccNormPrefix, kMetricEvalAccNormPrefix,
                                             kMetricEvalParseFailPrefix, kMetricValAccPrefix};
  std::set<std::string> tasks;
  for (const auto& [key, value] : run.latest_metrics)
    for (const std::string& p : prefixes)
      if (starts_with(key, p) && key.size() > p.size()) tasks.insert(key.substr(p.size()));
  std::vector<TaskResult> out;
  const std::string fallback = fallback_protocol(run);
  for (const std::string& task : tasks) {
    TaskResult r;
    r.task = task;
    r.split = tag(run, kEvalSplitTagPrefix + task);
    if (r.split.empty()) r.split = kDefaultSplit;
    r.protocol = tag(run, kProtocolTagPrefix + task);
    r.protocol_inferred = r.protocol.empty();
    if (r.protocol_inferred) r.protocol = fallback;
    r.latest_accuracy = latest(run, kMetricEvalAccPrefix + task);
    const double reported = latest(run, kMetricReportAccPrefix + task);
    r.reported = std::isfinite(reported);
    r.accuracy = r.reported ? reported : r.latest_accuracy;
    r.acc_norm = latest(run, kMetricReportAccNormPrefix + task);
    if (!std::isfinite(r.acc_norm)) r.acc_norm = latest(run, kMetricEvalAccNormPrefix + task);
    r.parse_failures = latest(run, kMetricEvalParseFailPrefix + task);
    r.validation_accuracy = latest(run, kMetricValAccPrefix + task);
    out.push_back(std::move(r));
  }
  return out;
}

ResultsTable build_results_table(const std::vector<Run>& runs, const ResultsTableOptions& options) {
  ResultsTable t;
  t.groups = options.groups;
  std::vector<Run> included;
  std::map<std::string, std::map<std::string, TaskResult>> scored;  // run id → task → result
  std::vector<std::string> left_out;
  for (const Run* r : select_runs(runs, options)) {
    auto tasks = scored_tasks(*r);
    if (tasks.empty()) {
      if (!options.run_prefixes.empty())
        left_out.push_back((r->name.empty() ? r->run_id.substr(0, 8) : r->name));
      continue;
    }
    scored[r->run_id] = std::move(tasks);
    included.push_back(*r);
  }
  std::set<std::string> task_names;
  for (const auto& [id, tasks] : scored)
    for (const auto& [task, result] : tasks) task_names.insert(task);
  for (const std::string& task : task_names) t.columns.push_back({task, {}, {}});

  // Member runs of each row, ordered by seed (groups) and the rows' start times.
  std::vector<std::vector<const Run*>> members;
  if (options.groups) {
    for (const SeedGroup& g : group_runs(included)) {
      std::vector<const Run*> m;
      for (const std::string& id : g.run_ids)
        for (const Run& r : included)
          if (r.run_id == id) m.push_back(&r);
      std::stable_sort(m.begin(), m.end(), [](const Run* a, const Run* b) {
        return a->seed != b->seed ? a->seed < b->seed : a->start_ms < b->start_ms;
      });
      t.rows.emplace_back();
      // A group of one run is named like the run (its label would be the experiment's name).
      t.rows.back().label = m.size() == 1 && !m.front()->name.empty() ? m.front()->name : g.label;
      members.push_back(std::move(m));
      t.rows.back().key = g.key;
    }
  } else {
    for (const Run& r : included) {
      members.push_back({&r});
      t.rows.emplace_back();
      t.rows.back().label = r.name.empty() ? r.run_id.substr(0, 8) : r.name;
      t.rows.back().key = r.run_id;
    }
  }
  std::vector<int64_t> starts;
  for (size_t i = 0; i < t.rows.size(); ++i) {
    ResultsRow& row = t.rows[i];
    const std::vector<const Run*>& m = members[i];
    int64_t start = m.front()->start_ms;
    std::set<std::string> rules;
    std::map<std::string, int> unfinished;
    std::vector<double> averages;
    row.experiment = m.front()->experiment_name;
    for (const Run* r : m) {
      start = std::min(start, r->start_ms);
      row.run_ids.push_back(r->run_id);
      row.seeds.push_back(r->seed);
      rules.insert(checkpoint_rule(*r));
      row.best_on_test = row.best_on_test || best_on_test(*r);
      if (r->status != RunStatus::Finished) ++unfinished[to_string(r->status)];
      const auto& tasks = scored[r->run_id];
      averages.push_back(run_average(tasks));
      row.partial = row.partial || tasks.size() < t.columns.size();
    }
    row.rules = sorted(rules);
    row.avg = cell_of(averages);
    if (!options.groups) {
      row.status = to_string(m.front()->status);
      row.report_step = report_step(*m.front());
    } else {
      std::vector<std::string> parts;
      for (const auto& [status, n] : unfinished)
        parts.push_back(std::to_string(n) + " of " + std::to_string(m.size()) + " " + status);
      row.status = join(parts, ", ");
    }
    for (ResultsColumn& col : t.columns) {
      std::vector<double> values;
      std::set<std::string> protocols, splits;
      for (const Run* r : m) {
        const auto& tasks = scored[r->run_id];
        const auto it = tasks.find(col.task);
        if (it == tasks.end()) continue;
        values.push_back(it->second.accuracy);
        protocols.insert(it->second.protocol);
        splits.insert(it->second.split);
      }
      row.cells.push_back(cell_of(values));
      row.protocols.push_back(sorted(protocols));
      row.splits.push_back(sorted(splits));
    }
    starts.push_back(start);
  }
  // Oldest row first (ties: by key), so a table reads in the order the runs were made.
  std::vector<size_t> order(t.rows.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return starts[a] != starts[b] ? starts[a] < starts[b] : t.rows[a].key < t.rows[b].key;
  });
  std::vector<ResultsRow> rows;
  for (size_t i : order) rows.push_back(std::move(t.rows[i]));
  t.rows = std::move(rows);
  disambiguate(t.rows, options.groups);

  for (size_t c = 0; c < t.columns.size(); ++c) {
    std::set<std::string> protocols, splits;
    for (const ResultsRow& row : t.rows) {
      protocols.insert(row.protocols[c].begin(), row.protocols[c].end());
      splits.insert(row.splits[c].begin(), row.splits[c].end());
    }
    t.columns[c].protocols = sorted(protocols);
    t.columns[c].splits = sorted(splits);
  }
  add_warnings(t, left_out);
  return t;
}

std::string results_table_markdown(const ResultsTable& t) {
  if (t.rows.empty()) return "(no runs with per-task accuracy)\n";
  std::vector<std::string> header = {t.groups ? "Group" : "Run"};
  std::vector<bool> numeric = {false};
  if (t.groups) {
    header.push_back("n");
    numeric.push_back(true);
  }
  header.push_back("Rule");
  numeric.push_back(false);
  for (const ResultsColumn& c : t.columns) {
    header.push_back(
        md_escape(c.task + " (" + join(c.protocols, " / ") + ", " + join(c.splits, " / ") + ")"));
    numeric.push_back(true);
  }
  header.push_back("Avg");
  numeric.push_back(true);

  std::string out = "| " + join(header, " | ") + " |\n|";
  for (bool n : numeric) out += n ? " ---: |" : " :--- |";
  out += "\n";
  for (const ResultsRow& row : t.rows) {
    const int n = static_cast<int>(row.run_ids.size());
    std::vector<std::string> cells = {md_escape(row.label)};
    if (t.groups) cells.push_back(std::to_string(n));
    cells.push_back(md_escape(join(row.rules, "/")));
    for (const ResultsCell& c : row.cells) cells.push_back(md_cell(c, t.groups, n, false));
    cells.push_back(md_cell(row.avg, t.groups, n, row.partial));
    out += "| " + join(cells, " | ") + " |\n";
  }
  out +=
      "\nAccuracy in %. A cell is the run's reported accuracy (report/acc/<task>, at the rule "
      "shown) or, with rule \"latest\", its latest eval/acc/<task>; header: task (protocol, "
      "split).";
  if (t.groups) out += " Groups: mean ± 95 % CI half-width over seeds (Student t).";
  out += "\n";
  if (!t.warnings.empty()) out += "\n";
  for (const std::string& w : t.warnings) out += "- **Warning:** " + md_escape(w) + "\n";
  return out;
}

std::string results_table_csv(const ResultsTable& t) {
  std::vector<std::string> header;
  if (t.groups)
    header = {"group_key", "label", "n", "seeds", "rule"};
  else
    header = {"run_id", "name", "experiment", "seed", "status", "rule", "report_step"};
  for (const ResultsColumn& c : t.columns) {
    header.push_back(c.task);
    if (t.groups) {
      header.push_back(c.task + "_ci95");
      header.push_back(c.task + "_n");
    }
  }
  header.push_back("avg");
  if (t.groups) {
    header.push_back("avg_ci95");
    header.push_back("avg_n");
  }
  for (const ResultsColumn& c : t.columns) header.push_back("protocol_" + c.task);
  for (const ResultsColumn& c : t.columns) header.push_back("split_" + c.task);

  std::string out;
  std::vector<std::string> escaped;
  for (const std::string& h : header) escaped.push_back(csv_escape(h));
  out += join(escaped, ",") + "\n";
  for (const ResultsRow& row : t.rows) {
    std::vector<std::string> f;
    if (t.groups) {
      std::vector<std::string> seeds;
      for (uint64_t s : row.seeds) seeds.push_back(std::to_string(s));
      f = {row.key, row.label, std::to_string(row.run_ids.size()), join(seeds, ";"),
           join(row.rules, "/")};
    } else {
      f = {row.key,
           row.label,
           row.experiment,
           std::to_string(row.seeds.front()),
           row.status,
           join(row.rules, "/"),
           row.report_step >= 0 ? std::to_string(row.report_step) : std::string()};
    }
    auto add_cell = [&](const ResultsCell& c) {
      f.push_back(csv_number(c.mean));
      if (t.groups) {
        f.push_back(csv_number(c.ci95));
        f.push_back(std::to_string(c.n));
      }
    };
    for (const ResultsCell& c : row.cells) add_cell(c);
    add_cell(row.avg);
    for (const auto& p : row.protocols) f.push_back(join(p, "/"));
    for (const auto& s : row.splits) f.push_back(join(s, "/"));
    for (std::string& field : f) field = csv_escape(field);
    out += join(f, ",") + "\n";
  }
  return out;
}

std::vector<std::string> comparability_warnings(const std::vector<Run>& a,
                                                const std::vector<Run>& b) {
  return comparability_warnings(std::vector<std::vector<Run>>{a, b}, {"A", "B"});
}

std::vector<std::string> comparability_warnings(const std::vector<std::vector<Run>>& sides,
                                                const std::vector<std::string>& names) {
  struct Side {
    std::map<std::string, std::set<std::string>> protocols, splits;
    std::set<std::string> rules;
    bool on_test = false;
  };
  auto side_of = [](const std::vector<Run>& runs) {
    Side s;
    for (const Run& r : runs) {
      const auto tasks = scored_tasks(r);
      if (tasks.empty()) continue;  // pretraining, no evaluation yet: nothing to compare
      for (const auto& [task, t] : tasks) {
        s.protocols[task].insert(t.protocol);
        s.splits[task].insert(t.split);
      }
      s.rules.insert(checkpoint_rule(r));
      s.on_test = s.on_test || best_on_test(r);
    }
    return s;
  };
  std::vector<Side> all;
  for (const auto& runs : sides) all.push_back(side_of(runs));
  auto name = [&names](size_t i) { return i < names.size() ? names[i] : std::to_string(i + 1); };
  auto text = [](const std::set<std::string>& s) { return join(sorted(s), "/"); };
  // "A x, B y, C z" over the sides that have the value; whether they differ.
  using Getter = std::function<const std::set<std::string>*(const Side&)>;
  auto compare = [&](const Getter& get, std::string* listed) {
    std::vector<std::string> parts;
    const std::set<std::string>* first = nullptr;
    bool differs = false;
    for (size_t i = 0; i < all.size(); ++i) {
      const std::set<std::string>* v = get(all[i]);
      if (!v || v->empty()) continue;
      if (!first) first = v;
      differs = differs || *v != *first;
      parts.push_back(name(i) + " " + text(*v));
    }
    *listed = join(parts, ", ");
    return differs && parts.size() > 1;
  };
  std::set<std::string> tasks;
  for (const Side& s : all)
    for (const auto& [task, p] : s.protocols) tasks.insert(task);
  std::vector<std::string> out;
  for (const std::string& task : tasks) {
    size_t holders = 0;
    for (const Side& s : all) holders += s.protocols.count(task);
    if (holders < 2) continue;  // a task only one side scored: nothing to compare
    std::string listed;
    if (compare(
            [&task](const Side& s) {
              const auto it = s.protocols.find(task);
              return it == s.protocols.end() ? nullptr : &it->second;
            },
            &listed))
      out.push_back(task + ": scored under different protocols: " + listed +
                    "; the accuracies are not comparable");
    if (compare(
            [&task](const Side& s) {
              const auto it = s.splits.find(task);
              return it == s.splits.end() ? nullptr : &it->second;
            },
            &listed))
      out.push_back(task + ": evaluated on different splits: " + listed +
                    "; the accuracies are not comparable");
  }
  std::string listed;
  if (compare([](const Side& s) { return &s.rules; }, &listed))
    out.push_back("different checkpoint rules: " + listed +
                  "; the reported evaluations were chosen differently");
  for (size_t i = 0; i < all.size(); ++i)
    if (all[i].on_test)
      out.push_back(name(i) + " chose its checkpoint on the test split: optimistic numbers");
  return out;
}

}  // namespace apportion
