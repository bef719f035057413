// SPDX-License-Identifier: GPL-3.0-or-later
// AllocationPanel: the run view's "Allocation" tab — what an allocation method decided and why:
// a layer × module grid of expert counts with a step slider, a [layer, column] heatmap of one
// of the registry's matrix views (core/methods: ranks per expert, DR-LoRA's saliency, the MoE
// backbone's own routing load, any method's records) chosen from what the run recorded, the GuiLoMo
// GSV evolution of one module, and a budget summary (trainable parameters, experts, total rank;
// DR-LoRA: total rank against its budget).
#pragma once

#include <memory>

#include <QString>
#include <QStringList>
#include <QWidget>

#include "core/store/run_reader.h"

class QComboBox;
class QGridLayout;
class QLabel;

namespace apportion::ui {

class ExpertLoadHeatmap;
class GsvEvolutionPlot;

/// Budget figures of a run from its tags and newest allocation records.
struct BudgetSummary {
  long long trainableParams = -1;  ///< tag trainable_params (-1: unknown)
  /// tag active_params: parameters in use when LoRAs are allocated above their active rank
  /// (DR-LoRA, static_frequency); -1 when the run has none.
  long long activeParams = -1;
  int totalExperts = 0;     ///< Σ alloc/experts
  long long totalRank = 0;  ///< Σ alloc/rank (or drlora/rank)
  /// DR-LoRA / static_frequency: the rank budget, tag drlora/budget or L·N·r_target from the
  /// newest drlora/rank shape and the param allocation.drlora.r_target (-1: not such a run).
  long long rankBudget = -1;
  QString text() const;
};
BudgetSummary budgetSummary(RunReader& reader, const std::string& runId);

class AllocationPanel : public QWidget {
  Q_OBJECT

 public:
  explicit AllocationPanel(QWidget* parent = nullptr);
  void setSource(std::shared_ptr<RunReader> reader, const QString& runId);
  void refresh();

  ExpertLoadHeatmap* expertGrid() const { return m_experts; }
  ExpertLoadHeatmap* rankHeatmap() const { return m_ranks; }
  GsvEvolutionPlot* gsvPlot() const { return m_gsv; }
  QComboBox* rankKeyCombo() const { return m_rankKey; }
  QLabel* budgetLabel() const { return m_budget; }

 private:
  void fillRankKeys();
  /// Shows view `index` of the registry's matrix_views() in the rank heatmap.
  void showView(int index);
  void updateVisibility();

  std::shared_ptr<RunReader> m_reader;
  QString m_runId;
  QStringList m_modules;
  QGridLayout* m_grid = nullptr;
  QLabel* m_budget = nullptr;
  QComboBox* m_rankKey = nullptr;
  ExpertLoadHeatmap* m_experts = nullptr;
  ExpertLoadHeatmap* m_ranks = nullptr;
  GsvEvolutionPlot* m_gsv = nullptr;
};

}  // namespace apportion::ui
