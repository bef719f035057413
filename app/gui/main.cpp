// SPDX-License-Identifier: GPL-3.0-or-later
// apportion-gui: the desktop workbench. Parses the command line, opens the workspace and shows
// MainWindow; --screenshot grabs the window to a PNG after a delay and quits (docs, checks).
//
//   apportion-gui [WORKSPACE.sqlite] [--experiments DIR] [--apportion PATH]
//                 [--screenshot FILE.png [--screenshot-delay MS] [--compare | --new-run]]
//                 [--run ID-PREFIX [--run-tab N]]
//                 [--group-seeds] [--expand-groups LABEL,…|*] [--select-group LABEL]
//                 [--compare-groups LABEL,LABEL|*] [--table-height PX]
// Groups are named by their label (the run name without "-s<seed>", as the table shows it) or
// key; a prefix is enough. Example: the seed-group table and a group comparison of the docs:
//   apportion-gui WS.sqlite --group-seeds --expand-groups lora --screenshot table.png
//   apportion-gui WS.sqlite --compare-groups mola-2468,lora --screenshot compare.png
#include <algorithm>

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
#include "ui/widgets/run_view.h"

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
      QStringLiteral("Compare two seed groups, A,B by label (* = the first two groups)."),
      QStringLiteral("A,B"));
  const QCommandLineOption tableHeight(
      QStringLiteral("table-height"),
      QStringLiteral("Height of the run table in pixels (the panels below get the rest)."),
      QStringLiteral("PX"));
  parser.addOptions({experiments, apportionExe, screenshot, delay, compare, newRun, runOption,
                     runTab, groupSeeds, expandGroups, selectGroup, compareGroups, tableHeight});
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
  QWidget* dialog = parser.isSet(newRun) ? window.openNewRunDialog() : nullptr;

  if (parser.isSet(screenshot)) {
    const QString file = parser.value(screenshot);
    QTimer::singleShot(parser.value(delay).toInt(), &app, [&window, dialog, file] {
      QWidget* target = dialog ? dialog : static_cast<QWidget*>(&window);
      const bool ok = target->grab().save(file);
      QApplication::exit(ok ? 0 : 1);
    });
  }
  return QApplication::exec();
}
