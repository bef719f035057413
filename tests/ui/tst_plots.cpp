// SPDX-License-Identifier: GPL-3.0-or-later
// RunView, the routing heatmap, the expert-count bars and CompareView fed from a temporary
// store; asserts data (graph dataCount, axis ranges, colour-map cells, slider range), not pixels.
// Also the GuiLoMo pipeline links of the run header, the DR-LoRA rank budget and heatmaps, and
// the GuiLoMo search's expert grid following the argmax over steps.
#include <cmath>

#include <qcustomplot.h>
#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QSignalSpy>
#include <QSlider>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>

#include "core/common/uuid.h"
#include "core/store/run_store.h"
#include "tests/ui/demo_run.h"
#include "ui/models/workspace.h"
#include "ui/plots/allocation_diff_plot.h"
#include "ui/plots/expert_count_bars.h"
#include "ui/plots/expert_load_heatmap.h"
#include "ui/plots/gsv_evolution_plot.h"
#include "ui/plots/metric_plot.h"
#include "ui/widgets/allocation_panel.h"
#include "ui/widgets/compare_view.h"
#include "ui/widgets/run_view.h"

using namespace apportion;

class TestPlots : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir m_dir;
  QString m_db;
  QString m_mola;     // mola 2468, 4 layers, 40 steps
  QString m_uniform;  // uniform 4 experts, lr 1e-3

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    m_db = m_dir.filePath(QStringLiteral("ws.sqlite"));
    RunStore store(m_db.toStdString());
    test::DemoRunSpec a;
    a.name = "mola";
    m_mola = QString::fromStdString(test::add_demo_run(store, a));
    test::DemoRunSpec b;
    b.name = "uniform";
    b.method = "uniform";
    b.lr = 1e-3;
    m_uniform = QString::fromStdString(test::add_demo_run(store, b));
  }

  void reduceAveragesOverModulesAndKeepsNan() {
    MatrixRecord r;
    r.shape = {2, 2, 3};
    const float nan = std::nanf("");
    r.values = {0.5f, 0.5f, nan,  0.3f, 0.7f, nan,    // layer 0: 2 experts
                0.2f, 0.3f, 0.5f, 0.4f, 0.1f, 0.5f};  // layer 1: 3 experts
    const ui::LayerExpertGrid g = ui::reduceToLayerExpert(r);
    QCOMPARE(g.layers, 2);
    QCOMPARE(g.experts, 3);
    QVERIFY(std::abs(g.at(0, 0) - 0.4) < 1e-6);
    QVERIFY(std::isnan(g.at(0, 2)));
    QVERIFY(std::abs(g.at(1, 1) - 0.2) < 1e-6);
  }

  void runViewShowsCurves() {
    auto ws = ui::Workspace::open(m_db);
    ui::RunView view;
    view.setReader(ws->reader());
    view.setRun(m_mola);
    view.lossPlot()->replotNow();
    view.accuracyPlot()->replotNow();
    // 40 steps, scalars every 5 → 8 points; eval every 20 → 2 points.
    QVERIFY(view.lossPlot()->series(QStringLiteral("train/loss")));
    QCOMPARE(view.lossPlot()->series(QStringLiteral("train/loss"))->dataCount(), 8);
    QCOMPARE(view.lossPlot()->series(QStringLiteral("eval/loss"))->dataCount(), 2);
    QCOMPARE(view.accuracyPlot()->series(QStringLiteral("eval/acc"))->dataCount(), 2);
    for (const char* task : {"lookup", "arithmetic", "facts"})
      QCOMPARE(view.accuracyPlot()
                   ->series(QStringLiteral("eval/acc/") + QLatin1String(task))
                   ->dataCount(),
               2);
    QVERIFY(!view.lossPlot()->hasSeries(QStringLiteral("train/lr")));
    const QCPRange x = view.lossPlot()->plot()->xAxis->range();
    QVERIFY2(x.lower <= 5 && x.upper >= 40,
             qPrintable(QStringLiteral("%1..%2").arg(x.lower).arg(x.upper)));
    const QCPRange y = view.accuracyPlot()->plot()->yAxis->range();
    QCOMPARE(y.lower, 0.0);
    QCOMPARE(y.upper, 1.0);
    QVERIFY(view.headerLabel()->text().contains(QStringLiteral("FINISHED")));
    QVERIFY(!view.stopButton()->isEnabled());
  }

  void heatmapFollowsMatrixSteps() {
    auto ws = ui::Workspace::open(m_db);
    ui::RunView view;
    view.setReader(ws->reader());
    view.setRun(m_mola);
    ui::ExpertLoadHeatmap* map = view.heatmap();
    // Matrices every 10 steps over 40 → steps 10, 20, 30, 40.
    QCOMPARE(map->steps().size(), size_t(4));
    QCOMPARE(map->slider()->minimum(), 0);
    QCOMPARE(map->slider()->maximum(), 3);
    QCOMPARE(map->slider()->value(), 3);
    QCOMPARE(*map->currentStep(), int64_t(40));
    const ui::LayerExpertGrid& g = map->grid();
    QCOMPARE(g.layers, 4);
    QCOMPARE(g.experts, 8);
    QCOMPARE(map->colorMap()->data()->keySize(), 8);
    QCOMPARE(map->colorMap()->data()->valueSize(), 4);
    // Layer 0 has 2 experts (preset 2468): the rest is "no expert" (NaN).
    QVERIFY(std::isnan(map->colorMap()->data()->cell(2, 0)));
    QVERIFY(!std::isnan(map->colorMap()->data()->cell(7, 3)));
    QCOMPARE(map->colorMap()->data()->cell(1, 0), g.at(0, 1));
    QVERIFY(std::abs(g.at(0, 0) + g.at(0, 1) - 1.0) < 1e-5);  // load fractions sum to 1
    map->slider()->setValue(0);
    QCOMPARE(*map->currentStep(), int64_t(10));
    // Experts per layer bars from alloc/experts.
    QCOMPARE(view.expertBars()->expertsPerLayer(), (std::vector<int>{2, 4, 6, 8}));
    QCOMPARE(view.expertBars()->bars()->data()->size(), 4);
    QCOMPARE(view.expertBars()->totalExperts(), (2 + 4 + 6 + 8) * 7);
  }

  void runViewAppendsIncrementally() {
    RunStore store(m_db.toStdString());
    test::DemoRunSpec live;
    live.name = "live";
    live.steps = 100;
    const std::string id = make_uuid_hex();
    store.start_run(test::demo_run_started(live, id));
    for (int step = 0; step <= 20; ++step) test::write_demo_step(store, id, live, step);
    store.flush();

    auto ws = ui::Workspace::open(m_db);
    ui::RunView view;
    view.setReader(ws->reader());
    view.setRun(QString::fromStdString(id));
    QCPGraph* loss = view.lossPlot()->series(QStringLiteral("train/loss"));
    QCOMPARE(loss->dataCount(), 4);
    QCOMPARE(view.heatmap()->slider()->maximum(), 1);
    for (int step = 21; step <= 60; ++step) test::write_demo_step(store, id, live, step);
    store.flush();
    view.onRunUpdated(QString::fromStdString(id), 60);
    view.onRunUpdated(QString::fromStdString(id), 60);  // coalesced with the first
    QTRY_COMPARE(loss->dataCount(), 12);
    QCOMPARE(view.heatmap()->slider()->maximum(), 5);
    QCOMPARE(*view.heatmap()->currentStep(), int64_t(60));   // follows the newest step
    view.onRunUpdated(QStringLiteral("some-other-run"), 1);  // ignored
    QTest::qWait(100);
    QCOMPARE(loss->dataCount(), 12);
  }

  void gsvSliceFollowsArgmaxOverSteps() {
    // Two steps of [layers 1, modules 2, n 3] expert GSVs; module 1's argmax moves 0 -> 2.
    MatrixRecord a, b;
    a.step = 10;
    b.step = 20;
    a.shape = b.shape = {1, 2, 3};
    a.values = {0.9f, 0.1f, 0.2f, /*module 1*/ 0.7f, 0.6f, 0.5f};
    b.values = {0.9f, 0.1f, 0.2f, /*module 1*/ 0.1f, 0.2f, 0.8f};
    const ui::GsvSeries s = ui::sliceGsv({a, b}, 0, 1, -1);
    QCOMPARE(s.length, 3);
    QCOMPARE(s.steps, (std::vector<int64_t>{10, 20}));
    QCOMPARE(s.argmax, (std::vector<int>{0, 2}));
    QVERIFY(std::abs(s.values[1][2] - 0.8) < 1e-6);
    // Rank GSVs [layer, module, expert, r]: expert 1 of module 0.
    MatrixRecord r;
    r.step = 5;
    r.shape = {1, 1, 2, 2};
    r.values = {0.1f, 0.9f, /*expert 1*/ 0.6f, 0.4f};
    const ui::GsvSeries rs = ui::sliceGsv({r}, 0, 0, 1);
    QCOMPARE(rs.argmax, (std::vector<int>{0}));
    QVERIFY(ui::sliceGsv({r}, 0, 0, 2).steps.empty());  // no such expert
  }

  void allocationPanelReadsStoredGsvAndBudget() {
    const QString db = m_dir.filePath(QStringLiteral("gsv.sqlite"));
    std::string id;
    {
      RunStore store(db.toStdString());
      test::DemoRunSpec spec;
      spec.name = "search";
      id = test::add_demo_run(store, spec);
      for (int step : {10, 20, 30}) {
        MatrixPoint g{"guilomo/gsv_expert", step, {4, 7, 3}, "layer,module,gsv",
                      MatrixDType::F32,     {},   {},        0};
        for (int i = 0; i < 4 * 7; ++i) {
          // layer 2, module 3 (o_proj): the largest entry walks 0, 1, 2 over the steps.
          const int hot = (i == 2 * 7 + 3) ? step / 10 - 1 : 0;
          for (int j = 0; j < 3; ++j) g.f32.push_back(j == hot ? 0.9f : 0.3f);
        }
        store.log_matrix(id, g);
      }
      store.flush();
    }
    auto ws = ui::Workspace::open(db);
    ui::AllocationPanel panel;
    panel.setSource(ws->reader(), QString::fromStdString(id));
    panel.gsvPlot()->select(2, 3, -1);
    QCOMPARE(panel.gsvPlot()->series().argmax, (std::vector<int>{0, 1, 2}));
    panel.gsvPlot()->select(0, 0, -1);
    QCOMPARE(panel.gsvPlot()->series().argmax, (std::vector<int>{0, 0, 0}));
    // Budget: 2468 over 7 modules = 140 experts, each rank 8.
    QVERIFY2(panel.budgetLabel()->text().contains(QStringLiteral("140 experts")),
             qPrintable(panel.budgetLabel()->text()));
    QVERIFY(panel.budgetLabel()->text().contains(QStringLiteral("1120")));
    QCOMPARE(panel.expertGrid()->grid().experts, 7);  // module columns
    QCOMPARE(panel.expertGrid()->grid().at(3, 0), 8.0);
    // For looking at it: AP_SCREENSHOT_DIR=/tmp ./tst_plots writes allocation_panel.png.
    const QString shots = qEnvironmentVariable("AP_SCREENSHOT_DIR");
    if (!shots.isEmpty()) {
      panel.gsvPlot()->select(2, 3, -1);
      panel.resize(1200, 800);
      panel.show();
      QTest::qWait(200);
      QVERIFY(panel.grab().save(shots + QStringLiteral("/allocation_panel.png")));
    }
  }

  void pipelineRunsLinkEachOther() {
    const QString db = m_dir.filePath(QStringLiteral("pipeline.sqlite"));
    std::string search, retrain;
    {
      RunStore store(db.toStdString());
      test::DemoRunSpec a;
      a.method = "guilomo_search";
      a.tags["pipeline"] = "guilomo";
      search = test::add_demo_run(store, a);
      test::DemoRunSpec b;
      b.method = "guilomo";
      b.tags["guilomo/search_run"] = search;
      retrain = test::add_demo_run(store, b);
      store.set_tag(search, "guilomo/retrain_run", retrain);
      store.flush();
    }
    const QString s = QString::fromStdString(search), r = QString::fromStdString(retrain);
    auto ws = ui::Workspace::open(db);
    ui::RunView view;
    view.setReader(ws->reader());
    view.setRun(s);
    QVERIFY(view.pipelineLabel()->isVisibleTo(&view));
    const QString text = view.pipelineLabel()->text();
    QVERIFY2(text.contains(QStringLiteral("search run <b>%1</b>").arg(s.left(8))),
             qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("href='run:%1'").arg(r)), qPrintable(text));
    QSignalSpy linked(&view, &ui::RunView::runLinkActivated);
    Q_EMIT view.pipelineLabel()->linkActivated(QStringLiteral("run:") + r);
    QCOMPARE(linked.count(), 1);
    QCOMPARE(linked.at(0).at(0).toString(), r);
    view.setRun(r);
    QVERIFY2(view.pipelineLabel()->text().contains(QStringLiteral("href='run:%1'").arg(s)),
             qPrintable(view.pipelineLabel()->text()));
    QVERIFY(view.pipelineLabel()->text().contains(QStringLiteral("<b>%1</b>").arg(r.left(8))));
    view.setRun(QString());  // no run: no line
    QVERIFY(!view.pipelineLabel()->isVisibleTo(&view));
    // The search run's expert grid follows the GSV argmax: max(2, argmax + 1) at the last step,
    // n_max (the supernet) at step 0.
    ui::AllocationPanel panel;
    panel.setSource(ws->reader(), s);
    QVERIFY(panel.expertGrid()->steps().size() > 2);
    QCOMPARE(panel.expertGrid()->grid().experts, 7);
    test::DemoRunSpec a;
    QCOMPARE(panel.expertGrid()->grid().at(1, 2), double(test::demo_guilomo_experts(a, 1, 2)));
    panel.expertGrid()->slider()->setValue(0);
    QCOMPARE(panel.expertGrid()->grid().at(1, 2), double(a.n_max));
    panel.gsvPlot()->select(1, 2, -1);
    QCOMPARE(panel.gsvPlot()->series().length, a.n_max);
    QCOMPARE(panel.gsvPlot()->series().argmax.back() + 1, test::demo_guilomo_experts(a, 1, 2));
    panel.gsvPlot()->select(1, 2, 0);  // rank GSV of expert 0
    QCOMPARE(panel.gsvPlot()->series().length, a.r_max);
    QCOMPARE(panel.gsvPlot()->series().argmax.back() + 1, test::demo_guilomo_rank(a, 1, 2, 0));
  }

  void drloraBudgetAndRankViews() {
    const QString db = m_dir.filePath(QStringLiteral("drlora.sqlite"));
    std::string dr, st;
    {
      RunStore store(db.toStdString());
      test::DemoRunSpec a;
      a.method = "drlora";
      dr = test::add_demo_run(store, a);
      test::DemoRunSpec b;
      b.method = "static_frequency";
      st = test::add_demo_run(store, b);
      store.set_tag(st, "drlora/budget", "");       // no budget tag: computed from L·N·r_target
      store.set_tag(dr, "active_params", "12345");  // parameters in use below r_max
      store.flush();
    }
    auto ws = ui::Workspace::open(db);
    // Σ of the newest drlora/rank record, recomputed here independently.
    const auto newestSum = [&](const std::string& id) {
      const auto rec = ws->reader()->matrix_at_or_before(id, "drlora/rank", -1);
      double sum = 0;
      for (float v : rec->values) sum += v;
      return static_cast<long long>(sum);
    };
    const ui::BudgetSummary a = ui::budgetSummary(*ws->reader(), dr);
    QCOMPARE(a.rankBudget, 4LL * 8 * 8);
    QCOMPARE(a.totalRank, newestSum(dr));
    QVERIFY(a.totalRank > 4LL * 8 * 2);  // grew from r_init
    QVERIFY(a.totalRank <= a.rankBudget);
    QVERIFY2(a.text().contains(QStringLiteral("of budget 256")), qPrintable(a.text()));
    QCOMPARE(a.activeParams, 12345LL);
    QVERIFY2(a.text().contains(QStringLiteral("in use (")), qPrintable(a.text()));
    ui::AllocationPanel panel;
    panel.setSource(ws->reader(), QString::fromStdString(dr));
    QVERIFY(panel.budgetLabel()->text().contains(QStringLiteral("of budget 256")));
    QStringList kinds;
    for (int i = 0; i < panel.rankKeyCombo()->count(); ++i)
      kinds << panel.rankKeyCombo()->itemText(i);
    QCOMPARE(kinds.size(), 5);  // rank, saliency, frequency, importance, backbone load
    QCOMPARE(panel.rankHeatmap()->grid().layers, 4);
    QCOMPARE(panel.rankHeatmap()->grid().experts, 8);
    panel.rankHeatmap()->slider()->setValue(0);
    QCOMPARE(panel.rankHeatmap()->grid().at(0, 0), 2.0);  // r_init everywhere at step 0
    const ui::BudgetSummary b = ui::budgetSummary(*ws->reader(), st);
    QCOMPARE(b.rankBudget, 4LL * 8 * 8);  // from the shape and allocation.drlora.r_target
    QCOMPARE(b.totalRank, newestSum(st));
    // Compare: A − B of the routed-expert ranks.
    ui::CompareView view;
    view.setReader(ws->reader());
    view.setRuns(QString::fromStdString(dr), QString::fromStdString(st));
    view.allocationDiff()->quantityCombo()->setCurrentIndex(2);
    const auto& d = view.allocationDiff()->difference();
    QVERIFY(d.has_value());
    QCOMPARE(d->layers, 4);
    QCOMPARE(d->modules, 8);
    double sum = 0;
    for (double v : d->values) sum += v;
    QCOMPARE(static_cast<long long>(sum), a.totalRank - b.totalRank);
  }

  void compareViewShowsAllocationDifference() {
    auto ws = ui::Workspace::open(m_db);
    ui::CompareView view;
    view.setReader(ws->reader());
    view.setRuns(m_mola, m_uniform);  // 2-4-6-8 vs 4 experts everywhere
    const auto& d = view.allocationDiff()->difference();
    QVERIFY(d.has_value());
    QCOMPARE(d->layers, 4);
    QCOMPARE(d->modules, 7);
    const double expected[] = {-2, 0, 2, 4};
    for (int l = 0; l < 4; ++l)
      for (int m = 0; m < 7; ++m) QCOMPARE(d->values[static_cast<size_t>(l * 7 + m)], expected[l]);
    // Total rank per module: every expert has rank 8.
    view.allocationDiff()->quantityCombo()->setCurrentIndex(1);
    QCOMPARE(view.allocationDiff()->difference()->values[3 * 7], 4.0 * 8);
    ui::ModuleGrid a{1, 2, {1, 2}}, b{2, 1, {1, 2}};
    QVERIFY(!ui::gridDifference(a, b).has_value());  // shapes differ
  }

  void compareViewOverlaysAndDiffs() {
    auto ws = ui::Workspace::open(m_db);
    ui::CompareView view;
    view.setReader(ws->reader());
    view.setRuns(m_mola, m_uniform);
    // train/loss + eval/loss for each run; eval/acc for each run.
    QCOMPARE(view.lossPlot()->plot()->graphCount(), 4);
    QCOMPARE(view.accuracyPlot()->plot()->graphCount(), 2);
    QCOMPARE(view.lossPlot()->pointCount(), 2 * (8 + 2));
    QVERIFY(view.onlyDifferences()->isChecked());
    QStringList keys;
    for (int row = 0; row < view.diffTable()->rowCount(); ++row)
      keys << view.diffTable()->item(row, 0)->text();
    QVERIFY2(keys.contains(QStringLiteral("train.lr")), qPrintable(keys.join(QLatin1Char(','))));
    QVERIFY(keys.contains(QStringLiteral("allocation.method")));
    QVERIFY(keys.contains(QStringLiteral("allocation.preset")));
    QVERIFY(!keys.contains(QStringLiteral("adapters.r")));
    const int onlyDiffRows = view.diffTable()->rowCount();
    view.onlyDifferences()->setChecked(false);
    QVERIFY(view.diffTable()->rowCount() > onlyDiffRows);
  }
};

QTEST_MAIN(TestPlots)
#include "tst_plots.moc"
