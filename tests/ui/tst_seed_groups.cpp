// SPDX-License-Identifier: GPL-3.0-or-later
// Seed groups in the compare view and the step-0 baseline in the run view, over a temporary
// store with hand-chosen metrics: the A − B statistics text against a hand-computed Welch
// interval, the mean curve and its min–max band graphs, and the baseline line and marker.
#include <cmath>
#include <map>

#include <qcustomplot.h>
#include <QLabel>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QtTest>

#include "core/common/uuid.h"
#include "core/store/run_groups.h"
#include "core/store/run_reader.h"
#include "core/store/run_store.h"
#include "tests/ui/demo_run.h"
#include "ui/models/workspace.h"
#include "ui/plots/metric_plot.h"
#include "ui/widgets/compare_view.h"
#include "ui/widgets/run_view.h"

using namespace apportion;

namespace {

using Series = std::map<std::string, std::vector<std::pair<int64_t, double>>>;

/// A finished run with exactly these metric points.
std::string addRun(RunStore& store,
                   const std::string& name,
                   const std::string& method,
                   uint64_t seed,
                   const Series& series) {
  test::DemoRunSpec spec;
  spec.name = name;
  spec.experiment = method;
  spec.method = method;
  spec.seed = seed;
  const std::string id = make_uuid_hex();
  store.start_run(test::demo_run_started(spec, id));
  for (const auto& [key, points] : series)
    for (const auto& [step, value] : points) store.log_metric(id, {key, step, value, 0});
  store.finish_run(id, RunStatus::Finished, "");
  store.flush();
  return id;
}

/// The graph's (key, value) points.
std::vector<std::pair<double, double>> points(const QCPGraph* graph) {
  std::vector<std::pair<double, double>> out;
  for (auto it = graph->data()->constBegin(); it != graph->data()->constEnd(); ++it)
    out.emplace_back(it->key, it->value);
  return out;
}

}  // namespace

class TestSeedGroups : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir m_dir;
  QString m_db;
  ui::CompareSide m_a;  ///< lora seeds 1-3
  ui::CompareSide m_b;  ///< mola seeds 1-3
  QString m_baselineRun;

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    m_db = m_dir.filePath(QStringLiteral("groups.sqlite"));
    RunStore store(m_db.toStdString());
    // Final eval/acc: A {0.60, 0.64, 0.62}, B {0.54, 0.58, 0.56}; at step 20 A {0.30, 0.40,
    // 0.35}. lookup: A {0.80, 0.90, 0.85}, B {0.50, 0.60, 0.55}. facts: A {0.50, 0.60, 0.55},
    // B {0.52, 0.58, 0.50}.
    const double accA[] = {0.60, 0.64, 0.62}, accB[] = {0.54, 0.58, 0.56};
    const double midA[] = {0.30, 0.40, 0.35}, midB[] = {0.20, 0.25, 0.30};
    const double lookA[] = {0.80, 0.90, 0.85}, lookB[] = {0.50, 0.60, 0.55};
    const double factA[] = {0.50, 0.60, 0.55}, factB[] = {0.52, 0.58, 0.50};
    for (int i = 0; i < 3; ++i) {
      const uint64_t seed = static_cast<uint64_t>(i + 1);
      const std::string suffix = "-s" + std::to_string(seed);
      m_a.runIds << QString::fromStdString(
          addRun(store, "lora" + suffix, "lora", seed,
                 {{"eval/acc", {{0, 0.1}, {20, midA[i]}, {40, accA[i]}}},
                  {"eval/acc/lookup", {{40, lookA[i]}}},
                  {"eval/acc/facts", {{40, factA[i]}}},
                  {"train/loss", {{5, 2.0 + i}, {10, 1.0 + i}}}}));
      m_b.runIds << QString::fromStdString(
          addRun(store, "mola" + suffix, "mola", seed,
                 {{"eval/acc", {{0, 0.1}, {20, midB[i]}, {40, accB[i]}}},
                  {"eval/acc/lookup", {{40, lookB[i]}}},
                  {"eval/acc/facts", {{40, factB[i]}}},
                  {"train/loss", {{5, 3.0}, {10, 2.0}}}}));
    }
    m_baselineRun =
        QString::fromStdString(addRun(store, "baseline-run", "mola", 9,
                                      {{"baseline/accuracy", {{0, 0.12}}},
                                       {"baseline/loss", {{0, 2.5}}},
                                       {"baseline/acc/lookup", {{0, 0.20}}},
                                       {"eval/acc", {{0, 0.12}, {20, 0.4}, {40, 0.624}}},
                                       {"eval/acc/lookup", {{0, 0.20}, {40, 0.80}}}}));
    RunReader reader(m_db.toStdString());
    for (ui::CompareSide* side : {&m_a, &m_b}) {
      const auto run = reader.find_run(side->runIds.first().toStdString());
      QVERIFY(run.has_value());
      side->groupKey = QString::fromStdString(seed_group_key(*run));
      side->label = QString::fromStdString(seed_group_label(*run));
    }
    QCOMPARE(m_a.label, QStringLiteral("lora"));
    QVERIFY(m_a.groupKey != m_b.groupKey);
  }

  void compareTextOfTwoGroups() {
    // Hand computation (Welch): both variances s² = 0.0004 (n = 3), so dof = 4 and
    // t(0.975, 4) = 2.776445. diff = 0.62 − 0.56 = 0.06; SE = sqrt(2 · 0.0004 / 3) = 0.0163299;
    // half width 0.0453395 → CI [0.01466, 0.10534] = [+1.5, +10.5] points.
    const double se = std::sqrt(2.0 * 0.0004 / 3.0);
    QVERIFY(std::abs(0.06 - 2.776445 * se - 0.014661) < 1e-5);
    auto ws = ui::Workspace::open(m_db);
    ui::CompareView view;
    view.setReader(ws->reader());
    view.setSides(m_a, m_b);
    const QString text = view.statsText();
    QVERIFY2(text.contains(QStringLiteral("A 62.0 %")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("B 56.0 %")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral(
                 "A − B = +6.0 points, 95 % CI [+1.5, +10.5], n = 3 vs 3: A is better")),
             qPrintable(text));
    // lookup: diff 0.30, s² = 0.0025 each, SE = 0.0408248, half width 0.113348 →
    // [+18.7, +41.3].
    QVERIFY2(text.contains(QStringLiteral(
                 "A − B = +30.0 points, 95 % CI [+18.7, +41.3], n = 3 vs 3: A is better")),
             qPrintable(text));
    // facts: A 0.55 vs B 0.5333: +1.7 points, an interval around 0.
    QVERIFY2(text.contains(QStringLiteral("facts")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("A − B = +1.7 points")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("n = 3 vs 3: the interval contains 0: no difference "
                                          "shown")),
             qPrintable(text));
    // Swapped sides: B is better.
    view.setSides(m_b, m_a);
    QVERIFY2(view.statsText().contains(QStringLiteral(
                 "A − B = −6.0 points, 95 % CI [−10.5, −1.5], n = 3 vs 3: B is better")),
             qPrintable(view.statsText()));
  }

  void groupCurvesHaveBands() {
    auto ws = ui::Workspace::open(m_db);
    ui::CompareView view;
    view.setReader(ws->reader());
    view.setSides(m_a, m_b);
    const QString id = ui::CompareView::groupSeriesId(m_a, "eval/acc");
    ui::MetricPlot* acc = view.accuracyPlot();
    QCPGraph* mean = acc->series(id);
    QVERIFY(mean);
    const auto [low, high] = acc->band(id);
    QVERIFY(low && high);
    // Mean, min and max per step over the three seeds.
    const auto m = points(mean);
    QCOMPARE(m.size(), size_t(3));
    QCOMPARE(m[0].first, 0.0);
    QCOMPARE(m[1].first, 20.0);
    QVERIFY(std::abs(m[1].second - 0.35) < 1e-12);
    QVERIFY(std::abs(m[2].second - 0.62) < 1e-12);
    const auto lo = points(low);
    const auto hi = points(high);
    QCOMPARE(lo.size(), size_t(3));
    QCOMPARE(lo[1], (std::pair<double, double>(20.0, 0.30)));
    QCOMPARE(hi[1], (std::pair<double, double>(20.0, 0.40)));
    QCOMPARE(lo[2], (std::pair<double, double>(40.0, 0.60)));
    QCOMPARE(hi[2], (std::pair<double, double>(40.0, 0.64)));
    // The band: filled from max down to min, translucent, in the group's colour, not in the
    // legend; the mean is, with n.
    QCOMPARE(high->channelFillGraph(), low);
    QVERIFY(high->brush().color().alpha() < 128);
    QCOMPARE(high->brush().color().rgb(), view.colorA().rgb());
    QCOMPARE(mean->pen().color().rgb(), view.colorA().rgb());
    QVERIFY(view.colorA() != view.colorB());
    QVERIFY(!acc->plot()->legend->hasItemWithPlottable(low));
    QVERIFY(!acc->plot()->legend->hasItemWithPlottable(high));
    QVERIFY(acc->plot()->legend->hasItemWithPlottable(mean));
    QVERIFY2(mean->name().contains(QStringLiteral("n = 3")), qPrintable(mean->name()));
    // train/loss of A: steps 5, 10; means 3.0, 2.0; min 2/1, max 4/3.
    const QString lossId = ui::CompareView::groupSeriesId(m_a, "train/loss");
    const auto lossBand = view.lossPlot()->band(lossId);
    QVERIFY(lossBand.first);
    QCOMPARE(points(view.lossPlot()->series(lossId)),
             (std::vector<std::pair<double, double>>{{5, 3.0}, {10, 2.0}}));
    QCOMPARE(points(lossBand.first), (std::vector<std::pair<double, double>>{{5, 2.0}, {10, 1.0}}));
    QCOMPARE(points(lossBand.second),
             (std::vector<std::pair<double, double>>{{5, 4.0}, {10, 3.0}}));
    // The config table shows each group's seeds (the same here, so only with every row).
    view.onlyDifferences()->setChecked(false);
    bool seedRow = false;
    for (int row = 0; row < view.diffTable()->rowCount(); ++row)
      if (view.diffTable()->item(row, 0)->text() == QStringLiteral("seed")) {
        seedRow = true;
        QCOMPARE(view.diffTable()->item(row, 1)->text(), QStringLiteral("1–3"));
        QCOMPARE(view.diffTable()->item(row, 2)->text(), QStringLiteral("1–3"));
      }
    QVERIFY(seedRow);
  }

  void groupAgainstRunAndRunAgainstRun() {
    auto ws = ui::Workspace::open(m_db);
    ui::CompareView view;
    view.setReader(ws->reader());
    view.setSides(m_a, ui::CompareSide::run(m_b.runIds.first()));
    QVERIFY(view.accuracyPlot()->series(ui::CompareView::groupSeriesId(m_a, "eval/acc")));
    QVERIFY(view.accuracyPlot()->series(m_b.runIds.first() + QStringLiteral("|eval/acc")));
    QVERIFY2(view.statsText().contains(QStringLiteral("n = 3 vs 1: too few runs")),
             qPrintable(view.statsText()));
    view.setRuns(m_a.runIds.first(), m_b.runIds.first());
    QCOMPARE(view.accuracyPlot()->plot()->graphCount(), 2);  // no bands for runs
    QVERIFY2(view.statsText().contains(QStringLiteral("A − B = +6.0 points, n = 1 vs 1")),
             qPrintable(view.statsText()));
  }

  void runViewShowsBaseline() {
    auto ws = ui::Workspace::open(m_db);
    ui::RunView view;
    view.setReader(ws->reader());
    view.setRun(m_baselineRun);
    const QString text = view.baselineLabel()->text();
    QVERIFY(!view.baselineLabel()->isHidden());
    QVERIFY2(text.contains(QStringLiteral(
                 "Baseline (step 0, no adapter): 12.0 % → final 62.4 % (+50.4 points)")),
             qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("lookup 20.0 % → 80.0 % (+60.0)")), qPrintable(text));
    // The step-0 marker and the eval curve that starts there, inside the x range.
    QCPGraph* marker = view.accuracyPlot()->series(ui::RunView::baselineSeriesId());
    QVERIFY(marker);
    QCOMPARE(points(marker), (std::vector<std::pair<double, double>>{{0.0, 0.12}}));
    QCOMPARE(points(view.accuracyPlot()->series(QStringLiteral("eval/acc"))).front(),
             (std::pair<double, double>(0.0, 0.12)));
    view.accuracyPlot()->replotNow();
    QVERIFY(view.accuracyPlot()->plot()->xAxis->range().lower < 0.0);
    // A run without a baseline hides the line and draws no marker.
    view.setRun(m_a.runIds.first());
    QVERIFY(view.baselineLabel()->isHidden());
    QVERIFY(!view.accuracyPlot()->hasSeries(ui::RunView::baselineSeriesId()));
  }
};

QTEST_MAIN(TestSeedGroups)
#include "tst_seed_groups.moc"
