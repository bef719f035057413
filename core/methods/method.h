// SPDX-License-Identifier: GPL-3.0-or-later
// The method seam, torch-free half: everything the config parser, the CLI, the store's grouping
// and the GUI need to know about an allocation method, in one object per method. A method owns
// its config section (allocation.<section>), its validation, its plan before the run (or why
// the run decides it), its parameter accounting, its run labels, its stages (GuiLoMo: search →
// retrain) and the settings the New-run dialog shows for it (as data). Nothing outside a
// method's folder compares a method's name: callers ask the registry (method_registry.h) for
// the Method and ask it. The torch half (model building, data split, training hooks) is
// core/train/method_runtime.h, one row per method too.
//
// Intended usage:
//   const Method& m = method_of(cfg);                 // cfg.allocation.method (+ plain LoRA)
//   m.validate(cfg);                                  // ConfigError naming the path
//   PlanSummary s = m.summarize(cfg, shape, workspace_dir);   // experts/layer, parameters, text
//   for (const MethodField& f : m.fields()) { … }     // a form for allocation.<m.section()>
//   const Method* r = method_for_run_label(run.allocation_method);   // a stored run's method
//   QString label = r ? r->key_params(run.allocation_method, run.params) : …;
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/allocation/expert_allocation.h"
#include "core/config/experiment_config.h"

namespace apportion {

/// What a method is, for callers that must treat methods differently without naming them.
struct MethodTraits {
  /// The LoRA adapters have a router (LoRA-MoE experts); false for plain LoRA adapters.
  bool adapter_router = true;
  /// The method adapts the routed experts of a sparse-MoE backbone (DR-LoRA and its baseline):
  /// its plan exists only on such a backbone and holds expert_ranks.
  bool routed_experts = false;
  /// It allocates over every layer itself, so adapters.layers_to_transform is refused.
  bool whole_model = false;
  /// With adapters.method "lora" its config is the plain-LoRA baseline (uniform, MoLA).
  bool plain_lora_is_baseline = false;
  /// It reads adapters.num_experts / allocation.preset / adapters.top_k (forms enable them).
  bool uses_num_experts = false;
  bool uses_preset = false;
  bool uses_top_k = true;
  /// The allocation is decided while training (search, growth, a spectrum of the weights):
  /// the plan before the run is a starting point or a supernet, not the final allocation.
  bool decided_at_run_time = false;
};

/// One setting of a method's config section, for forms (the New-run dialog builds its widgets
/// from these) and docs. The value lives at allocation.<section>.<key>.
struct MethodField {
  enum class Kind { Int, Double, Choice, Text };
  MethodField(std::string key_,
              std::string label_,
              std::string tooltip_,
              Kind kind_,
              double min_ = 0.0,
              double max_ = 0.0,
              int decimals_ = 0,
              std::vector<std::string> choices_ = {},
              std::string min_means_ = {})
      : key(std::move(key_)),
        label(std::move(label_)),
        tooltip(std::move(tooltip_)),
        kind(kind_),
        min(min_),
        max(max_),
        decimals(decimals_),
        choices(std::move(choices_)),
        min_means(std::move(min_means_)) {}
  std::string key;
  std::string label;
  std::string tooltip;
  Kind kind = Kind::Int;
  double min = 0.0;
  double max = 0.0;
  int decimals = 0;                  ///< Double: digits shown
  std::vector<std::string> choices;  ///< Choice: the allowed values
  /// Int/Double: what the minimum means, shown instead of it ("= train steps" for 0), or empty.
  std::string min_means;
};

/// A [layer, column] matrix record a method writes, for the run view's per-layer heatmap
/// (the GUI lists every registered view whose key a run has: new records need no GUI code).
struct MatrixView {
  std::string key;           ///< matrix record key (core/store/matrix_keys.h)
  std::string label;         ///< the view's name ("DR-LoRA active rank")
  std::string value_label;   ///< the colour scale's label ("rank")
  std::string column_label;  ///< what the columns are ("expert", "module")
  /// The method's active-rank record (its Σ is the run's total rank; DR-LoRA, IncreLoRA).
  bool is_rank = false;
};

/// A run of a multi-stage pipeline, as a stored run's links name it.
struct StageLink {
  std::string role;    ///< "search", "retrain"
  std::string run_id;  ///< empty while that stage has not started
  bool self = false;   ///< the run the links were read from
};

/// What a config will train, before the run (the New-run preview, `train --dry-run`).
struct PlanSummary {
  bool ok = false;       ///< false: `text` says why no plan is possible
  bool invalid = false;  ///< the plan itself failed (the run would fail too)
  std::string text;      ///< one line for people
  std::vector<int> experts_per_layer;
  int64_t trainable_parameters = 0;
  /// Parameters held in memory when more than the trainable ones (DR-LoRA allocates r_max
  /// columns of every routed expert and trains a budget of them); -1: trainable_parameters.
  int64_t allocated_parameters = -1;
  /// Rank-growing methods: Σ active rank at the end of the run (their budget), else 0.
  int64_t rank_budget = 0;
};

/// One stage of a multi-stage method (GuiLoMo: "search", then "retrain").
struct MethodStage {
  std::string role;       ///< "search", "retrain", … ("" for a one-stage method)
  nlohmann::json config;  ///< the stage's experiment JSON (before links to earlier stages)
};

class Method {
 public:
  virtual ~Method() = default;
  /// The allocation.method value ("mola"); the plain-LoRA baseline row is "lora".
  virtual std::string name() const = 0;
  /// Short human name ("MoLA") and one sentence for menus and tooltips.
  virtual std::string label() const = 0;
  virtual std::string description() const = 0;
  virtual MethodTraits traits() const { return {}; }

  // ---- configuration -------------------------------------------------------------------
  /// The key of its section under allocation ("" when it has none). Sections may be shared
  /// (DR-LoRA's baseline reads allocation.drlora).
  virtual std::string section() const { return ""; }
  /// Strict parse of allocation.<section()> into `alloc` (ConfigError naming the path).
  virtual void parse_section(const nlohmann::json& j, AllocationConfig& alloc) const;
  /// The section with every default written out (what the run stores); null when none.
  virtual nlohmann::json section_json(const AllocationConfig& alloc) const;
  /// Method-specific checks (its section, its adapter family, top-k bounds).
  virtual void validate(const ExperimentConfig& cfg) const;
  /// The fewest experts any layer gets and where that number comes from, for the top-k check
  /// (nullopt: the method bounds top-k itself).
  virtual std::optional<std::pair<int, std::string>> min_experts(const ExperimentConfig& cfg) const;
  /// The [layer, column] records it writes, for the run view.
  virtual std::vector<MatrixView> matrix_views() const { return {}; }
  /// The settings of its section, for forms.
  virtual std::vector<MethodField> fields() const { return {}; }
  /// Writes what choosing this method in a form means into an experiment JSON (allocation
  /// .method, adapters.method); select_method (method_registry.h) also drops the other
  /// methods' sections. `fields()` values are written by the form itself.
  virtual void select(nlohmann::json& experiment) const;
  /// The allocation strategy of its plan (uniform's by default).
  virtual std::unique_ptr<AllocationStrategy> strategy() const;
  /// True when `cfg` (parsed) is this method's config as the form would show it.
  virtual bool describes(const ExperimentConfig& cfg) const;

  // ---- planning and accounting ---------------------------------------------------------
  /// The allocation on a backbone of this shape before the run (ConfigError when impossible).
  virtual ExpertAllocation plan(const ExperimentConfig& cfg, const ModelShape& shape) const;
  /// The plan, its parameter counts and one line for people. `workspace_dir` resolves files
  /// the config names (a GuiLoMo retrain's allocation file). Never throws: errors set invalid.
  virtual PlanSummary summarize(const ExperimentConfig& cfg,
                                const ModelShape& shape,
                                const std::string& workspace_dir) const;

  // ---- runs ----------------------------------------------------------------------------
  /// The run's allocation_method as recorded in the store (RunStarted). Usually name(); a
  /// GuiLoMo search records "guilomo_search", plain-LoRA uniform/MoLA configs "lora".
  virtual std::string run_label(const ExperimentConfig& cfg) const;
  /// Every run_label this method records (for method_for_run_label).
  virtual std::vector<std::string> run_labels() const { return {name()}; }
  /// The run table's "key params" text of a stored run (params: dotted path → JSON text).
  virtual std::string key_params(const std::string& run_label,
                                 const std::map<std::string, std::string>& params) const;
  /// The stages a config runs as (one for most methods).
  virtual std::vector<MethodStage> stages(const nlohmann::json& experiment) const;
  /// Links stage `next` to the finished run `previous_run_id` of the stage before it (GuiLoMo:
  /// the retrain reads the search's allocation file).
  virtual void link_stage(nlohmann::json& next, const std::string& previous_run_id) const;
  /// The stage role of a stored run of this method ("search", "retrain", "" when single-stage),
  /// from its stored config and tags.
  virtual std::string stage_role(const nlohmann::json& config,
                                 const std::map<std::string, std::string>& tags) const;
  /// A stored run's rank budget (Σ active rank at its end) from its tags, its params and the
  /// shape [layers, columns] of its rank record; -1 when the method has none. Default: the
  /// rank_budget tag.
  virtual int64_t rank_budget(const std::map<std::string, std::string>& tags,
                              const std::map<std::string, std::string>& params,
                              const std::vector<int64_t>& rank_shape) const;
  /// The runs of the pipeline a stored run belongs to, in stage order, from its tags (empty for
  /// a single-stage run).
  virtual std::vector<StageLink> stage_links(const std::string& run_id,
                                             const std::map<std::string, std::string>& tags) const;
  /// Removes from a stored config what differs between seeds of the same setting besides the
  /// seed (links to other runs), for seed grouping.
  virtual void strip_links(nlohmann::json& config) const;
};

/// Σ trainable parameters of an allocation as inject_adapters builds it (the one counter:
/// core/allocation's count_trainable_parameters with the config's router choice).
int64_t trainable_parameters(const ExperimentConfig& cfg,
                             const ModelShape& shape,
                             const ExpertAllocation& allocation);

/// 1234567 → "1,234,567".
std::string format_count(int64_t n);

/// JSON text of a param ("\"mola\"" → "mola", "8" → "8"); `fallback` when absent.
std::string param_text(const std::map<std::string, std::string>& params,
                       const std::string& key,
                       const std::string& fallback = "");

}  // namespace apportion
