// SPDX-License-Identifier: GPL-3.0-or-later
// Long-run curves: min/max column buckets keep every planted spike of a 200k-row series (in
// memory and computed in SQL by RunReader::metric_buckets on a real store), agree with a naive
// per-column scan, merge exactly (rebucket), survive NaN/inf rows as gaps; the EMA and window
// smoothings equal textbook loops on raw rows; the differing-keys table of three runs.
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "core/series/series_buckets.h"
#include "core/series/smoothing.h"
#include "core/store/config_diff.h"
#include "core/store/run_reader.h"
#include "core/store/run_writer.h"
#include "tests/core/store_test_util.h"

using namespace apportion;
using namespace apportion::test;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Planted {
  std::vector<int64_t> steps;
  std::vector<double> values;
  std::map<int64_t, double> spikes;  ///< step → planted extreme
};

/// Noise in [0, 1) with ±(50 + i) spikes at 40 random steps: each spike is a single row.
Planted plantedSeries(int64_t rows) {
  Planted p;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> noise(0.0, 1.0);
  std::uniform_int_distribution<int64_t> where(0, rows - 1);
  for (int64_t s = 0; s < rows; ++s) {
    p.steps.push_back(s);
    p.values.push_back(noise(rng));
  }
  for (int i = 0; i < 40; ++i) {
    const int64_t s = where(rng);
    const double v = (i % 2 ? -1.0 : 1.0) * (50.0 + i);
    p.values[static_cast<size_t>(s)] = v;
    p.spikes[s] = v;
  }
  return p;
}

/// Naive reference: per column min and max by a separate scan with the same column formula.
std::map<int64_t, std::pair<double, double>> naiveColumns(const std::vector<int64_t>& steps,
                                                          const std::vector<double>& values,
                                                          int64_t lo,
                                                          int64_t hi,
                                                          int64_t columns) {
  std::map<int64_t, std::pair<double, double>> out;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i] < lo || steps[i] > hi || !std::isfinite(values[i])) continue;
    const int64_t c = (steps[i] - lo) * columns / (hi - lo + 1);
    auto it = out.find(c);
    if (it == out.end())
      out[c] = {values[i], values[i]};
    else
      it->second = {std::min(it->second.first, values[i]), std::max(it->second.second, values[i])};
  }
  return out;
}

/// Every spike that is its column's extreme (highest or lowest row) is among the drawn points:
/// a spike hidden inside a taller spike's stroke in the same pixel column is not visible at
/// full resolution either.
void checkSpikesDrawn(const BucketedSeries& buckets,
                      const std::map<int64_t, double>& spikes,
                      int64_t lo,
                      int64_t hi,
                      int64_t columns) {
  // column → (lowest negative spike, highest positive spike); 0 where the column has none
  std::map<int64_t, std::pair<double, double>> extremes;
  for (const auto& [step, value] : spikes) {
    const int64_t c = bucket_column(step, lo, hi, columns);
    auto& [lowest, highest] = extremes.try_emplace(c, 0.0, 0.0).first->second;
    (value < 0 ? lowest : highest) = value < 0 ? std::min(lowest, value) : std::max(highest, value);
  }
  const DrawnSeries d = drawn_points(buckets);
  const std::multiset<double> drawn(d.values.begin(), d.values.end());
  int checked = 0;
  for (const auto& [column, lowHigh] : extremes)
    for (const double v : {lowHigh.first, lowHigh.second}) {
      if (v == 0.0) continue;
      QVERIFY2(drawn.count(v) > 0,
               qPrintable(QStringLiteral("spike %1 (column %2) not drawn").arg(v).arg(column)));
      ++checked;
    }
  QVERIFY(checked >= static_cast<int>(extremes.size()));
}

}  // namespace

class TestSeries : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void bucketsKeepEveryPlantedSpike() {
    const Planted p = plantedSeries(200000);
    for (int64_t columns : {37, 300, 1920, 200000}) {
      const BucketedSeries b = bucket_minmax(p.steps, p.values, 0, 199999, columns);
      QVERIFY(static_cast<int64_t>(b.size()) <= columns);
      QCOMPARE(bucket_rows(b), int64_t{200000});
      checkSpikesDrawn(b, p.spikes, 0, 199999, columns);
      QVERIFY(drawn_points(b).values.size() <= static_cast<size_t>(4 * columns));
    }
  }

  void bucketsMatchNaiveColumns() {
    const Planted p = plantedSeries(5000);
    const int64_t lo = 1234;
    const int64_t hi = 4321;
    const BucketedSeries b = bucket_minmax(p.steps, p.values, lo, hi, 97);
    const auto naive = naiveColumns(p.steps, p.values, lo, hi, 97);
    QCOMPARE(b.size(), naive.size());
    size_t i = 0;
    for (const auto& [column, minMax] : naive) {
      QCOMPARE(bucket_column(b[i].first_step, lo, hi, 97), column);
      QCOMPARE(b[i].min, minMax.first);
      QCOMPARE(b[i].max, minMax.second);
      QCOMPARE(b[i].first, p.values[static_cast<size_t>(b[i].first_step)]);
      QCOMPARE(b[i].last, p.values[static_cast<size_t>(b[i].last_step)]);
      ++i;
    }
  }

  void rebucketIsExact() {
    const Planted p = plantedSeries(10000);
    const BucketedSeries direct = bucket_minmax(p.steps, p.values, 0, 9999, 125);
    QCOMPARE(rebucket(raw_buckets(p.steps, p.values), 0, 9999, 125), direct);
    // Via a finer aligned grid (2000 columns of 5 steps → 125 columns of 80 steps).
    const BucketedSeries fine = bucket_minmax(p.steps, p.values, 0, 9999, 2000);
    QCOMPARE(rebucket(fine, 0, 9999, 125), direct);
  }

  void nonFiniteRowsAreGaps() {
    const std::vector<int64_t> steps = {0, 1, 2, 3, 4, 5};
    const std::vector<double> values = {1.0,  kNaN, 3.0, std::numeric_limits<double>::infinity(),
                                        -2.0, 0.5};
    const BucketedSeries b = bucket_minmax(steps, values, 0, 5, 2);  // {0,1,2} {3,4,5}
    QCOMPARE(b.size(), size_t{2});
    QCOMPARE(b[0].count, int64_t{2});
    QCOMPARE(b[0].gaps, int64_t{1});
    QCOMPARE(b[0].max, 3.0);
    QCOMPARE(b[1].first_step, int64_t{4});  // the first finite row
    QCOMPARE(b[1].min, -2.0);
    const DrawnSeries d = drawn_points(b);
    QVERIFY(std::any_of(d.values.begin(), d.values.end(), [](double v) { return std::isnan(v); }));
  }

  void sqlBucketsEqualMemoryBuckets() {
    QTemporaryDir dir;
    const std::string db = dir.filePath(QStringLiteral("ws.sqlite")).toStdString();
    const std::string id = "cccc0000000000000000000000000001";
    const Planted p = plantedSeries(200000);
    std::vector<double> values = p.values;
    values[10] = kNaN;  // a NaN row inside a column
    {
      RunWriter w(db);
      w.begin();
      w.start_run(make_start(id), 1);
      for (size_t i = 0; i < p.steps.size(); ++i)
        w.log_metric(id, point("train/loss", p.steps[i], values[i]));
      w.commit();
    }
    RunReader reader(db);
    for (const auto& [lo, hi, columns] :
         std::vector<std::tuple<int64_t, int64_t, int64_t>>{{0, 199999, 1500}, {5, 20, 1000}}) {
      const BucketedSeries sql = reader.metric_buckets(id, "train/loss", lo, hi, columns);
      const BucketedSeries memory = bucket_minmax(p.steps, values, lo, hi, columns);
      QCOMPARE(sql.size(), memory.size());
      for (size_t i = 0; i < sql.size(); ++i)
        QVERIFY2(sql[i] == memory[i], qPrintable(QStringLiteral("column %1").arg(i)));
    }
    checkSpikesDrawn(reader.metric_buckets(id, "train/loss", 0, 199999, 800), p.spikes, 0, 199999,
                     800);
    const auto range = reader.metric_step_range(id, "train/loss");
    QVERIFY(range.has_value());
    QCOMPARE(range->second, int64_t{199999});
    QVERIFY(!reader.metric_step_range(id, "nope").has_value());
    QVERIFY(reader.metric_buckets(id, "nope", 0, 10, 10).empty());
  }

  void emaEqualsTensorBoardLoop() {
    const Planted p = plantedSeries(500);
    std::vector<double> values = p.values;
    values[3] = kNaN;
    const std::vector<double> got =
        smooth_series(raw_buckets(p.steps, values), {SmoothingKind::Ema, 0.8, 0});
    double last = 0.0;
    int n = 0;
    for (size_t i = 0; i < values.size(); ++i) {
      if (std::isfinite(values[i])) {
        last = last * 0.8 + 0.2 * values[i];
        ++n;
      }
      const double expected = last / (1.0 - std::pow(0.8, n));
      QVERIFY2(std::abs(got[i] - expected) <= 1e-9 * std::max(1.0, std::abs(expected)),
               qPrintable(QString::number(i)));
    }
  }

  void windowEqualsTrailingMean() {
    const Planted p = plantedSeries(300);
    const std::vector<double> got =
        smooth_series(raw_buckets(p.steps, p.values), {SmoothingKind::Window, 0.0, 10});
    for (size_t i = 0; i < p.values.size(); ++i) {
      double sum = 0.0;
      const size_t start = i >= 9 ? i - 9 : 0;
      for (size_t j = start; j <= i; ++j) sum += p.values[j];
      QVERIFY(std::abs(got[i] - sum / static_cast<double>(i - start + 1)) < 1e-9);
    }
    // Over 10-row buckets a 20-row window is whole buckets: exact.
    const BucketedSeries coarse = bucket_minmax(p.steps, p.values, 0, 299, 30);
    const std::vector<double> coarseGot = smooth_series(coarse, {SmoothingKind::Window, 0.0, 20});
    for (size_t b = 1; b < coarse.size(); ++b) {
      double sum = 0.0;
      for (size_t j = 10 * b - 10; j < 10 * b + 10; ++j) sum += p.values[j];
      QVERIFY(std::abs(coarseGot[b] - sum / 20.0) < 1e-9);
    }
  }

  void paramRowsOfThreeRuns() {
    Run a;
    Run b;
    Run c;
    a.params = {{"adapters.r", "8"}, {"seed", "1"}, {"train.lr", "0.001"}};
    b.params = {{"adapters.r", "8"}, {"seed", "2"}, {"train.lr", "0.001"}};
    c.params = {{"adapters.r", "16"}, {"seed", "1"}, {"train.lr", "0.001"}, {"x", "true"}};
    const std::vector<ParamRow> rows = param_rows({&a, &b, &c}, true);
    QCOMPARE(rows.size(), size_t{3});
    QCOMPARE(rows[0].key, std::string("adapters.r"));
    QCOMPARE(*rows[0].values[2], std::string("16"));
    QCOMPARE(rows[1].key, std::string("seed"));
    QCOMPARE(rows[2].key, std::string("x"));
    QVERIFY(!rows[2].values[0].has_value());
    QCOMPARE(param_rows({&a, &b, &c}, false).size(), size_t{4});
    QCOMPARE(param_rows({&a, &a, nullptr}, true).size(), size_t{0});
  }
};

QTEST_GUILESS_MAIN(TestSeries)
#include "tst_series.moc"
