// SPDX-License-Identifier: GPL-3.0-or-later
// Checkpoint rule bookkeeping and the report/* records.
#include "core/train/eval_report.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/common/clock.h"
#include "core/common/durable_file.h"
#include "core/common/json_parse.h"
#include "core/store/store_keys.h"

namespace apportion {
namespace {

double mean_of(const std::map<std::string, double>& m) {
  if (m.empty()) return 0.0;
  double s = 0.0;
  for (const auto& [k, v] : m) s += v;
  return s / static_cast<double>(m.size());
}

}  // namespace

double EvalScores::test_mean() const { return mean_of(test_acc); }
double EvalScores::val_mean() const { return mean_of(val_acc); }

EvalReport::EvalReport(const TrainConfig& train, const std::string& run_dir)
    : rule_(train.checkpoint_rule),
      path_((std::filesystem::path(run_dir) / "report.json").string()) {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return;
  try {
    const auto j = read_json_file_bounded(path_, JsonLimits::config());
    if (j.value("rule", std::string()) != rule_) return;
    step_ = j.at("step").get<int64_t>();
    criterion_ = j.at("criterion").get<double>();
    chosen_.test_acc = j.at("test_acc").get<std::map<std::string, double>>();
    chosen_.test_acc_norm = j.at("test_acc_norm").get<std::map<std::string, double>>();
    chosen_.val_acc = j.at("val_acc").get<std::map<std::string, double>>();
    have_ = true;
  } catch (const std::exception&) {
    have_ = false;  // unreadable (a crash mid-write): the evaluations after the resume decide
  }
}

bool EvalReport::observe(int64_t step, const EvalScores& scores) {
  const double criterion = rule_ == "best_validation" ? scores.val_mean() : scores.test_mean();
  const bool take = rule_ == "last" || !have_ || criterion > criterion_;
  if (!take) return false;
  have_ = true;
  step_ = step;
  criterion_ = criterion;
  chosen_ = scores;
  save();
  return rule_ != "last";
}

void EvalReport::save() const {
  const nlohmann::json j = {{"rule", rule_},
                            {"step", step_},
                            {"criterion", criterion_},
                            {"test_acc", chosen_.test_acc},
                            {"test_acc_norm", chosen_.test_acc_norm},
                            {"val_acc", chosen_.val_acc}};
  const std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << j.dump(2) << "\n";
  }
  publish_file(tmp, path_);  // fsync, rename, fsync the folder
}

void EvalReport::finish(int64_t final_step, EventSink& sink) const {
  if (!have_) return;
  const int64_t now = now_ms();
  for (const auto& [task, acc] : chosen_.test_acc) {
    sink.on_metric(MetricPoint{kMetricReportAccPrefix + task, final_step, acc, now});
  }
  for (const auto& [task, acc] : chosen_.test_acc_norm) {
    sink.on_metric(MetricPoint{kMetricReportAccNormPrefix + task, final_step, acc, now});
  }
  if (!chosen_.test_acc.empty()) {
    sink.on_metric(MetricPoint{kMetricReportAcc, final_step, chosen_.test_mean(), now});
  }
  sink.on_tag({kReportRuleTag, rule_});
  sink.on_tag({kReportStepTag, std::to_string(step_)});
  if (rule_ == "best_test") sink.on_tag({kBestOnTestTag, "true"});
}

}  // namespace apportion
