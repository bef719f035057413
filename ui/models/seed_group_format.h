// SPDX-License-Identifier: GPL-3.0-or-later
// Display helpers for seed groups (runs of one config that differ only by seed), shared by the
// run table, the compare view and the run view: group colours, compact seed lists, the members'
// latest values of a metric, "mean (min–max)" cells, status summaries, and the A − B sentence
// a researcher reads without help ("A − B = +4.1 points, 95 % CI [+1.2, +7.0], n = 5 vs 5:
// A is better").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <QColor>
#include <QString>
#include <QStringList>

#include "core/store/run_groups.h"
#include "core/store/run_types.h"

namespace apportion::ui {

/// The colour of a seed group, derived only from its key (stable across sessions).
QColor groupColor(const QString& groupKey);
/// Seeds ascending with consecutive runs folded: {0, 1, 2, 5} → "0–2, 5".
QString seedsText(std::vector<uint64_t> seeds);
/// The latest value of `key` of each run that has one (finite or NaN as stored).
std::vector<double> latestValues(const std::vector<const Run*>& runs, const std::string& key);
/// "62.4% (58.0–66.0)" for accuracies (percent = true), "0.4123 (0.4010–0.4302)" otherwise;
/// only the mean when n == 1; empty when n == 0.
QString meanRangeText(const SampleSummary& s, bool percent);
/// "3 FINISHED" or "2 FINISHED, 1 RUNNING" (in the order RUNNING, FINISHED, FAILED, KILLED,
/// SCHEDULED).
QString statusSummary(const std::vector<const Run*>& runs);
/// The status that colours a group: RUNNING if any runs, else FAILED/KILLED if any, else
/// FINISHED.
RunStatus summaryStatus(const std::vector<const Run*>& runs);
/// An accuracy in percent: "62.4 %".
QString percentText(double fraction);
/// A difference of accuracies in points with its sign: "+4.1", "−0.3" (typographic minus).
QString signedPoints(double fractionDiff);
/// The verdict sentence of a Welch difference of accuracies (values are fractions):
/// "A − B = +4.1 points, 95 % CI [+1.2, +7.0], n = 5 vs 5: A is better" /
/// "…: the interval contains 0: no difference shown" / "…: too few runs for an interval".
QString differenceSentence(const MeanDifference& d);

}  // namespace apportion::ui
