// SPDX-License-Identifier: GPL-3.0-or-later
// Seed groups and their statistics: grouping keys, sample summaries, Student-t quantiles,
// Welch differences and per-step curve aggregation.
//
// The t quantile is computed here (regularized incomplete beta by its continued fraction,
// inverted by bisection) instead of taking Boost.Math: it is one function, ap_core would gain a
// dependency for it, and the tests pin it against closed forms (dof 1, 2), table values and a
// numerical integral of the density.
#include "core/store/run_groups.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <initializer_list>
#include <limits>
#include <map>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/common/json_parse.h"
#include "core/methods/method_registry.h"
#include "core/store/run_writer.h"
#include "core/store/store_keys.h"

namespace apportion {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// Continued fraction of the regularized incomplete beta (modified Lentz), converging for
/// x < (a+1)/(a+b+2) in O(sqrt(max(a, b))) iterations.
double beta_continued_fraction(double a, double b, double x) {
  constexpr int kMaxIterations = 200000;
  constexpr double kEps = 1e-16;
  constexpr double kTiny = 1e-300;
  const double qab = a + b, qap = a + 1.0, qam = a - 1.0;
  double c = 1.0;
  double d = 1.0 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= kMaxIterations; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1.0 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1.0 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1.0 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1.0) < kEps) break;
  }
  return h;
}

/// Regularized incomplete beta I_x(a, b); y = 1 - x is passed separately to keep its digits.
double incomplete_beta(double a, double b, double x, double y) {
  if (x <= 0.0) return 0.0;
  if (y <= 0.0) return 1.0;
  const double log_front =
      std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log(y);
  const double front = std::exp(log_front);
  if (x < (a + 1.0) / (a + b + 2.0)) return front * beta_continued_fraction(a, b, x) / a;
  return 1.0 - front * beta_continued_fraction(b, a, y) / b;
}

/// P(T > t) for t >= 0: I_{dof/(dof+t²)}(dof/2, 1/2) / 2.
double t_upper_tail(double t, double dof) {
  const double t2 = t * t;
  const double x = dof / (dof + t2);
  const double y = t2 / (dof + t2);
  return 0.5 * incomplete_beta(0.5 * dof, 0.5, x, y);
}

/// Standard normal quantile for p in (0.5, 1), by bisection on the upper tail erfc(z/√2)/2.
double normal_quantile_upper(double p) {
  const double q = 1.0 - p;
  double lo = 0.0, hi = 1.0;
  while (0.5 * std::erfc(hi / std::sqrt(2.0)) > q && hi < 64.0) {
    lo = hi;
    hi *= 2.0;
  }
  for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (0.5 * std::erfc(mid / std::sqrt(2.0)) > q) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return 0.5 * (lo + hi);
}

/// Above this dof the quantile comes from the Cornish-Fisher expansion (Abramowitz & Stegun
/// 26.7.5); its first omitted term is below 1e-12 there, and the continued fraction would need
/// O(sqrt(dof)) iterations per evaluation.
constexpr double kExpansionDof = 1e5;

double t_quantile_upper(double p, double dof) {
  if (dof > kExpansionDof) {
    const double x = normal_quantile_upper(p);
    const double x2 = x * x;
    const double g1 = (x2 + 1.0) * x / 4.0;
    const double g2 = ((5.0 * x2 + 16.0) * x2 + 3.0) * x / 96.0;
    const double g3 = (((3.0 * x2 + 19.0) * x2 + 17.0) * x2 - 15.0) * x / 384.0;
    const double g4 =
        ((((79.0 * x2 + 776.0) * x2 + 1482.0) * x2 - 1920.0) * x2 - 945.0) * x / 92160.0;
    return x + g1 / dof + g2 / (dof * dof) + g3 / (dof * dof * dof) + g4 / (dof * dof * dof * dof);
  }
  const double q = 1.0 - p;  // the upper tail to match
  double lo = 0.0, hi = 1.0;
  for (int i = 0; i < 2000 && t_upper_tail(hi, dof) > q; ++i) {
    lo = hi;
    hi *= 2.0;
  }
  for (int i = 0; i < 300 && hi - lo > 1e-14 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (t_upper_tail(mid, dof) > q) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  return 0.5 * (lo + hi);
}

/// Finite values of a sample, in order.
std::vector<double> finite_values(const std::vector<double>& values) {
  std::vector<double> out;
  out.reserve(values.size());
  for (double v : values) {
    if (!std::isnan(v)) out.push_back(v);
  }
  return out;
}

double mean_of(const std::vector<double>& v) {
  double sum = 0.0;
  for (double x : v) sum += x;
  return sum / static_cast<double>(v.size());
}

/// Sample variance (n - 1), two-pass; 0 for n < 2.
double variance_of(const std::vector<double>& v, double mean) {
  if (v.size() < 2) return 0.0;
  double ss = 0.0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return ss / static_cast<double>(v.size() - 1);
}

const nlohmann::json* find_path(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* cur = &j;
  for (const char* key : path) {
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
  }
  return cur;
}

std::string tag_of(const Run& run, const std::string& key) {
  auto it = run.tags.find(key);
  return it == run.tags.end() ? std::string() : it->second;
}

/// Removes a trailing "-s<digits>" from `name`, or one followed by a " (…)" suffix; returns
/// false when there is none.
bool strip_seed_suffix(const std::string& name, std::string* out) {
  std::string head = name, tail;
  if (!name.empty() && name.back() == ')') {
    const auto open = name.rfind(" (");
    if (open != std::string::npos) {
      head = name.substr(0, open);
      tail = name.substr(open);
    }
  }
  size_t i = head.size();
  while (i > 0 && std::isdigit(static_cast<unsigned char>(head[i - 1]))) --i;
  if (i == head.size() || i < 3 || head[i - 1] != 's' || head[i - 2] != '-') return false;
  *out = head.substr(0, i - 2) + tail;
  return true;
}

}  // namespace

double student_t_cdf(double t, double dof) {
  if (std::isnan(t) || !(dof > 0.0)) return kNaN;
  const double upper = t_upper_tail(std::fabs(t), dof);
  return t >= 0.0 ? 1.0 - upper : upper;
}

double student_t_quantile(double p, double dof) {
  if (!(p > 0.0 && p < 1.0) || !(dof > 0.0)) return kNaN;
  if (p == 0.5) return 0.0;
  if (p < 0.5) return -t_quantile_upper(1.0 - p, dof);
  return t_quantile_upper(p, dof);
}

SampleSummary summarize(const std::vector<double>& values) {
  const std::vector<double> v = finite_values(values);
  SampleSummary s;
  s.n = static_cast<int>(v.size());
  if (v.empty()) {
    s.mean = s.stddev = s.min = s.max = s.ci95_low = s.ci95_high = kNaN;
    return s;
  }
  s.mean = mean_of(v);
  s.stddev = std::sqrt(variance_of(v, s.mean));
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  s.min = *lo;
  s.max = *hi;
  if (s.n < 2) {
    s.ci95_low = s.ci95_high = s.mean;
    return s;
  }
  const double half = student_t_quantile(0.975, s.n - 1) * s.stddev / std::sqrt(double(s.n));
  s.ci95_low = s.mean - half;
  s.ci95_high = s.mean + half;
  return s;
}

MeanDifference difference_of_means(const std::vector<double>& a, const std::vector<double>& b) {
  const std::vector<double> va = finite_values(a), vb = finite_values(b);
  MeanDifference d;
  d.n_a = static_cast<int>(va.size());
  d.n_b = static_cast<int>(vb.size());
  if (va.empty() || vb.empty()) {
    d.diff = d.ci95_low = d.ci95_high = d.dof = kNaN;
    return d;
  }
  const double ma = mean_of(va), mb = mean_of(vb);
  d.diff = ma - mb;
  if (d.n_a < 2 || d.n_b < 2) {
    d.ci95_low = d.ci95_high = d.dof = kNaN;
    return d;
  }
  const double sa = variance_of(va, ma) / d.n_a;  // squared standard errors
  const double sb = variance_of(vb, mb) / d.n_b;
  const double se2 = sa + sb;
  if (se2 == 0.0) {
    d.ci95_low = d.ci95_high = d.diff;
    d.dof = d.n_a + d.n_b - 2;
    return d;
  }
  d.dof = se2 * se2 / (sa * sa / (d.n_a - 1) + sb * sb / (d.n_b - 1));
  const double half = student_t_quantile(0.975, d.dof) * std::sqrt(se2);
  d.ci95_low = d.diff - half;
  d.ci95_high = d.diff + half;
  return d;
}

/// The method of a stored run's config (allocation.method), or nullptr.
const Method* stored_method(const nlohmann::json& config) {
  const auto* method = find_path(config, {"allocation", "method"});
  return method && method->is_string() ? find_method(method->get<std::string>()) : nullptr;
}

std::string pipeline_role(const Run& run) {
  const auto config =
      try_parse_json_bounded(run.config_json, JsonLimits::config()).value_or(nlohmann::json());
  // The pipeline tag names the method (older runs' configs may lack their stage); else the
  // config's method.
  const Method* method = nullptr;
  if (const auto tag = run.tags.find(kPipelineTag); tag != run.tags.end())
    method = find_method(tag->second);
  if (!method) method = stored_method(config);
  return method ? method->stage_role(config, run.tags) : "";
}

std::string seed_group_key(const Run& run) {
  const std::string role = pipeline_role(run);
  const std::string tag = tag_of(run, kSeedGroupTag);
  if (!tag.empty()) return role.empty() ? tag : role + ":" + tag;
  auto config =
      try_parse_json_bounded(run.config_json, JsonLimits::config()).value_or(nlohmann::json());
  std::string canonical;
  if (config.is_object()) {
    config.erase("seed");
    if (const Method* method = stored_method(config)) method->strip_links(config);
    canonical = config.dump();  // objects are key-sorted: the same config, the same text
  } else {
    canonical = run.config_json;
  }
  return "cfg:" + fnv1a64_hex(canonical + '\x1f' + role);
}

std::string seed_group_label(const Run& run) {
  std::string stripped;
  if (strip_seed_suffix(run.name, &stripped)) return stripped;
  const std::string role = pipeline_role(run);
  const std::string base = run.experiment_name.empty() ? run.name : run.experiment_name;
  return role.empty() ? base : base + " (" + role + ")";
}

std::vector<SeedGroup> group_runs(const std::vector<Run>& runs) {
  std::vector<SeedGroup> groups;
  std::unordered_map<std::string, size_t> index;
  for (const Run& run : runs) {
    const std::string key = seed_group_key(run);
    auto it = index.find(key);
    if (it == index.end()) {
      it = index.emplace(key, groups.size()).first;
      SeedGroup g;
      g.key = key;
      g.label = seed_group_label(run);
      groups.push_back(std::move(g));
    }
    SeedGroup& g = groups[it->second];
    g.run_ids.push_back(run.run_id);
    g.seeds.push_back(run.seed);
  }
  return groups;
}

GroupCurve aggregate_curves(const std::vector<MetricSeries>& series) {
  struct Acc {
    double sum = 0.0, min = std::numeric_limits<double>::infinity(),
           max = -std::numeric_limits<double>::infinity();
    int n = 0;
  };
  std::map<int64_t, Acc> by_step;
  for (const MetricSeries& s : series) {
    const size_t count = std::min(s.steps.size(), s.values.size());
    for (size_t i = 0; i < count; ++i) {
      Acc& acc = by_step[s.steps[i]];
      const double v = s.values[i];
      if (std::isnan(v)) continue;
      acc.sum += v;
      acc.min = std::min(acc.min, v);
      acc.max = std::max(acc.max, v);
      ++acc.n;
    }
  }
  GroupCurve c;
  for (const auto& [step, acc] : by_step) {
    c.steps.push_back(step);
    c.n.push_back(acc.n);
    c.mean.push_back(acc.n ? acc.sum / acc.n : kNaN);
    c.min.push_back(acc.n ? acc.min : kNaN);
    c.max.push_back(acc.n ? acc.max : kNaN);
  }
  return c;
}

}  // namespace apportion
