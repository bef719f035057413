// SPDX-License-Identifier: GPL-3.0-or-later
// AllocationPanel: expert-count grid, rank/saliency heatmap, GSV evolution, budget summary.
#include "ui/widgets/allocation_panel.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include "core/common/error.h"
#include "core/config/experiment_config.h"
#include "core/methods/method_registry.h"
#include "core/store/matrix_keys.h"
#include "core/store/store_keys.h"
#include "ui/plots/expert_load_heatmap.h"
#include "ui/plots/gsv_evolution_plot.h"

namespace apportion::ui {
namespace {

/// The heatmap views: the registry's shared ones and every method's (core/methods), so a new
/// method's records need no code here.
const std::vector<MatrixView>& views() {
  static const std::vector<MatrixView> kViews = matrix_views();
  return kViews;
}

/// Σ of the newest record of `key` (NaN/padding skipped); 0 when absent.
double sumOfNewest(RunReader& reader, const std::string& runId, const char* key) {
  const auto r = reader.matrix_at_or_before(runId, key, -1);
  if (!r) return 0.0;
  double sum = 0.0;
  for (float v : r->values)
    if (!std::isnan(v)) sum += v;
  return sum;
}

}  // namespace

QString BudgetSummary::text() const {
  QStringList parts;
  if (activeParams >= 0 && activeParams != trainableParams) {
    parts << QObject::tr("%L1 trainable parameters in use (%L2 allocated)")
                 .arg(activeParams)
                 .arg(trainableParams);
  } else {
    parts << (trainableParams >= 0 ? QObject::tr("%L1 trainable parameters").arg(trainableParams)
                                   : QObject::tr("trainable parameters unknown"));
  }
  if (totalExperts > 0) parts << QObject::tr("%1 experts").arg(totalExperts);
  if (rankBudget > 0) {
    parts << QObject::tr("Σ active rank %L1 of budget %L2 (%3%)")
                 .arg(totalRank)
                 .arg(rankBudget)
                 .arg(static_cast<int>(std::lround(100.0 * totalRank / rankBudget)));
  } else if (totalRank > 0) {
    parts << QObject::tr("Σ rank %1").arg(totalRank);
  }
  return parts.join(QStringLiteral(" · "));
}

BudgetSummary budgetSummary(RunReader& reader, const std::string& runId) {
  BudgetSummary b;
  try {
    const auto run = reader.find_run(runId);
    if (run) {
      const auto it = run->tags.find(kTrainableParamsTag);
      if (it != run->tags.end()) b.trainableParams = std::atoll(it->second.c_str());
      const auto active = run->tags.find(kActiveParamsTag);
      if (active != run->tags.end()) b.activeParams = std::atoll(active->second.c_str());
    }
    b.totalExperts = static_cast<int>(sumOfNewest(reader, runId, matrix_keys::kAllocExperts));
    // The run's method names its active-rank record (DR-LoRA, IncreLoRA) and tags its budget.
    const Method* method = run ? method_for_run_label(run->allocation_method) : nullptr;
    std::string rankKey;
    if (method) {
      for (const MatrixView& v : method->matrix_views())
        if (v.is_rank) rankKey = v.key;
    }
    const auto rankRecord =
        rankKey.empty() ? std::nullopt : reader.matrix_at_or_before(runId, rankKey, -1);
    const double rank = rankRecord ? sumOfNewest(reader, runId, rankKey.c_str())
                                   : sumOfNewest(reader, runId, matrix_keys::kAllocRank);
    b.totalRank = static_cast<long long>(std::llround(rank));
    if (rankRecord) b.rankBudget = method->rank_budget(run->tags, run->params, rankRecord->shape);
  } catch (const Error&) {
  }
  return b;
}

AllocationPanel::AllocationPanel(QWidget* parent)
    : QWidget(parent),
      m_budget(new QLabel),
      m_rankKey(new QComboBox),
      m_experts(new ExpertLoadHeatmap),
      m_ranks(new ExpertLoadHeatmap),
      m_gsv(new GsvEvolutionPlot) {
  auto* layout = new QVBoxLayout(this);
  m_budget->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(m_budget);
  auto* grid = new QGridLayout;
  m_grid = grid;
  m_experts->setLabels(tr("Experts per layer × module"), tr("module"), tr("experts"));
  m_experts->setEmptyText(tr("no allocation records (pretraining runs have none)"));
  grid->addWidget(m_experts, 0, 0);
  auto* rankBox = new QWidget;
  auto* rankLayout = new QVBoxLayout(rankBox);
  rankLayout->setContentsMargins(0, 0, 0, 0);
  auto* keyRow = new QHBoxLayout;
  keyRow->addWidget(new QLabel(tr("Show")));
  keyRow->addWidget(m_rankKey, 1);
  rankLayout->addLayout(keyRow);
  rankLayout->addWidget(m_ranks, 1);
  m_ranks->setEmptyText(tr("nothing recorded for this view"));
  grid->addWidget(rankBox, 0, 1);
  grid->addWidget(m_gsv, 1, 0, 1, 2);
  grid->setRowStretch(0, 1);
  grid->setRowStretch(1, 1);
  layout->addLayout(grid, 1);
  connect(m_rankKey, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int i) {
    if (i < 0) return;
    showView(m_rankKey->itemData(i).toInt());
  });
}

void AllocationPanel::setSource(std::shared_ptr<RunReader> reader, const QString& runId) {
  m_reader = runId.isEmpty() ? nullptr : std::move(reader);
  m_runId = runId;
  m_modules.clear();
  if (m_reader) {
    try {
      if (const auto run = m_reader->find_run(runId.toStdString())) {
        const auto it = run->tags.find(kModulesTag);
        if (it != run->tags.end())
          m_modules =
              QString::fromStdString(it->second).split(QLatin1Char(','), Qt::SkipEmptyParts);
      }
    } catch (const Error&) {
    }
  }
  QStringList shortNames;
  for (const QString& m : m_modules) shortNames << QString(m).remove(QStringLiteral("_proj"));
  m_experts->setColumnNames(shortNames);
  m_experts->setSource(m_reader, runId, QString::fromUtf8(matrix_keys::kAllocExperts));
  fillRankKeys();
  m_gsv->setSource(m_reader, runId, m_modules);
  m_budget->setText(m_reader ? budgetSummary(*m_reader, runId.toStdString()).text() : QString());
  updateVisibility();
}

void AllocationPanel::updateVisibility() {
  // Hide what the run's method never records (a DR-LoRA run has no expert counts or GSVs), so
  // the views it has get the room; a run with no records at all keeps the empty-state texts.
  std::vector<std::string> keys;
  if (m_reader) {
    try {
      keys = m_reader->matrix_keys(m_runId.toStdString());
    } catch (const Error&) {
    }
  }
  const auto has = [&keys](const char* key) {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
  };
  const bool experts = has(matrix_keys::kAllocExperts);
  const bool gsv = has(matrix_keys::kGsvExpert);
  const bool ranks = m_rankKey->count() > 0 &&
                     has(views()[static_cast<size_t>(m_rankKey->itemData(0).toInt())].key.c_str());
  m_experts->setVisible(experts || (!gsv && !ranks));
  m_gsv->setVisible(gsv);
  m_grid->setRowStretch(1, gsv ? 1 : 0);  // the heatmaps take the room the GSV plot leaves
}

void AllocationPanel::fillRankKeys() {
  std::vector<std::string> keys, own;  // the run's records; its method's own views
  if (m_reader) {
    try {
      keys = m_reader->matrix_keys(m_runId.toStdString());
      if (const auto run = m_reader->find_run(m_runId.toStdString())) {
        if (const Method* m = method_for_run_label(run->allocation_method))
          for (const MatrixView& v : m->matrix_views()) own.push_back(v.key);
      }
    } catch (const Error&) {
    }
  }
  const QSignalBlocker block(m_rankKey);
  m_rankKey->clear();
  const std::vector<MatrixView>& all = views();
  const auto listed = [](const std::vector<std::string>& in, const std::string& key) {
    return std::find(in.begin(), in.end(), key) != in.end();
  };
  // The method's own views first (DR-LoRA's and IncreLoRA's active ranks, AlphaLoRA's α), then
  // the shared ones; only views the run has records of.
  for (const bool first : {true, false}) {
    for (int i = 0; i < static_cast<int>(all.size()); ++i) {
      const std::string& key = all[static_cast<size_t>(i)].key;
      if (listed(own, key) == first && listed(keys, key))
        m_rankKey->addItem(QString::fromStdString(all[static_cast<size_t>(i)].label), i);
    }
  }
  if (m_rankKey->count() == 0 && !all.empty())
    m_rankKey->addItem(QString::fromStdString(all.front().label), 0);
  m_rankKey->setCurrentIndex(0);
  if (m_rankKey->count() > 0) showView(m_rankKey->itemData(0).toInt());
}

void AllocationPanel::showView(int index) {
  const MatrixView& v = views()[static_cast<size_t>(index)];
  // [layer, module] views (AlphaLoRA's α, IncreLoRA's ranks) name their columns like the grid.
  QStringList columns;
  if (v.column_label == "module")
    for (const QString& m : m_modules) columns << QString(m).remove(QStringLiteral("_proj"));
  m_ranks->setColumnNames(columns);
  m_ranks->setLabels(QString::fromStdString(v.label), QString::fromStdString(v.column_label),
                     QString::fromStdString(v.value_label));
  m_ranks->setSource(m_reader, m_runId, QString::fromStdString(v.key));
}

void AllocationPanel::refresh() {
  if (!m_reader) return;
  m_experts->refresh();
  m_ranks->refresh();
  if (m_rankKey->count() <= 1) fillRankKeys();  // new kinds of records may have appeared
  m_gsv->refresh();
  m_budget->setText(budgetSummary(*m_reader, m_runId.toStdString()).text());
  updateVisibility();
}

}  // namespace apportion::ui
