// SPDX-License-Identifier: GPL-3.0-or-later
// Seed-group tests: sample summaries and Welch differences against hand-computed values, the
// Student-t quantile against closed forms, table values and a numerical integral of the density,
// the grouping rule (seed, lr, explicit tag, GuiLoMo search vs retrain) and ragged curves.
#include <QtTest/QtTest>

#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/store/run_groups.h"

using namespace apportion;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool near(double a, double b, double tol) { return std::fabs(a - b) <= tol; }

#define AP_VERIFY_NEAR(actual, expected, tol)                               \
  QVERIFY2(near((actual), (expected), (tol)),                               \
           qPrintable(QStringLiteral("%1 = %2, expected %3 (tolerance %4)") \
                          .arg(QStringLiteral(#actual))                     \
                          .arg((actual), 0, 'g', 15)                        \
                          .arg((expected), 0, 'g', 15)                      \
                          .arg((tol), 0, 'g', 3)))

/// A fine-tuning config like the ones `apportion train` stores (every default written out).
nlohmann::json base_config() {
  return nlohmann::json::parse(R"({
    "name": "mola-2468",
    "backbone": {"path": "backbones/tiny-llama"},
    "adapters": {"method": "moe_lora", "r": 4, "lora_alpha": 8, "num_experts": 5, "top_k": 2},
    "allocation": {"method": "mola", "preset": "2468"},
    "data": {"tasks": ["lookup"], "seed": 1},
    "train": {"steps": 300, "lr": 0.003},
    "seed": 0
  })");
}

nlohmann::json guilomo_config(const std::string& stage) {
  nlohmann::json j = base_config();
  j["name"] = "guilomo";
  j["allocation"] = {{"method", "guilomo"},
                     {"guilomo", {{"stage", stage}, {"n_max", 8}, {"search_steps", 10}}}};
  return j;
}

Run make_run(const std::string& id, const std::string& name, nlohmann::json config, uint64_t seed) {
  Run r;
  r.run_id = id;
  r.name = name;
  r.experiment_name = config.value("name", std::string());
  config["seed"] = seed;
  r.config_json = config.dump();
  r.seed = seed;
  return r;
}

/// P(0 < T < t) by composite Simpson's rule on the t density: an integral independent of the
/// incomplete-beta code under test.
double t_density_integral(double t, double dof) {
  const double c =
      std::exp(std::lgamma((dof + 1) / 2) - std::lgamma(dof / 2)) / std::sqrt(dof * M_PI);
  auto f = [&](double x) { return c * std::pow(1 + x * x / dof, -(dof + 1) / 2); };
  const int n = 200000;  // even
  const double h = t / n;
  double s = f(0) + f(t);
  for (int i = 1; i < n; ++i) s += f(i * h) * (i % 2 ? 4 : 2);
  return s * h / 3;
}

}  // namespace

class TestRunGroups : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void summarizeHandComputed() {
    // mean = 3.06 / 5 = 0.612; deviations -0.012, 0.008, -0.032, 0.038, -0.002;
    // squares 0.000144 + 0.000064 + 0.001024 + 0.001444 + 0.000004 = 0.00268;
    // var = 0.00268 / 4 = 0.00067, sd = sqrt(0.00067) = 0.0258843582;
    // se = sd / sqrt(5) = 0.0115758; t(0.975, 4) = 2.7764451 -> half width 0.0321397;
    // CI = [0.5798603, 0.6441397].
    const SampleSummary s = summarize({0.6, 0.62, 0.58, 0.65, 0.61});
    QCOMPARE(s.n, 5);
    AP_VERIFY_NEAR(s.mean, 0.612, 1e-12);
    AP_VERIFY_NEAR(s.stddev, 0.0258843582110896, 1e-12);
    AP_VERIFY_NEAR(s.min, 0.58, 0.0);
    AP_VERIFY_NEAR(s.max, 0.65, 0.0);
    AP_VERIFY_NEAR(s.ci95_low, 0.57986032429268, 1e-8);
    AP_VERIFY_NEAR(s.ci95_high, 0.64413967570732, 1e-8);
  }

  void summarizeSkipsNaNAndHandlesSmallSamples() {
    const SampleSummary s = summarize({kNaN, 2.0, 4.0, kNaN});  // mean 3, sd sqrt(2)
    QCOMPARE(s.n, 2);
    AP_VERIFY_NEAR(s.mean, 3.0, 1e-15);
    AP_VERIFY_NEAR(s.stddev, std::sqrt(2.0), 1e-15);
    // half width = t(0.975, 1) * sqrt(2) / sqrt(2) = 12.7062047
    AP_VERIFY_NEAR(s.ci95_high, 3.0 + 12.7062047361747, 1e-8);

    const SampleSummary one = summarize({0.7});
    QCOMPARE(one.n, 1);
    AP_VERIFY_NEAR(one.stddev, 0.0, 0.0);
    AP_VERIFY_NEAR(one.ci95_low, 0.7, 0.0);
    AP_VERIFY_NEAR(one.ci95_high, 0.7, 0.0);

    const SampleSummary none = summarize({kNaN});
    QCOMPARE(none.n, 0);
    QVERIFY(std::isnan(none.mean));
  }

  void tQuantileTableValues_data() {
    QTest::addColumn<double>("dof");
    QTest::addColumn<double>("table");
    QTest::addColumn<double>("precise");  // mpmath, 20 digits
    QTest::newRow("1") << 1.0 << 12.7062 << 12.706204736174693;
    QTest::newRow("2") << 2.0 << 4.3027 << 4.3026527297494618;
    QTest::newRow("4") << 4.0 << 2.7764 << 2.7764451051977935;
    QTest::newRow("8") << 8.0 << 2.3060 << 2.3060041352041661;
    QTest::newRow("30") << 30.0 << 2.0423 << 2.0422724563012379;
    QTest::newRow("1.5") << 1.5 << 6.0167 << 6.0166631044279283;
    QTest::newRow("2.5") << 2.5 << 3.5747 << 3.5746548420036818;
    QTest::newRow("3.7") << 3.7 << 2.8675 << 2.8675207071911885;
    QTest::newRow("1e5") << 1e5 << 1.95999 << 1.9599877075346093;
    QTest::newRow("1e6") << 1e6 << 1.95996 << 1.9599663568141067;
  }
  void tQuantileTableValues() {
    QFETCH(double, dof);
    QFETCH(double, table);
    QFETCH(double, precise);
    const double t = student_t_quantile(0.975, dof);
    AP_VERIFY_NEAR(t, table, 5e-5);
    AP_VERIFY_NEAR(t, precise, 1e-7);
    AP_VERIFY_NEAR(student_t_quantile(0.025, dof), -precise, 1e-7);
  }

  void tQuantileClosedForms() {
    // dof 1 (Cauchy): t = tan(pi (p - 1/2)); dof 2: t = (2p - 1) / sqrt(2 p (1 - p)).
    for (double p : {0.6, 0.9, 0.975, 0.995, 0.9999, 0.05, 0.3}) {
      AP_VERIFY_NEAR(student_t_quantile(p, 1.0), std::tan(M_PI * (p - 0.5)),
                     1e-9 * (1 + std::fabs(std::tan(M_PI * (p - 0.5)))));
      const double two = (2 * p - 1) / std::sqrt(2 * p * (1 - p));
      AP_VERIFY_NEAR(student_t_quantile(p, 2.0), two, 1e-9 * (1 + std::fabs(two)));
    }
    AP_VERIFY_NEAR(student_t_quantile(0.5, 3.0), 0.0, 0.0);
    AP_VERIFY_NEAR(student_t_quantile(0.995, 3.0), 5.8409093097333554, 1e-7);
    AP_VERIFY_NEAR(student_t_quantile(0.9, 7.3), 1.4089223177480422, 1e-7);
    AP_VERIFY_NEAR(student_t_quantile(0.999999, 1.2), 40205.493140106674, 1e-3);
    QVERIFY(std::isnan(student_t_quantile(1.0, 3.0)));
    QVERIFY(std::isnan(student_t_quantile(0.9, 0.0)));
  }

  void tQuantileInvertsTheDensityIntegral() {
    // Non-integer dof: integrate the density up to the quantile and get p back.
    for (double dof : {1.0, 1.3, 2.7, 5.5, 12.25}) {
      for (double p : {0.8, 0.975}) {
        const double t = student_t_quantile(p, dof);
        AP_VERIFY_NEAR(0.5 + t_density_integral(t, dof), p, 1e-9);
        AP_VERIFY_NEAR(student_t_cdf(t, dof), p, 1e-12);
      }
    }
    // The large-dof expansion and the continued fraction agree where they meet.
    AP_VERIFY_NEAR(student_t_quantile(0.975, 99999.0), student_t_quantile(0.975, 100001.0), 1e-9);
  }

  void welchHandComputed() {
    // a = {1,2,3,4}: mean 2.5, var 5/3, se_a² = 5/12; b = {2,4,6}: mean 4, var 4, se_b² = 4/3.
    // diff = -1.5; se² = 5/12 + 4/3 = 1.75, se = 1.3228757;
    // dof = 1.75² / ((5/12)²/3 + (4/3)²/2) = 3.0625 / 0.9467593 = 3.2347188;
    // t(0.975, 3.2347188) = 3.0557127 (mpmath) -> half width 4.0423280;
    // CI = [-5.5423280, 2.5423280].
    const MeanDifference d = difference_of_means({1, 2, 3, 4}, {2, 4, 6});
    QCOMPARE(d.n_a, 4);
    QCOMPARE(d.n_b, 3);
    AP_VERIFY_NEAR(d.diff, -1.5, 1e-15);
    AP_VERIFY_NEAR(d.dof, 3.2347188264058680, 1e-12);
    AP_VERIFY_NEAR(d.ci95_low, -5.5423279549230255, 1e-7);
    AP_VERIFY_NEAR(d.ci95_high, 2.5423279549230255, 1e-7);

    const MeanDifference single = difference_of_means({1.0}, {2.0, 3.0});
    AP_VERIFY_NEAR(single.diff, -1.5, 1e-15);
    QVERIFY(std::isnan(single.ci95_low));
    const MeanDifference flat = difference_of_means({2, 2}, {1, 1, kNaN});
    QCOMPARE(flat.n_b, 2);
    AP_VERIFY_NEAR(flat.ci95_low, 1.0, 0.0);
    AP_VERIFY_NEAR(flat.ci95_high, 1.0, 0.0);
  }

  void twoSeedsOfOneConfigGroup() {
    const Run a = make_run("aa01", "mola-2468-s0", base_config(), 0);
    const Run b = make_run("bb02", "mola-2468-s1", base_config(), 1);
    nlohmann::json other = base_config();
    other["train"]["lr"] = 0.001;
    const Run c = make_run("cc03", "mola-2468-lr", other, 0);
    QCOMPARE(seed_group_key(a), seed_group_key(b));
    QVERIFY(seed_group_key(a) != seed_group_key(c));
    QVERIFY(seed_group_key(a).rfind("cfg:", 0) == 0);

    const auto groups = group_runs({c, a, b});
    QCOMPARE(groups.size(), size_t(2));
    QCOMPARE(QString::fromStdString(groups[0].key), QString::fromStdString(seed_group_key(c)));
    QCOMPARE(groups[0].run_ids.size(), size_t(1));  // singletons are groups too
    QCOMPARE(groups[1].run_ids, (std::vector<std::string>{"aa01", "bb02"}));
    QCOMPARE(groups[1].seeds, (std::vector<uint64_t>{0, 1}));
    QCOMPARE(QString::fromStdString(groups[1].label), QStringLiteral("mola-2468"));
    QCOMPARE(QString::fromStdString(groups[0].label), QStringLiteral("mola-2468"));  // exp. name
  }

  void explicitTagWins() {
    Run a = make_run("aa01", "x-s0", base_config(), 0);
    nlohmann::json other = base_config();
    other["train"]["lr"] = 0.001;
    Run b = make_run("bb02", "x-s1", other, 1);
    Run c = make_run("cc03", "x-s2", base_config(), 2);  // same config, no tag
    a.tags[kSeedGroupTag] = "0123456789abcdef0123456789abcdef";
    b.tags[kSeedGroupTag] = "0123456789abcdef0123456789abcdef";
    QCOMPARE(QString::fromStdString(seed_group_key(a)),
             QStringLiteral("0123456789abcdef0123456789abcdef"));
    QCOMPARE(seed_group_key(a), seed_group_key(b));
    QVERIFY(seed_group_key(a) != seed_group_key(c));
    const auto groups = group_runs({a, b, c});
    QCOMPARE(groups.size(), size_t(2));
    QCOMPARE(QString::fromStdString(groups[0].label), QStringLiteral("x"));
  }

  void searchAndRetrainNeverGroup() {
    // Untagged: the stage differs, and the retrain's links to its search are ignored, so the
    // retrains of two seeds group.
    const Run s0 = make_run("a0", "guilomo (search)", guilomo_config("search"), 0);
    Run r0 = make_run("b0", "guilomo (retrain)", guilomo_config("retrain"), 0);
    const Run s1 = make_run("a1", "guilomo (search)", guilomo_config("search"), 1);
    nlohmann::json rc1 = guilomo_config("retrain");
    rc1["allocation"]["guilomo"]["search_run"] = "a1";
    rc1["allocation"]["guilomo"]["allocation_file"] = "runs/a1/guilomo_allocation.json";
    Run r1 = make_run("b1", "guilomo (retrain)", rc1, 1);
    nlohmann::json rc0 = guilomo_config("retrain");
    rc0["allocation"]["guilomo"]["search_run"] = "a0";
    rc0["allocation"]["guilomo"]["allocation_file"] = "runs/a0/guilomo_allocation.json";
    r0 = make_run("b0", "guilomo (retrain)", rc0, 0);
    for (Run* r : {&r0, &r1}) r->tags["pipeline"] = "guilomo";
    QCOMPARE(QString::fromStdString(pipeline_role(s0)), QStringLiteral("search"));
    QCOMPARE(QString::fromStdString(pipeline_role(r0)), QStringLiteral("retrain"));
    QVERIFY(seed_group_key(s0) != seed_group_key(r0));
    QCOMPARE(seed_group_key(s0), seed_group_key(s1));
    QCOMPARE(seed_group_key(r0), seed_group_key(r1));
    const auto groups = group_runs({s0, r0, s1, r1});
    QCOMPARE(groups.size(), size_t(2));
    QCOMPARE(QString::fromStdString(groups[0].label), QStringLiteral("guilomo (search)"));
    QCOMPARE(QString::fromStdString(groups[1].label), QStringLiteral("guilomo (retrain)"));

    // Tagged by --seeds: both runs of a pipeline carry the same seed_group tag; the role keeps
    // them apart.
    Run ts = make_run("c0", "g-s4 (search)", guilomo_config("search"), 4);
    Run tr = make_run("d0", "g-s4 (retrain)", rc0, 4);
    for (Run* r : {&ts, &tr}) r->tags[kSeedGroupTag] = "feedfeedfeedfeedfeedfeedfeedfeed";
    tr.tags["pipeline"] = "guilomo";
    QVERIFY(seed_group_key(ts) != seed_group_key(tr));
    QCOMPARE(QString::fromStdString(seed_group_key(tr)),
             QStringLiteral("retrain:feedfeedfeedfeedfeedfeedfeedfeed"));
    QCOMPARE(QString::fromStdString(seed_group_label(ts)), QStringLiteral("g (search)"));

    // Without a config stage, the tags tell the role.
    Run legacy = make_run("e0", "old", base_config(), 0);
    legacy.tags["pipeline"] = "guilomo";
    QCOMPARE(QString::fromStdString(pipeline_role(legacy)), QStringLiteral("search"));
    legacy.tags["guilomo/search_run"] = "a0";
    QCOMPARE(QString::fromStdString(pipeline_role(legacy)), QStringLiteral("retrain"));
  }

  void labels() {
    QCOMPARE(QString::fromStdString(seed_group_label(make_run("1", "abc-s12", base_config(), 0))),
             QStringLiteral("abc"));
    QCOMPARE(QString::fromStdString(seed_group_label(make_run("1", "abc-s", base_config(), 0))),
             QStringLiteral("mola-2468"));
    QCOMPARE(QString::fromStdString(seed_group_label(make_run("1", "-s1", base_config(), 0))),
             QStringLiteral("mola-2468"));
    QCOMPARE(QString::fromStdString(seed_group_label(make_run("1", "my-s3x", base_config(), 0))),
             QStringLiteral("mola-2468"));
  }

  void curvesWithRaggedSteps() {
    MetricSeries a{"eval/acc", {0, 10, 20}, {0.1, 0.5, 0.7}, {}};
    MetricSeries b{"eval/acc", {0, 10, 20, 30}, {0.3, 0.3, 0.9, 1.0}, {}};
    MetricSeries c{"eval/acc", {10, 15}, {kNaN, 0.4}, {}};  // NaN at 10 is not counted
    const GroupCurve g = aggregate_curves({a, b, c});
    QCOMPARE(g.steps, (std::vector<int64_t>{0, 10, 15, 20, 30}));
    QCOMPARE(g.n, (std::vector<int>{2, 2, 1, 2, 1}));
    AP_VERIFY_NEAR(g.mean[0], 0.2, 1e-15);
    AP_VERIFY_NEAR(g.mean[1], 0.4, 1e-15);
    AP_VERIFY_NEAR(g.mean[2], 0.4, 0.0);
    AP_VERIFY_NEAR(g.mean[3], 0.8, 1e-15);
    AP_VERIFY_NEAR(g.min[3], 0.7, 0.0);
    AP_VERIFY_NEAR(g.max[3], 0.9, 0.0);
    AP_VERIFY_NEAR(g.mean[4], 1.0, 0.0);
    AP_VERIFY_NEAR(g.min[1], 0.3, 0.0);
    AP_VERIFY_NEAR(g.max[1], 0.5, 0.0);

    const GroupCurve allnan = aggregate_curves({MetricSeries{"k", {5}, {kNaN}, {}}});
    QCOMPARE(allnan.n, (std::vector<int>{0}));
    QVERIFY(std::isnan(allnan.mean[0]));
    QVERIFY(aggregate_curves({}).steps.empty());
  }
};

QTEST_APPLESS_MAIN(TestRunGroups)
#include "tst_run_groups.moc"
