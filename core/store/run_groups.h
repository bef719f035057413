// SPDX-License-Identifier: GPL-3.0-or-later
// Seed groups: runs of one experiment config that differ only by seed, grouped by an explicit
// `seed_group` tag (written by `apportion train --seeds`) or by a hash of the config without its
// seed; and the statistics over such a group (mean, sample std, Student-t 95 % intervals, Welch
// differences of means, per-step curve aggregation). Pure functions over run-store value types:
// no SQLite, Qt or torch.
//
// Intended usage:
//   const std::vector<Run> runs = reader.list_runs();
//   for (const SeedGroup& g : group_runs(runs)) {
//     std::vector<double> acc;   // one value per member run
//     for (const auto& id : g.run_ids) acc.push_back(latest(id, "eval/acc"));
//     SampleSummary s = summarize(acc);       // s.mean ± s.stddev, [s.ci95_low, s.ci95_high]
//   }
//   MeanDifference d = difference_of_means(acc_a, acc_b);   // d.diff in [d.ci95_low, d.ci95_high]
//   GroupCurve c = aggregate_curves({series_of_run1, series_of_run2, series_of_run3});
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/store/run_types.h"

namespace apportion {

/// Tag that puts a run into an explicit seed group (its value, a UUID, is the group key).
constexpr const char* kSeedGroupTag = "seed_group";

/// Summary statistics of one sample (a metric over the runs of a group). With n == 0 every
/// other field is NaN.
struct SampleSummary {
  int n = 0;
  double mean = 0, stddev = 0 /*sample, n-1*/, min = 0, max = 0, ci95_low = 0, ci95_high = 0;
};
/// NaNs are skipped; n == 1: stddev 0 and CI = [mean, mean]; otherwise the CI is
/// mean ± t(0.975, n-1)·stddev/√n.
SampleSummary summarize(const std::vector<double>& values);

/// Welch difference of means (a - b) with its 95 % interval (t quantile with Welch–Satterthwaite
/// dof). NaNs are skipped. diff is NaN when a sample is empty; the interval and dof are NaN when
/// a sample has fewer than two values (its variance is unknown). Two samples without spread give
/// the interval [diff, diff] and dof = n_a + n_b - 2.
struct MeanDifference {
  int n_a = 0, n_b = 0;
  double diff = 0, ci95_low = 0, ci95_high = 0, dof = 0;
};
MeanDifference difference_of_means(const std::vector<double>& a, const std::vector<double>& b);

/// Quantile of Student's t distribution: the t with P(T <= t) = p (two-sided 95 %: p = 0.975).
/// Accurate to 1e-6 for dof >= 1 (non-integer dof too); NaN when p is not in (0, 1) or dof <= 0.
double student_t_quantile(double p, double dof);
/// P(T <= t) for Student's t distribution with `dof` degrees of freedom (dof > 0).
double student_t_cdf(double t, double dof);

/// A seed group: runs of one experiment config that differ only by seed.
struct SeedGroup {
  std::string key;    ///< see seed_group_key()
  std::string label;  ///< the run name without "-s<digits>", else the experiment name
  std::vector<std::string> run_ids;
  std::vector<uint64_t> seeds;  ///< seeds[i] is the seed of run_ids[i]
};

/// The role of a run in a GuiLoMo pipeline: "search" or "retrain" (from its config's
/// allocation.guilomo.stage, else from its `pipeline` / `guilomo/search_run` tags); "" for
/// runs outside a pipeline.
std::string pipeline_role(const Run& run);

/// The group a run belongs to. With a `seed_group` tag: that tag ("<role>:<tag>" for a pipeline
/// run, so a search never groups with its retrain). Otherwise "cfg:" + 16 hex digits of a hash
/// of the stored config_json without the top-level `seed` and without the fields derived from
/// other runs (allocation.guilomo.search_run, allocation.guilomo.allocation_file), plus the
/// pipeline role. Run ids are pure hex, so a "cfg:" key never looks like a run id.
std::string seed_group_key(const Run& run);

/// The display label of a run's group: its name with a trailing "-s<digits>" removed (also
/// before a trailing " (…)", e.g. "guilomo-s3 (search)" -> "guilomo (search)"); else the
/// experiment name (plus " (<role>)" for a pipeline run).
std::string seed_group_label(const Run& run);

/// Groups runs by seed_group_key(), in order of first appearance; singletons are included.
/// The label is that of the group's first run.
std::vector<SeedGroup> group_runs(const std::vector<Run>& runs);

/// Per-step mean/min/max of one metric over the runs of a group (the union of steps; a step
/// counts the runs that have it).
struct GroupCurve {
  std::vector<int64_t> steps;
  std::vector<double> mean, min, max;
  std::vector<int> n;
};
/// Steps ascending. NaN values are skipped (not counted); a step where every value is NaN has
/// n = 0 and NaN mean/min/max.
GroupCurve aggregate_curves(const std::vector<MetricSeries>& series);

}  // namespace apportion
