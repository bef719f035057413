// SPDX-License-Identifier: GPL-3.0-or-later
// apportion-gui: the desktop workbench. Parses the command line, opens the workspace and shows
// MainWindow; --screenshot grabs the window to a PNG after a delay and quits (docs, checks).
//
//   apportion-gui [WORKSPACE.sqlite] [--experiments DIR] [--apportion PATH]
//                 [--screenshot FILE.png [--screenshot-delay MS]
//                  [--compare | --new-run | --new-sweep [--sweep-file SWEEP.json]]]
//                 [--run ID-PREFIX [--run-tab N]]
//                 [--group-seeds] [--expand-groups LABEL,…|*] [--select-group LABEL]
//                 [--compare-groups LABEL,LABEL,…|*] [--table-height PX]
//                 [--smoothing none|ema:W|window:N] [--log-loss] [--compare-tab N]
//                 [--export-figure FILE.pdf|svg|png [--figure loss|accuracy|tasks|allocation]
//                  [--figure-size W×H mm, e.g. 160x100] [--dpi N]]
// Groups are named by their label (the run name without "-s<seed>", as the table shows it) or
// key; a prefix is enough. Example: the seed-group table and a group comparison of the docs:
//   apportion-gui WS.sqlite --group-seeds --expand-groups lora --screenshot table.png
//   apportion-gui WS.sqlite --compare-groups mola-2468,lora --screenshot compare.png
// Figures without a click (the view's loss plot by default; exits when written):
//   apportion-gui WS.sqlite --compare --run 1a2b,3c4d,5e6f --smoothing ema:0.9 --log-loss
//                 --export-figure loss.pdf --figure-size 160x100
#include <algorithm>
#include <optional>

#include <qcustomplot.h>
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QPixmap>
#include <QSplitter>
#include <QTabWidget>
#include <QTimer>
#include <QWidget>

#include "app/gui/app_paths.h"
#include "app/gui/main_window.h"
#include "ui/plots/allocation_small_multiples.h"
#include "ui/plots/figure_export.h"
#include "ui/plots/metric_plot.h"
#include "ui/widgets/compare_view.h"
#include "ui/widgets/curve_toolbar.h"
#include "ui/widgets/run_view.h"

namespace {

/// "ema:0.9", "window:50", "none" → a smoothing; std::nullopt when malformed.
std::optional<apportion::Smoothing> parseSmoothing(const QString& text) {
  const QStringList parts = text.split(QLatin1Char(':'));
  apportion::Smoothing s;
  s.kind = apportion::smoothing_kind_from_name(parts[0].toStdString());
  if (s.kind == apportion::SmoothingKind::None) {
    if (parts[0] != QLatin1String("none")) return std::nullopt;
    return s;
  }
  bool ok = true;
  if (parts.size() > 1 && s.kind == apportion::SmoothingKind::Ema)
    s.ema_weight = parts[1].toDouble(&ok);
  if (parts.size() > 1 && s.kind == apportion::SmoothingKind::Window)
    s.window = parts[1].toLongLong(&ok);
  if (!ok || s.ema_weight < 0 || s.ema_weight >= 1 || s.window < 1) return std::nullopt;
  return s;
}

}  // namespace

int main(int argc, char* argv[]) {
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("Apportion"));
  QApplication::setApplicationName(QStringLiteral("apportion-gui"));
  QApplication::setApplicationVersion(QStringLiteral(AP_VERSION));

  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("Apportion: LoRA mixture-of-experts workbench"));
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument(QStringLiteral("workspace"),
                               QStringLiteral("Workspace database (created if missing)."),
                               QStringLiteral("[WORKSPACE.sqlite]"));
  const QCommandLineOption experiments(QStringLiteral("experiments"),
                                       QStringLiteral("Folder of preset experiment JSON files."),
                                       QStringLiteral("DIR"));
  const QCommandLineOption apportionExe(QStringLiteral("apportion"),
                                        QStringLiteral("Path of the apportion executable."),
                                        QStringLiteral("PATH"));
  const QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                      QStringLiteral("Save the main window to FILE.png and quit."),
                                      QStringLiteral("FILE.png"));
  const QCommandLineOption delay(
      QStringLiteral("screenshot-delay"),
      QStringLiteral("Milliseconds before the screenshot (default 1500)."), QStringLiteral("MS"),
      QStringLiteral("1500"));
  const QCommandLineOption compare(
      QStringLiteral("compare"),
      QStringLiteral("Show the compare view (of the --run ids, else the two newest runs)."));
  const QCommandLineOption newRun(QStringLiteral("new-run"),
                                  QStringLiteral("Open the new-run dialog (screenshots it)."));
  const QCommandLineOption newSweep(QStringLiteral("new-sweep"),
                                    QStringLiteral("Open the sweep dialog (screenshots it)."));
  const QCommandLineOption sweepFile(QStringLiteral("sweep-file"),
                                     QStringLiteral("Load this sweep file into the sweep dialog."),
                                     QStringLiteral("FILE"));
  const QCommandLineOption runOption(
      QStringLiteral("run"),
      QStringLiteral("Select the run whose id starts with ID (--compare: ID,ID,… any number)."),
      QStringLiteral("ID"));
  const QCommandLineOption runTab(
      QStringLiteral("run-tab"),
      QStringLiteral("Run view tab to show: 0 curves, 1 allocation, 2 log, 3 config, 4 tasks."),
      QStringLiteral("N"), QStringLiteral("0"));
  const QCommandLineOption groupSeeds(
      QStringLiteral("group-seeds"),
      QStringLiteral("Show seed groups in the run table (View → Group runs by seed)."));
  const QCommandLineOption expandGroups(
      QStringLiteral("expand-groups"),
      QStringLiteral("Expand the seed groups with these labels (comma-separated; * = all)."),
      QStringLiteral("LABELS"));
  const QCommandLineOption selectGroup(
      QStringLiteral("select-group"),
      QStringLiteral("Select the seed group with this label (run view: its first run)."),
      QStringLiteral("LABEL"));
  const QCommandLineOption compareGroups(
      QStringLiteral("compare-groups"),
      QStringLiteral("Compare seed groups A,B,… by label (* = the first two groups)."),
      QStringLiteral("A,B,…"));
  const QCommandLineOption tableHeight(
      QStringLiteral("table-height"),
      QStringLiteral("Height of the run table in pixels (the panels below get the rest)."),
      QStringLiteral("PX"));
  const QCommandLineOption smoothing(
      QStringLiteral("smoothing"),
      QStringLiteral("Curve smoothing of this session: none, ema:W (0 ≤ W < 1) or window:N."),
      QStringLiteral("SPEC"));
  const QCommandLineOption logLoss(QStringLiteral("log-loss"),
                                   QStringLiteral("Logarithmic loss axis in this session."));
  const QCommandLineOption compareTab(
      QStringLiteral("compare-tab"),
      QStringLiteral("Compare view tab: 0 statistics, 1 config, 2 tasks, 3 allocation."),
      QStringLiteral("N"));
  const QCommandLineOption exportFigure(
      QStringLiteral("export-figure"),
      QStringLiteral("Write the figure of the view in front (see --figure) and quit."),
      QStringLiteral("FILE"));
  const QCommandLineOption figure(
      QStringLiteral("figure"),
      QStringLiteral("Which figure --export-figure writes: loss, accuracy, tasks (compare), "
                     "allocation (compare: the small multiples)."),
      QStringLiteral("NAME"), QStringLiteral("loss"));
  const QCommandLineOption figureSize(QStringLiteral("figure-size"),
                                      QStringLiteral("Figure size in millimetres, WxH."),
                                      QStringLiteral("WxH"), QStringLiteral("160x100"));
  const QCommandLineOption dpi(QStringLiteral("dpi"), QStringLiteral("PNG resolution."),
                               QStringLiteral("N"), QStringLiteral("300"));
  parser.addOptions({experiments, apportionExe,  screenshot,  delay,      compare,
                     newRun,      runOption,     runTab,      groupSeeds, expandGroups,
                     selectGroup, compareGroups, tableHeight, smoothing,  logLoss,
                     compareTab,  exportFigure,  figure,      figureSize, dpi,
                     newSweep,    sweepFile});
  parser.process(app);

  const apportion::AppPaths paths =
      apportion::AppPaths::resolve(parser.value(experiments), parser.value(apportionExe));
  apportion::MainWindow window(paths);
  const QStringList positional = parser.positionalArguments();
  if (!positional.isEmpty())
    window.openWorkspace(positional.first());
  else
    window.openLastWorkspace();
  window.show();

  const auto list = [&parser](const QCommandLineOption& option) {
    return parser.value(option).split(QLatin1Char(','), Qt::SkipEmptyParts);
  };
  if (parser.isSet(groupSeeds)) window.setGroupSeeds(true);
  if (parser.isSet(compareGroups)) {
    QStringList labels = list(compareGroups);
    labels.removeAll(QStringLiteral("*"));
    if (!window.showCompareOfGroups(labels))
      qWarning("--compare-groups: the workspace has fewer than two seed groups");
  } else if (parser.isSet(compare)) {
    window.showCompareOfRuns(list(runOption));
  } else if (parser.isSet(selectGroup)) {
    if (!window.selectGroup(parser.value(selectGroup)))
      qWarning("--select-group: no seed group matches '%s'", qPrintable(parser.value(selectGroup)));
  } else if (!parser.isSet(runOption) || !window.selectRunById(parser.value(runOption))) {
    window.selectFirstFinishedRun();
  }
  if (parser.isSet(expandGroups)) window.expandGroups(list(expandGroups));
  if (parser.isSet(tableHeight)) {
    if (auto* splitter = qobject_cast<QSplitter*>(window.centralWidget())) {
      const int top = parser.value(tableHeight).toInt();
      splitter->setSizes({top, std::max(100, splitter->height() - top)});
    }
  }
  window.runView()->tabs()->setCurrentIndex(parser.value(runTab).toInt());
  for (apportion::ui::CurveToolbar* bar :
       {window.runView()->curveToolbar(), window.compareView()->curveToolbar()}) {
    if (parser.isSet(smoothing)) {
      const auto spec = parseSmoothing(parser.value(smoothing));
      if (!spec) {
        qCritical("--smoothing '%s': use none, ema:W with 0 <= W < 1, or window:N with N >= 1",
                  qPrintable(parser.value(smoothing)));
        return 2;
      }
      bar->setSmoothing(*spec);
    }
    if (parser.isSet(logLoss)) bar->setLogY(true);
  }
  if (parser.isSet(compareTab))
    window.compareView()->panels()->setCurrentIndex(parser.value(compareTab).toInt());
  QWidget* dialog = parser.isSet(newRun) ? window.openNewRunDialog()
                    : parser.isSet(newSweep) || parser.isSet(sweepFile)
                        ? window.openSweepDialog(parser.value(sweepFile))
                        : nullptr;

  if (parser.isSet(exportFigure)) {
    const QString file = parser.value(exportFigure);
    const QStringList wh = parser.value(figureSize).split(QLatin1Char('x'));
    const apportion::ui::FigureSize size{wh.value(0).toDouble(), wh.value(1).toDouble(),
                                         parser.value(dpi).toInt()};
    const QString name = parser.value(figure);
    QTimer::singleShot(parser.value(delay).toInt(), &app, [&window, file, size, name] {
      const bool compareFront = window.compareView()->isVisible();
      apportion::ui::MetricPlot* loss =
          compareFront ? window.compareView()->lossPlot() : window.runView()->lossPlot();
      apportion::ui::MetricPlot* acc =
          compareFront ? window.compareView()->accuracyPlot() : window.runView()->accuracyPlot();
      QCustomPlot* plot = name == QLatin1String("accuracy") ? acc->plot()
                          : name == QLatin1String("tasks")  ? window.compareView()->taskBars()
                          : name == QLatin1String("allocation")
                              ? window.compareView()->allocationMultiples()->plot()
                              : loss->plot();
      loss->replotNow();
      acc->replotNow();
      const auto format = apportion::ui::figureFormatFromPath(file);
      const QString error =
          format ? apportion::ui::saveFigure(plot, file, *format, size)
                 : QStringLiteral("'%1': end the file name with .pdf, .svg or .png").arg(file);
      if (!error.isEmpty()) qCritical("--export-figure: %s", qPrintable(error));
      QApplication::exit(error.isEmpty() ? 0 : 1);
    });
  } else if (parser.isSet(screenshot)) {
    const QString file = parser.value(screenshot);
    QTimer::singleShot(parser.value(delay).toInt(), &app, [&window, dialog, file] {
      QWidget* target = dialog ? dialog : static_cast<QWidget*>(&window);
      const bool ok = target->grab().save(file);
      QApplication::exit(ok ? 0 : 1);
    });
  }
  return QApplication::exec();
}
