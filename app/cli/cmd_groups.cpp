// SPDX-License-Identifier: GPL-3.0-or-later
// Seed groups on the command line: `runs --groups`, `show GROUP_OR_RUN`, `export GROUP --csv`
// and `compare A B` (mean, std, Student-t intervals and Welch differences over seed runs).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "app/cli/exit_codes.h"
#include "app/cli/workspace_targets.h"
#include "core/common/error.h"
#include "core/store/store_keys.h"

namespace apportion::cli {
namespace fs = std::filesystem;

namespace {

/// Metric keys whose per-step curves `export GROUP` aggregates (the names the trainer writes).
const char* const kCurveKeys[] = {kMetricEvalAcc, kMetricEvalLoss, kMetricTrainLoss};

double latest(const Run& r, const std::string& key) {
  auto it = r.latest_metrics.find(key);
  return it == r.latest_metrics.end() ? std::nan("") : it->second;
}

std::vector<double> latest_values(const std::vector<Run>& runs, const std::string& key) {
  std::vector<double> v;
  for (const Run& r : runs) v.push_back(latest(r, key));
  return v;
}

std::string fmt(const char* format, double v) {
  if (std::isnan(v)) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

/// "3 FINISHED" or "2 FINISHED, 1 FAILED".
std::string status_summary(const std::vector<Run>& runs) {
  std::map<std::string, int> counts;
  for (const Run& r : runs) ++counts[to_string(r.status)];
  std::string out;
  for (const auto& [status, n] : counts) {
    out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + status;
  }
  return out;
}

nlohmann::json number_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json();
}

nlohmann::json summary_json(const SampleSummary& s) {
  return {{"n", s.n},
          {"mean", number_or_null(s.mean)},
          {"std", number_or_null(s.stddev)},
          {"min", number_or_null(s.min)},
          {"max", number_or_null(s.max)},
          {"ci95_low", number_or_null(s.ci95_low)},
          {"ci95_high", number_or_null(s.ci95_high)}};
}

/// Latest-metric keys present in any run, filtered by prefix, sorted.
std::vector<std::string> metric_keys(const std::vector<Run>& runs,
                                     const std::vector<std::string>& prefixes) {
  std::set<std::string> keys;
  for (const Run& r : runs) {
    for (const auto& [k, v] : r.latest_metrics) {
      for (const auto& p : prefixes) {
        if (k.rfind(p, 0) == 0) keys.insert(k);
      }
    }
  }
  return {keys.begin(), keys.end()};
}

std::vector<Run> members_of(const SeedGroup& g, const std::vector<Run>& runs) {
  std::vector<Run> out;
  for (const Run& r : runs) {
    if (std::find(g.run_ids.begin(), g.run_ids.end(), r.run_id) != g.run_ids.end())
      out.push_back(r);
  }
  std::stable_sort(out.begin(), out.end(), [](const Run& a, const Run& b) {
    return a.seed != b.seed ? a.seed < b.seed : a.start_ms < b.start_ms;
  });
  return out;
}

std::string describe(const Target& t) {
  if (!t.is_group)
    return "run " + t.runs.front().run_id.substr(0, 8) + " (" + t.runs.front().name + ")";
  return "group " + short_group_key(t.group.key) + " (" + t.group.label + ", " +
         std::to_string(t.runs.size()) + " runs, seeds " + format_seed_list(t.group.seeds) + ")";
}

}  // namespace

std::string short_group_key(const std::string& key) {
  const auto colon = key.find(':');
  const size_t head = colon == std::string::npos ? 0 : colon + 1;
  return key.substr(0, head + 8);
}

Target resolve_target(const RunReader& reader, const std::string& text) {
  if (text.empty()) {
    throw StoreError("GROUP_OR_RUN is empty: give a seed group key or a run id (prefix)");
  }
  const std::vector<Run> runs = reader.list_runs();
  const std::vector<SeedGroup> groups = group_runs(runs);
  std::vector<const SeedGroup*> group_matches;
  for (const auto& g : groups) {
    if (g.key == text) {
      group_matches = {&g};
      break;
    }
    if (g.key.rfind(text, 0) == 0) group_matches.push_back(&g);
  }
  std::vector<const Run*> run_matches;
  for (const auto& r : runs) {
    if (r.run_id.rfind(text, 0) == 0) run_matches.push_back(&r);
  }
  if (group_matches.size() > 1) {
    std::string keys;
    for (size_t i = 0; i < group_matches.size() && i < 5; ++i)
      keys += (i ? ", " : "") + short_group_key(group_matches[i]->key);
    throw StoreError("'" + text + "' matches " + std::to_string(group_matches.size()) +
                     " seed groups (" + keys + "); write more of the key");
  }
  if (run_matches.size() > 1 && group_matches.empty()) {
    throw StoreError("'" + text + "' matches " + std::to_string(run_matches.size()) +
                     " runs; write more of the run id");
  }
  if (!group_matches.empty() && !run_matches.empty()) {
    throw StoreError("'" + text + "' matches seed group " + short_group_key(group_matches[0]->key) +
                     " and run " + run_matches[0]->run_id.substr(0, 8) +
                     "; write more characters of the one you mean");
  }
  Target t;
  if (group_matches.size() == 1) {
    t.is_group = true;
    t.group = *group_matches[0];
    t.runs = members_of(t.group, runs);
    t.group.run_ids.clear();
    t.group.seeds.clear();
    for (const Run& r : t.runs) {
      t.group.run_ids.push_back(r.run_id);
      t.group.seeds.push_back(r.seed);
    }
    return t;
  }
  if (run_matches.size() == 1) {
    const Run& r = *run_matches[0];
    t.group = SeedGroup{seed_group_key(r), seed_group_label(r), {r.run_id}, {r.seed}};
    t.runs = {r};
    return t;
  }
  throw StoreError("no seed group or run matching '" + text +
                   "' (list them with `apportion runs --groups` or `apportion runs`)");
}

int run_list_groups(const std::string& db_path, bool as_json) {
  const RunReader reader = open_reader(db_path);
  const std::vector<Run> runs = reader.list_runs();
  const std::vector<SeedGroup> groups = group_runs(runs);
  if (as_json) {
    nlohmann::json all = nlohmann::json::array();
    for (const auto& g : groups) {
      const auto members = members_of(g, runs);
      std::map<std::string, int> statuses;
      for (const Run& r : members) ++statuses[to_string(r.status)];
      all.push_back(
          {{"key", g.key},
           {"label", g.label},
           {"n", members.size()},
           {"seeds", g.seeds},
           {"run_ids", g.run_ids},
           {"status", statuses},
           {kMetricEvalAcc, summary_json(summarize(latest_values(members, kMetricEvalAcc)))}});
    }
    std::cout << all.dump(2) << std::endl;
    return kExitFinished;
  }
  std::printf("%-16s %-24s %3s %-12s %-22s %9s  %s\n", "GROUP", "LABEL", "N", "SEEDS", "STATUS",
              "EVAL_ACC", "MIN-MAX");
  for (const auto& g : groups) {
    const auto members = members_of(g, runs);
    const SampleSummary s = summarize(latest_values(members, kMetricEvalAcc));
    const std::string range =
        s.n ? fmt("%.2f", 100 * s.min) + "-" + fmt("%.2f", 100 * s.max) + " %" : "-";
    std::printf("%-16s %-24.24s %3zu %-12.12s %-22.22s %9s  %s\n", short_group_key(g.key).c_str(),
                g.label.c_str(), members.size(), format_seed_list(g.seeds).c_str(),
                status_summary(members).c_str(),
                s.n ? (fmt("%.2f", 100 * s.mean) + " %").c_str() : "-", range.c_str());
  }
  if (groups.empty()) std::printf("(no runs yet)\n");
  return kExitFinished;
}

int run_show(const std::string& db_path, const std::string& target, bool as_json) {
  const RunReader reader = open_reader(db_path);
  const Target t = resolve_target(reader, target);
  if (!t.is_group) return run_show_run(db_path, t.runs.front().run_id, as_json);
  return run_show_group(db_path, t.group.key, as_json);
}

int run_show_group(const std::string& db_path, const std::string& group, bool as_json) {
  const RunReader reader = open_reader(db_path);
  const Target t = resolve_target(reader, group);
  const std::vector<std::string> keys = metric_keys(t.runs, {"eval/", "baseline/"});
  if (as_json) {
    nlohmann::json j;
    j["key"] = t.group.key;
    j["label"] = t.group.label;
    j["seeds"] = t.group.seeds;
    nlohmann::json runs = nlohmann::json::array();
    for (const Run& r : t.runs) {
      nlohmann::json latest_json = nlohmann::json::object();
      for (const auto& [k, v] : r.latest_metrics) latest_json[k] = number_or_null(v);
      runs.push_back({{"run_id", r.run_id},
                      {"name", r.name},
                      {"seed", r.seed},
                      {"status", to_string(r.status)},
                      {"latest_metrics", latest_json}});
    }
    j["runs"] = runs;
    nlohmann::json metrics = nlohmann::json::object();
    for (const auto& k : keys) metrics[k] = summary_json(summarize(latest_values(t.runs, k)));
    j["metrics"] = metrics;
    std::cout << j.dump(2) << std::endl;
    return kExitFinished;
  }
  std::cout << "group      " << t.group.key << "\nlabel      " << t.group.label << "\nruns       "
            << t.runs.size() << " (seeds " << format_seed_list(t.group.seeds) << ")\nstatus     "
            << status_summary(t.runs) << "\n\n";
  std::printf("%-10s %6s %-9s %7s %9s  %s\n", "RUN", "SEED", "STATUS", "STEP", "EVAL_ACC", "NAME");
  for (const Run& r : t.runs) {
    auto step_it = r.latest_steps.find(kMetricTrainLoss);
    const long step = step_it == r.latest_steps.end() ? 0 : static_cast<long>(step_it->second);
    std::printf("%-10s %6llu %-9s %7ld %9s  %s\n", r.run_id.substr(0, 8).c_str(),
                static_cast<unsigned long long>(r.seed), to_string(r.status), step,
                fmt("%.4f", latest(r, kMetricEvalAcc)).c_str(), r.name.c_str());
  }
  std::printf("\n%-28s %3s %9s %9s %9s %9s  %s\n", "METRIC (latest)", "N", "MEAN", "STD", "MIN",
              "MAX", "95% CI");
  for (const auto& k : keys) {
    const SampleSummary s = summarize(latest_values(t.runs, k));
    const std::string ci = s.n ? "[" + fmt("%.4f", s.ci95_low) + ", " + fmt("%.4f", s.ci95_high) +
                                     "]" + (s.n < 2 ? " (one run)" : "")
                               : "-";
    std::printf("%-28s %3d %9s %9s %9s %9s  %s\n", k.c_str(), s.n, fmt("%.4f", s.mean).c_str(),
                fmt("%.4f", s.stddev).c_str(), fmt("%.4f", s.min).c_str(),
                fmt("%.4f", s.max).c_str(), ci.c_str());
  }
  if (keys.empty()) std::printf("(no eval/* metrics yet)\n");
  return kExitFinished;
}

int run_export_csv(const std::string& db_path, const std::string& target, const std::string& dir) {
  const RunReader reader = open_reader(db_path);
  const Target t = resolve_target(reader, target);
  if (!t.is_group) return run_export_run_csv(db_path, t.runs.front().run_id, dir);
  return run_export_group_csv(db_path, t.group.key, dir);
}

int run_export_group_csv(const std::string& db_path,
                         const std::string& group,
                         const std::string& dir) {
  const RunReader reader = open_reader(db_path);
  const Target t = resolve_target(reader, group);
  fs::create_directories(dir);
  for (const Run& r : t.runs) {
    const int code = run_export_run_csv(db_path, r.run_id, (fs::path(dir) / r.run_id).string());
    if (code != kExitFinished) return code;
  }
  {
    std::ofstream members(fs::path(dir) / "group_runs.csv");
    members << "run_id,seed,name,status\n";
    for (const Run& r : t.runs) {
      members << r.run_id << "," << r.seed << "," << csv_escape(r.name) << ","
              << to_string(r.status) << "\n";
    }
  }
  std::ofstream summary(fs::path(dir) / "group_summary.csv");
  summary.precision(9);
  summary << "metric,n,mean,std,min,max,ci95_low,ci95_high\n";
  for (const auto& k : metric_keys(t.runs, {""})) {
    const SampleSummary s = summarize(latest_values(t.runs, k));
    summary << csv_escape(k) << "," << s.n << "," << s.mean << "," << s.stddev << "," << s.min
            << "," << s.max << "," << s.ci95_low << "," << s.ci95_high << "\n";
  }
  std::vector<std::string> written{"group_runs.csv", "group_summary.csv"};
  for (const char* key : kCurveKeys) {
    std::vector<MetricSeries> series;
    for (const Run& r : t.runs) {
      MetricSeries s = reader.metric_series(r.run_id, key);
      if (!s.steps.empty()) series.push_back(std::move(s));
    }
    if (series.empty()) continue;
    const GroupCurve c = aggregate_curves(series);
    std::string name = key;
    std::replace(name.begin(), name.end(), '/', '_');
    name = "group_curve_" + name + ".csv";
    std::ofstream out(fs::path(dir) / name);
    out.precision(9);
    out << "step,n,mean,min,max\n";
    for (size_t i = 0; i < c.steps.size(); ++i) {
      out << c.steps[i] << "," << c.n[i] << "," << c.mean[i] << "," << c.min[i] << "," << c.max[i]
          << "\n";
    }
    written.push_back(name);
  }
  std::cerr << "wrote " << t.runs.size() << " run folders (metrics.csv, params.csv, matrices.csv)";
  for (const auto& w : written) std::cerr << ", " << w;
  std::cerr << " to " << dir << std::endl;
  return kExitFinished;
}

int run_compare(const std::string& db_path,
                const std::string& a,
                const std::string& b,
                bool as_json) {
  const RunReader reader = open_reader(db_path);
  const Target ta = resolve_target(reader, a);
  const Target tb = resolve_target(reader, b);
  std::vector<Run> both = ta.runs;
  both.insert(both.end(), tb.runs.begin(), tb.runs.end());
  std::vector<std::string> keys{kMetricEvalAcc};
  for (const auto& k : metric_keys(both, {"eval/acc/"})) keys.push_back(k);

  nlohmann::json rows = nlohmann::json::array();
  if (!as_json) {
    std::cout << "A: " << describe(ta) << "\nB: " << describe(tb) << "\n\n";
    std::printf("%-24s %4s %8s %4s %8s %9s  %-22s %6s\n", "METRIC (%)", "N_A", "MEAN_A", "N_B",
                "MEAN_B", "A-B", "95% CI (Welch)", "DOF");
  }
  for (const auto& k : keys) {
    const auto va = latest_values(ta.runs, k), vb = latest_values(tb.runs, k);
    const SampleSummary sa = summarize(va), sb = summarize(vb);
    const MeanDifference d = difference_of_means(va, vb);
    if (as_json) {
      rows.push_back({{"metric", k},
                      {"n_a", d.n_a},
                      {"mean_a", number_or_null(sa.mean)},
                      {"n_b", d.n_b},
                      {"mean_b", number_or_null(sb.mean)},
                      {"diff", number_or_null(d.diff)},
                      {"ci95_low", number_or_null(d.ci95_low)},
                      {"ci95_high", number_or_null(d.ci95_high)},
                      {"dof", number_or_null(d.dof)}});
      continue;
    }
    const std::string ci =
        std::isnan(d.ci95_low)
            ? (std::isnan(d.diff) ? "-" : "n/a (needs 2+ runs a side)")
            : "[" + fmt("%+.2f", 100 * d.ci95_low) + ", " + fmt("%+.2f", 100 * d.ci95_high) + "]";
    std::printf("%-24s %4d %8s %4d %8s %9s  %-22s %6s\n", k.c_str(), d.n_a,
                fmt("%.2f", 100 * sa.mean).c_str(), d.n_b, fmt("%.2f", 100 * sb.mean).c_str(),
                fmt("%+.2f", 100 * d.diff).c_str(), ci.c_str(), fmt("%.1f", d.dof).c_str());
  }
  if (as_json) {
    nlohmann::json j;
    j["a"] = {{"key", ta.group.key}, {"is_group", ta.is_group}, {"run_ids", ta.group.run_ids}};
    j["b"] = {{"key", tb.group.key}, {"is_group", tb.is_group}, {"run_ids", tb.group.run_ids}};
    j["metrics"] = rows;
    std::cout << j.dump(2) << std::endl;
  }
  return kExitFinished;
}

}  // namespace apportion::cli
