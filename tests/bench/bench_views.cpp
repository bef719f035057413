// SPDX-License-Identifier: GPL-3.0-or-later
// bench_views: Google Benchmark of the workbench on a long run (issue 13's acceptance figures,
// docs/PERFORMANCE.md). A run of 100k steps with 6 scalar metrics every step and matrix records
// of 32 layers × 7 modules × 8 experts every 100 steps (routing load and ranks) is written once
// into a temporary workspace, then:
//   BM_ScalarIngest     rows/s through RunStore (the trainer's path: queue, batched commits)
//   BM_FirstPaint       RunView opened on that run until its curves and heatmap are painted
//   BM_FirstPaintSmoothed  its loss curve with EMA smoothing (every row read and smoothed)
//   BM_Redraw1M         a 1M-point curve re-bucketed for a pan and painted (in memory)
//   BM_ZoomStore        a zoomed window of the 100k-step run re-read in SQL and painted
// Run: QT_QPA_PLATFORM=offscreen build/bin/bench_views --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <qcustomplot.h>
#include <QApplication>
#include <QTemporaryDir>

#include "core/common/uuid.h"
#include "core/events/training_events.h"
#include "core/store/matrix_codec.h"
#include "core/store/matrix_keys.h"
#include "core/store/run_reader.h"
#include "core/store/run_store.h"
#include "tests/ui/demo_run.h"
#include "ui/plots/metric_plot.h"
#include "ui/widgets/run_view.h"

using namespace apportion;

namespace {

constexpr int64_t kSteps = 100000;
const char* const kScalarKeys[] = {"train/loss",         "train/lr",     "train/grad_norm",
                                   "train/tokens_per_s", "moe/aux_loss", "train/padding"};

struct LongRun {
  QTemporaryDir dir;
  std::string db;
  std::string run_id;
};

MatrixPoint matrix(const std::string& key, int64_t step, std::mt19937_64& rng) {
  MatrixPoint m;
  m.key = key;
  m.step = step;
  m.shape = {32, 7, 8};
  m.axes = "layer,module,expert";
  m.dtype = MatrixDType::F32;
  std::uniform_real_distribution<float> u(0.0f, 0.25f);
  m.f32.resize(32 * 7 * 8);
  for (float& v : m.f32) v = u(rng);
  m.wall_ms = step;
  return m;
}

LongRun& longRun() {
  static LongRun* run = [] {
    auto* r = new LongRun;
    r->db = r->dir.filePath(QStringLiteral("ws.sqlite")).toStdString();
    r->run_id = make_uuid_hex();
    RunStore store(r->db);
    test::DemoRunSpec spec;
    spec.name = "long-100k";
    store.start_run(test::demo_run_started(spec, r->run_id));
    std::mt19937_64 rng(1);
    std::normal_distribution<double> noise(0.0, 0.05);
    for (int64_t s = 0; s < kSteps; ++s) {
      const double loss = 2.0 * std::exp(-static_cast<double>(s) / 20000.0) + 0.3 + noise(rng);
      int k = 0;
      for (const char* key : kScalarKeys)
        store.log_metric(r->run_id, {key, s, k++ == 0 ? loss : 1.0 + noise(rng), s});
      if (s % 100 == 0) {
        store.log_matrix(r->run_id, matrix(matrix_keys::kLoadFraction, s, rng));
        store.log_matrix(r->run_id, matrix(matrix_keys::kAllocRank, s, rng));
      }
    }
    store.finish_run(r->run_id, RunStatus::Finished, "");
    store.flush();
    return r;
  }();
  return *run;
}

void BM_ScalarIngest(benchmark::State& state) {
  QTemporaryDir dir;
  const std::string db = dir.filePath(QStringLiteral("ingest.sqlite")).toStdString();
  RunStore store(db);
  const std::string id = make_uuid_hex();
  test::DemoRunSpec spec;
  store.start_run(test::demo_run_started(spec, id));
  store.flush();
  const int64_t rows = state.range(0);
  int64_t step = 0;
  for (auto _ : state) {
    for (int64_t i = 0; i < rows; ++i) store.log_metric(id, {"train/loss", step++, 0.5, i});
    store.flush();  // committed: counted only when on disk (WAL, synchronous=NORMAL)
  }
  state.SetItemsProcessed(state.iterations() * rows);
  state.counters["rows_per_s"] = benchmark::Counter(static_cast<double>(state.iterations() * rows),
                                                    benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ScalarIngest)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_FirstPaint(benchmark::State& state) {
  LongRun& run = longRun();
  for (auto _ : state) {
    auto reader = std::make_shared<RunReader>(run.db);  // a fresh connection: a cold open
    ui::RunView view;
    view.resize(1400, 800);
    view.show();
    view.setReader(reader);
    view.setRun(QString::fromStdString(run.run_id));
    view.lossPlot()->replotNow();
    view.repaint();  // paints every child now (the plots' buffers included)
    view.lossPlot()->plot()->replot(QCustomPlot::rpImmediateRefresh);
    benchmark::DoNotOptimize(view.lossPlot()->pointCount());
  }
  state.counters["steps"] = static_cast<double>(kSteps);
}
BENCHMARK(BM_FirstPaint)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

// The same with EMA smoothing on: the loss curve's 100k rows are read whole and smoothed.
void BM_FirstPaintSmoothed(benchmark::State& state) {
  LongRun& run = longRun();
  for (auto _ : state) {
    auto reader = std::make_shared<RunReader>(run.db);
    ui::MetricPlot plot(QStringLiteral("Loss"), QStringLiteral("loss"));
    plot.resize(1200, 500);
    plot.show();
    plot.setSmoothing({SmoothingKind::Ema, 0.9, 0});
    plot.addStoreSeries(QStringLiteral("loss"), QStringLiteral("loss"), Qt::blue, reader,
                        run.run_id, "train/loss");
    plot.replotNow();
    plot.plot()->replot(QCustomPlot::rpImmediateRefresh);
    benchmark::DoNotOptimize(plot.pointCount());
  }
}
BENCHMARK(BM_FirstPaintSmoothed)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

void BM_Redraw1M(benchmark::State& state) {
  ui::MetricPlot plot(QStringLiteral("1M points"), QStringLiteral("loss"));
  plot.resize(1600, 600);
  plot.show();
  std::vector<int64_t> steps(1000000);
  std::vector<double> values(steps.size());
  std::mt19937_64 rng(2);
  std::normal_distribution<double> noise(0.0, 0.1);
  for (size_t i = 0; i < steps.size(); ++i) {
    steps[i] = static_cast<int64_t>(i);
    values[i] = 1.0 + noise(rng);
  }
  plot.addSeries(QStringLiteral("s"), QStringLiteral("s"), Qt::blue);
  plot.appendPoints(QStringLiteral("s"), steps, values);
  plot.replotNow();
  double offset = 0;
  for (auto _ : state) {
    offset = offset > 400000 ? 0 : offset + 1000;  // a pan: every frame re-buckets
    plot.setStepRange(offset, offset + 600000);
    plot.replotNow();
    plot.plot()->replot(QCustomPlot::rpImmediateRefresh);
  }
  state.counters["drawn_points"] = plot.pointCount();
}
BENCHMARK(BM_Redraw1M)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ZoomStore(benchmark::State& state) {
  LongRun& run = longRun();
  ui::MetricPlot plot(QStringLiteral("zoom"), QStringLiteral("loss"));
  plot.resize(1600, 600);
  plot.show();
  plot.addStoreSeries(QStringLiteral("loss"), QStringLiteral("loss"), Qt::blue,
                      std::make_shared<RunReader>(run.db), run.run_id, "train/loss");
  const double width = static_cast<double>(state.range(0));
  double lo = 0;
  for (auto _ : state) {
    lo = lo + width > kSteps ? 0 : lo + width / 3;
    plot.setStepRange(lo, lo + width);
    plot.replotNow();
    plot.plot()->replot(QCustomPlot::rpImmediateRefresh);
  }
  state.counters["drawn_points"] = plot.pointCount();
}
BENCHMARK(BM_ZoomStore)->Arg(2000)->Arg(20000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  if (!std::getenv("QT_QPA_PLATFORM")) setenv("QT_QPA_PLATFORM", "offscreen", 1);
  QApplication app(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
