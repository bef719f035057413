// SPDX-License-Identifier: GPL-3.0-or-later
// Figures and long runs in the GUI, on a real store: a 60k-row curve with planted spikes is drawn
// from min/max buckets (every spike among the drawn points, at most 4 points per pixel column)
// and at full resolution when zoomed in; the CSV export's raw rows equal the store's rows
// exactly; smoothing draws the debiased EMA over a faint raw curve; legend hide/solo; the
// differing-keys table of three runs; small-multiple allocations share one colour range; the
// exported SVG parses (QSvgRenderer, QXmlStreamReader), the PDF parses (poppler's pdfinfo) and
// the PNG has the pixel size its millimetres and DPI ask for.
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>

#include <qcustomplot.h>
#include <QCheckBox>
#include <QFile>
#include <QImage>
#include <QProcess>
#include <QSvgRenderer>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QXmlStreamReader>
#include <QtTest>

#include "core/common/uuid.h"
#include "core/store/run_reader.h"
#include "core/store/run_store.h"
#include "tests/ui/demo_run.h"
#include "ui/plots/allocation_small_multiples.h"
#include "ui/plots/expert_count_bars.h"
#include "ui/plots/expert_load_heatmap.h"
#include "ui/plots/figure_export.h"
#include "ui/plots/metric_plot.h"
#include "ui/widgets/compare_view.h"
#include "ui/widgets/run_view.h"

using namespace apportion;

namespace {

constexpr int kRows = 60000;

/// Column values of a CSV line (no quoted commas in these files' numeric rows).
QStringList fields(const QByteArray& line) {
  return QString::fromUtf8(line).trimmed().split(QLatin1Char(','));
}

}  // namespace

class TestFigures : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    m_db = m_dir.filePath(QStringLiteral("ws.sqlite")).toStdString();
    RunStore store(m_db);
    m_long = make_uuid_hex();
    test::DemoRunSpec spec;
    spec.name = "long";
    store.start_run(test::demo_run_started(spec, m_long));
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> noise(1.0, 2.0);
    for (int s = 0; s < kRows; ++s) {
      double v = noise(rng);
      if (s % 7919 == 1234) v = 100.0 + s / 1000.0;  // single-row spikes
      if (s == 777) v = std::numeric_limits<double>::quiet_NaN();
      m_values[s] = v;
      store.log_metric(m_long, {"train/loss", s, v, 1000 + s});
    }
    store.finish_run(m_long, RunStatus::Finished, "");
    for (const auto& [name, preset, lr] :
         {std::tuple{"m2468", "2468", 2e-3}, std::tuple{"m8642", "8642", 2e-3},
          std::tuple{"m2468-lr", "2468", 1e-3}}) {
      test::DemoRunSpec s;
      s.name = name;
      s.preset = preset;
      s.lr = lr;
      m_three.push_back(QString::fromStdString(test::add_demo_run(store, s)));
    }
    store.flush();
    m_reader = std::make_shared<RunReader>(m_db);
  }

  void longCurveKeepsSpikesAndZoomsToRows() {
    ui::MetricPlot plot(QStringLiteral("Loss"), QStringLiteral("loss"));
    plot.resize(800, 400);
    plot.show();
    QVERIFY(QTest::qWaitForWindowExposed(&plot));
    plot.addStoreSeries(QStringLiteral("loss"), QStringLiteral("loss"), Qt::blue, m_reader, m_long,
                        "train/loss");
    plot.replotNow();
    QCPGraph* g = plot.series(QStringLiteral("loss"));
    const int columns = plot.plot()->axisRect()->width();
    QVERIFY2(
        g->dataCount() <= 4 * columns + 8,
        qPrintable(QStringLiteral("%1 points for %2 columns").arg(g->dataCount()).arg(columns)));
    QVERIFY(g->dataCount() < kRows / 10);
    std::multiset<double> drawn;
    for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it)
      drawn.insert(it->value);
    int spikes = 0;
    for (const auto& [step, v] : m_values)
      if (v > 50) {
        QVERIFY2(drawn.count(v), qPrintable(QStringLiteral("spike at %1 missing").arg(step)));
        ++spikes;
      }
    QCOMPARE(spikes, 8);
    // Zoomed to 200 steps: every row is its own point (plus one column beyond each edge).
    plot.setStepRange(20000, 20199);
    plot.replotNow();
    QVERIFY(plot.isZoomed());
    int inside = 0;
    for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it)
      if (it->key >= 20000 && it->key <= 20199) {
        QCOMPARE(it->value, m_values.at(static_cast<int>(it->key)));
        ++inside;
      }
    QCOMPARE(inside, 200);
    plot.resetZoom();
    QVERIFY(!plot.isZoomed());
    QVERIFY(g->dataCount() <= 4 * columns + 8);
  }

  void csvExportEqualsStore() {
    ui::MetricPlot plot(QStringLiteral("Loss"), QStringLiteral("loss"));
    plot.resize(600, 300);
    plot.addStoreSeries(QStringLiteral("loss"), QStringLiteral("loss, run \"long\""), Qt::blue,
                        m_reader, m_long, "train/loss");
    plot.replotNow();
    const QString path = m_dir.filePath(QStringLiteral("loss.csv"));
    QCOMPARE(plot.writeCsv(path), QString());
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readLine().trimmed(), QByteArray("series,label,kind,step,value"));
    const MetricSeries store = m_reader->metric_series(m_long, "train/loss", -1);
    size_t raw = 0;
    int drawnRows = 0;
    while (!file.atEnd()) {
      const QByteArray line = file.readLine();
      QVERIFY(line.startsWith("loss,\"loss, run \"\"long\"\"\","));  // RFC 4180 quoting
      const QStringList f = fields(line.mid(line.indexOf("\",") + 2));
      QCOMPARE(f.size(), 3);
      if (f[0] == QLatin1String("drawn")) {
        ++drawnRows;
        continue;
      }
      QCOMPARE(f[0], QStringLiteral("raw"));
      QVERIFY(raw < store.steps.size());
      QCOMPARE(f[1].toLongLong(), store.steps[raw]);
      if (std::isnan(store.values[raw]))
        QVERIFY(f[2].isEmpty());
      else
        QCOMPARE(f[2].toDouble(), store.values[raw]);  // exact: round-trip formatting
      ++raw;
    }
    QCOMPARE(raw, store.steps.size());
    QCOMPARE(drawnRows, plot.series(QStringLiteral("loss"))->dataCount());
    QVERIFY(!plot.writeCsv(m_dir.filePath(QStringLiteral("no/such/dir/x.csv"))).isEmpty());
  }

  void smoothingDrawsEmaOverRaw() {
    ui::MetricPlot plot(QStringLiteral("Loss"), QStringLiteral("loss"));
    plot.resize(600, 300);
    const std::vector<int64_t> steps = {0, 1, 2, 3, 4};
    const std::vector<double> values = {1.0, 3.0, 2.0, 5.0, 4.0};
    plot.addSeries(QStringLiteral("s"), QStringLiteral("s"), Qt::red);
    plot.appendPoints(QStringLiteral("s"), steps, values);
    plot.setSmoothing({SmoothingKind::Ema, 0.5, 0});
    plot.replotNow();
    QVERIFY(plot.rawSeries(QStringLiteral("s")));
    QCOMPARE(plot.rawSeries(QStringLiteral("s"))->dataCount(), 5);
    QCOMPARE(plot.rawSeries(QStringLiteral("s"))->pen().color().alpha(), 60);
    // Hand-computed debiased EMA, w = 0.5: 1, (0.5·0.5+1.5)/0.75 = 2.3333, …
    QCPGraph* g = plot.series(QStringLiteral("s"));
    QCOMPARE(g->dataCount(), 5);
    QVERIFY(std::abs(g->data()->at(0)->value - 1.0) < 1e-12);
    QVERIFY(std::abs(g->data()->at(1)->value - 1.75 / 0.75) < 1e-12);
    plot.setSmoothing({});
    plot.replotNow();
    QVERIFY(!plot.rawSeries(QStringLiteral("s")));
    QCOMPARE(g->data()->at(1)->value, 3.0);
    plot.setLogY(true);
    plot.replotNow();
    QCOMPARE(plot.plot()->yAxis->scaleType(), QCPAxis::stLogarithmic);
    QVERIFY(plot.plot()->yAxis->range().lower > 0);
  }

  void legendHidesAndSolos() {
    ui::MetricPlot plot(QStringLiteral("Loss"), QStringLiteral("loss"));
    for (const char* id : {"a", "b", "c"}) {
      plot.addSeries(QString::fromUtf8(id), QString::fromUtf8(id), Qt::black);
      plot.appendPoints(QString::fromUtf8(id), {0, 1}, {1.0, 2.0});
    }
    plot.setSeriesVisible(QStringLiteral("b"), false);
    QVERIFY(!plot.series(QStringLiteral("b"))->visible());
    QCOMPARE(plot.exportedCurves().size(), size_t{4});  // a and c: drawn + raw each
    plot.soloSeries(QStringLiteral("c"));
    QVERIFY(!plot.isSeriesVisible(QStringLiteral("a")));
    QVERIFY(plot.isSeriesVisible(QStringLiteral("c")));
    plot.soloSeries(QStringLiteral("c"));  // again: all
    for (const char* id : {"a", "b", "c"}) QVERIFY(plot.isSeriesVisible(QString::fromUtf8(id)));
    // With the mouse: a click on b's legend entry hides b, a double-click on a solos a.
    plot.resize(600, 400);
    plot.show();
    QVERIFY(QTest::qWaitForWindowExposed(&plot));
    plot.replotNow();
    plot.plot()->replot(QCustomPlot::rpImmediateRefresh);
    const auto entry = [&plot](const char* id) {
      return plot.plot()
          ->legend->itemWithPlottable(plot.series(QString::fromUtf8(id)))
          ->rect()
          .center();
    };
    QTest::mouseClick(plot.plot(), Qt::LeftButton, {}, entry("b"));
    QVERIFY(!plot.isSeriesVisible(QStringLiteral("b")));
    QTest::mouseDClick(plot.plot(), Qt::LeftButton, {}, entry("a"));
    QVERIFY(plot.isSeriesVisible(QStringLiteral("a")));
    QVERIFY(!plot.isSeriesVisible(QStringLiteral("b")) &&
            !plot.isSeriesVisible(QStringLiteral("c")));
  }

  void compareThreeRuns() {
    ui::CompareView view;
    view.setReader(m_reader);
    QList<ui::CompareSide> sides;
    for (const QString& id : m_three) sides << ui::CompareSide::run(id);
    view.setSides(sides);
    QCOMPARE(view.sides().size(), 3);
    QCOMPARE(view.diffTable()->columnCount(), 4);
    QStringList keys;
    for (int r = 0; r < view.diffTable()->rowCount(); ++r)
      keys << view.diffTable()->item(r, 0)->text();
    // They differ in the preset (A, C vs B), the lr (C) and the name; not in the rank.
    QVERIFY2(keys.contains(QStringLiteral("allocation.preset")), qPrintable(keys.join(u',')));
    QVERIFY(keys.contains(QStringLiteral("train.lr")));
    QVERIFY(!keys.contains(QStringLiteral("adapters.r")));
    for (int r = 0; r < view.diffTable()->rowCount(); ++r) {
      if (view.diffTable()->item(r, 0)->text() != QLatin1String("train.lr")) continue;
      QCOMPARE(view.diffTable()->item(r, 1)->text(), view.diffTable()->item(r, 2)->text());
      QVERIFY(view.diffTable()->item(r, 3)->text() != view.diffTable()->item(r, 1)->text());
    }
    // Three distinct colours; curves of every run; one colour scale for the small multiples.
    QVERIFY(view.sideColor(0) != view.sideColor(1) && view.sideColor(1) != view.sideColor(2) &&
            view.sideColor(0) != view.sideColor(2));
    for (const QString& id : m_three)
      QVERIFY(view.lossPlot()->hasSeries(id + QStringLiteral("|train/loss")));
    const auto& grids = view.allocationMultiples()->grids();
    QCOMPARE(grids.size(), size_t{3});
    double lo = 1e9;
    double hi = -1e9;
    for (const auto& g : grids) {
      QVERIFY(g.has_value());
      for (double v : g->values) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    }
    QCOMPARE(view.allocationMultiples()->sharedRange(), (std::pair<double, double>(lo, hi)));
    QCOMPARE(lo, 2.0);  // 2-4-6-8 and 8-6-4-2 experts per module
    QCOMPARE(hi, 8.0);
    // Any plot's data as drawn: the grouped task bars, one row per side and task.
    const QString bars = m_dir.filePath(QStringLiteral("bars.csv"));
    QCOMPARE(ui::writePlottablesCsv(view.taskBars(), bars), QString());
    QFile barsFile(bars);
    QVERIFY(barsFile.open(QIODevice::ReadOnly));
    const QList<QByteArray> lines = barsFile.readAll().trimmed().split('\n');
    QCOMPARE(lines.front(), QByteArray("plottable,kind,x,x_label,y,value"));
    QCOMPARE(lines.size(), 1 + 3 * 3);  // 3 runs × the demo's 3 tasks
    QVERIFY(lines[1].startsWith("A m2468,bars,1,"));
    // Colours stay with their runs when one is dropped.
    const QColor third = view.sideColor(2);
    view.setSides({sides[0], sides[2]});
    QCOMPARE(view.sideColor(1), third);
    QVERIFY(!view.allocationDiff()->isHidden());
  }

  void runViewShowsWhatEachMethodRecords() {
    RunStore store(m_db);
    std::map<std::string, QString> ids;
    for (const char* method : {"mola", "drlora", "guilomo_search", "lora"}) {
      test::DemoRunSpec s;
      s.name = std::string("panels-") + method;
      s.method = method;
      ids[method] = QString::fromStdString(test::add_demo_run(store, s));
    }
    store.flush();
    ui::RunView view;
    view.resize(1200, 800);
    view.show();
    view.setReader(std::make_shared<RunReader>(m_db));
    const auto shown = [&view](QWidget* w) { return w->isVisibleTo(&view); };
    // MoLA: its adapters' routing and experts per layer.
    view.setRun(ids["mola"]);
    QVERIFY(shown(view.heatmap()) && !view.heatmap()->steps().empty());
    QVERIFY(shown(view.expertBars()) && !shown(view.methodMap()));
    // DR-LoRA: the MoE backbone's router load and the ranks per routed expert, no empty bars.
    view.setRun(ids["drlora"]);
    QVERIFY(shown(view.heatmap()));
    QCOMPARE(view.heatmap()->grid().experts, 8);  // backbone/load_fraction [layer, expert]
    QVERIFY(shown(view.methodMap()) && !shown(view.expertBars()));
    QVERIFY(!view.methodMap()->steps().empty());
    // A GuiLoMo search: its expert GSVs.
    view.setRun(ids["guilomo_search"]);
    QVERIFY(shown(view.methodMap()));
    QVERIFY(view.methodMap()->grid().layers == 4 && view.methodMap()->grid().experts == 8);
    // Plain LoRA: no router, so no routing panel.
    view.setRun(ids["lora"]);
    QVERIFY(!shown(view.heatmap()));
    // The heatmap's step drives the curves' cursor; a click on a curve moves the slider.
    view.setRun(ids["drlora"]);
    view.heatmap()->showNearestStep(15);
    QCOMPARE(*view.heatmap()->currentStep(), int64_t{10});
    Q_EMIT view.lossPlot()->stepClicked(33);
    QCOMPARE(*view.heatmap()->currentStep(), int64_t{30});
  }

  void exportedFilesParse() {
    ui::MetricPlot plot(QStringLiteral("Loss"), QStringLiteral("loss"));
    plot.resize(600, 300);
    plot.addStoreSeries(QStringLiteral("loss"), QStringLiteral("loss"), Qt::blue, m_reader, m_long,
                        "train/loss");
    plot.replotNow();
    const QString svg = m_dir.filePath(QStringLiteral("f.svg"));
    const QString pdf = m_dir.filePath(QStringLiteral("f.pdf"));
    const QString png = m_dir.filePath(QStringLiteral("f.png"));
    const ui::FigureSize size{120.0, 80.0, 150};
    QCOMPARE(ui::saveFigure(plot.plot(), svg, ui::FigureFormat::Svg, size), QString());
    QCOMPARE(ui::saveFigure(plot.plot(), pdf, ui::FigureFormat::Pdf, size), QString());
    QCOMPARE(ui::saveFigure(plot.plot(), png, ui::FigureFormat::Png, size), QString());
    // SVG: well-formed XML with paths, and Qt's SVG renderer accepts it.
    QFile svgFile(svg);
    QVERIFY(svgFile.open(QIODevice::ReadOnly));
    QXmlStreamReader xml(&svgFile);
    int paths = 0;
    while (!xml.atEnd())
      if (xml.readNext() == QXmlStreamReader::StartElement &&
          (xml.name() == QLatin1String("path") || xml.name() == QLatin1String("polyline")))
        ++paths;
    QVERIFY2(!xml.hasError(), qPrintable(xml.errorString()));
    QVERIFY(paths > 5);
    QSvgRenderer renderer(svg);
    QVERIFY(renderer.isValid());
    // PDF: poppler parses it: one page of 120 × 80 mm = 340 × 227 pt.
    QProcess info;
    info.start(QStringLiteral("pdfinfo"), {pdf});
    QVERIFY2(info.waitForFinished(30000), "pdfinfo (poppler-utils) did not run");
    QCOMPARE(info.exitCode(), 0);
    const QString out = QString::fromUtf8(info.readAllStandardOutput());
    QVERIFY2(out.contains(QRegularExpression(QStringLiteral("Pages:\\s+1\\b"))), qPrintable(out));
    QVERIFY2(out.contains(QRegularExpression(QStringLiteral("Page size:\\s+340 x 227 pts"))),
             qPrintable(out));
    // PNG: 120 mm at 150 DPI = 709 px wide (340 pt · 150/72 = 708.3 → rounded up by Qt).
    const QImage image(png);
    QVERIFY(!image.isNull());
    QVERIFY2(std::abs(image.width() - 708) <= 1, qPrintable(QString::number(image.width())));
    QVERIFY(std::abs(image.dotsPerMeterX() - 5906) <= 2);  // 150 DPI
    // Errors name the file.
    QVERIFY(ui::saveFigure(plot.plot(), m_dir.filePath(QStringLiteral("none/f.pdf")),
                           ui::FigureFormat::Pdf, size)
                .contains(QStringLiteral("none")));
    QVERIFY(!ui::figureFormatFromPath(QStringLiteral("f.jpg")).has_value());
    QCOMPARE(*ui::figureFormatFromPath(QStringLiteral("F.SVG")), ui::FigureFormat::Svg);
  }

 private:
  QTemporaryDir m_dir;
  std::string m_db;
  std::string m_long;
  std::map<int, double> m_values;
  QStringList m_three;
  std::shared_ptr<RunReader> m_reader;
};

QTEST_MAIN(TestFigures)
#include "tst_figures.moc"
