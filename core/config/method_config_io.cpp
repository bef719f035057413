// SPDX-License-Identifier: GPL-3.0-or-later
// allocation.guilomo and allocation.drlora: strict parse, full serialisation, validation.
#include "core/config/method_config_io.h"

#include <algorithm>
#include <vector>

#include "core/allocation/expert_allocation.h"
#include "core/config/json_reader.h"
#include "core/methods/drlora/drlora_options.h"

namespace apportion {
namespace {

void require(bool ok, const std::string& path, const std::string& message) {
  config_require(ok, path, message);
}

void require_one_of(const std::string& value,
                    const std::vector<std::string>& allowed,
                    const std::string& path) {
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "\"" : ", \"") + a + "\"";
  config_fail(path, "must be one of " + list + got(value));
}

}  // namespace

GuiLoMoConfig parse_guilomo_config(const nlohmann::json& j) {
  GuiLoMoConfig g;
  JsonObjectReader r(j, "allocation.guilomo");
  r.get("stage", g.stage);
  r.get("n_max", g.n_max);
  r.get("r_max", g.r_max);
  r.get("search_steps", g.search_steps);
  r.get("architect_mode", g.architect_mode);
  r.get("split", g.split);
  r.get("val_fraction", g.val_fraction);
  r.get("alpha_lr", g.alpha_lr);
  r.get("alpha_beta1", g.alpha_beta1);
  r.get("alpha_beta2", g.alpha_beta2);
  r.get("alpha_eps", g.alpha_eps);
  r.get("alpha_weight_decay", g.alpha_weight_decay);
  r.get("hvp_r", g.hvp_r);
  r.get("hvp_same_noise", g.hvp_same_noise);
  r.get("architect_round", g.architect_round);
  r.get("init_std", g.init_std);
  r.get("readout", g.readout);
  r.get("budget_preset", g.budget_preset);
  r.get("budget_parameters", g.budget_parameters);
  r.get("scaling", g.scaling);
  r.get("allocation_file", g.allocation_file);
  r.get("search_run", g.search_run);
  r.finish();
  return g;
}

DrLoraConfig parse_drlora_config(const nlohmann::json& j) {
  DrLoraConfig d;
  JsonObjectReader r(j, "allocation.drlora");
  r.get("r_init", d.r_init);
  r.get("r_target", d.r_target);
  r.get("r_max", d.r_max);
  r.get("delta_r", d.delta_r);
  r.get("interval", d.interval);
  r.get("t_warm", d.t_warm);
  r.get("t_stop", d.t_stop);
  r.get("beta_f", d.beta_f);
  r.get("beta_g", d.beta_g);
  r.get("gamma", d.gamma);
  r.get("saliency", d.saliency);
  r.get("calibration_batches", d.calibration_batches);
  r.finish();
  return d;
}

nlohmann::json guilomo_config_to_json(const GuiLoMoConfig& g) {
  return {{"stage", g.stage},
          {"n_max", g.n_max},
          {"r_max", g.r_max},
          {"search_steps", g.search_steps},
          {"architect_mode", g.architect_mode},
          {"split", g.split},
          {"val_fraction", g.val_fraction},
          {"alpha_lr", g.alpha_lr},
          {"alpha_beta1", g.alpha_beta1},
          {"alpha_beta2", g.alpha_beta2},
          {"alpha_eps", g.alpha_eps},
          {"alpha_weight_decay", g.alpha_weight_decay},
          {"hvp_r", g.hvp_r},
          {"hvp_same_noise", g.hvp_same_noise},
          {"architect_round", g.architect_round},
          {"init_std", g.init_std},
          {"readout", g.readout},
          {"budget_preset", g.budget_preset},
          {"budget_parameters", g.budget_parameters},
          {"scaling", g.scaling},
          {"allocation_file", g.allocation_file},
          {"search_run", g.search_run}};
}

nlohmann::json drlora_config_to_json(const DrLoraConfig& d) {
  return {{"r_init", d.r_init},     {"r_target", d.r_target},
          {"r_max", d.r_max},       {"delta_r", d.delta_r},
          {"interval", d.interval}, {"t_warm", d.t_warm},
          {"t_stop", d.t_stop},     {"beta_f", d.beta_f},
          {"beta_g", d.beta_g},     {"gamma", d.gamma},
          {"saliency", d.saliency}, {"calibration_batches", d.calibration_batches}};
}

void validate_guilomo_config(const GuiLoMoConfig& g, const ExperimentConfig& cfg) {
  const std::string p = "allocation.guilomo.";
  require_one_of(g.stage, {"pipeline", "search", "retrain"}, p + "stage");
  require(g.n_max >= 2 && g.n_max <= 64, p + "n_max", "must be in 2..64" + got(g.n_max));
  require(g.r_max >= 1 && g.r_max <= 256, p + "r_max", "must be in 1..256" + got(g.r_max));
  require(g.search_steps >= 0, p + "search_steps",
          "must be >= 0 (0 = train.steps)" + got(g.search_steps));
  require_one_of(g.architect_mode, {"first_order", "second_order", "reference"},
                 p + "architect_mode");
  require_one_of(g.split, {"holdout", "alternate"}, p + "split");
  require(g.val_fraction > 0.0 && g.val_fraction < 1.0, p + "val_fraction",
          "must be in (0, 1)" + got(g.val_fraction));
  require(g.alpha_lr > 0.0 && g.alpha_lr < 10.0, p + "alpha_lr", "must be in (0, 10)");
  require(g.alpha_beta1 >= 0.0 && g.alpha_beta1 < 1.0, p + "alpha_beta1", "must be in [0, 1)");
  require(g.alpha_beta2 >= 0.0 && g.alpha_beta2 < 1.0, p + "alpha_beta2", "must be in [0, 1)");
  require(g.alpha_eps > 0.0, p + "alpha_eps", "must be > 0");
  require(g.alpha_weight_decay >= 0.0, p + "alpha_weight_decay", "must be >= 0");
  require(g.hvp_r > 0.0, p + "hvp_r", "must be > 0" + got(g.hvp_r));
  require(g.init_std > 0.0 && g.init_std < 1.0, p + "init_std", "must be in (0, 1)");
  require(g.architect_round >= 0 && g.architect_round <= 4096, p + "architect_round",
          "must be in 0..4096 (0 = the number of data-parallel ranks)" + got(g.architect_round));
  if (g.architect_round > 1) {
    require(cfg.train.grad_accum % g.architect_round == 0, p + "architect_round",
            "must divide train.grad_accum (" + std::to_string(cfg.train.grad_accum) +
                "): a round is a block of a step's micro-batches" + got(g.architect_round));
    require(g.architect_mode != "reference", p + "architect_round",
            "the \"reference\" architect changes w and the w-optimizer's moments at every "
            "micro-batch, in turn, as the reference code does; it runs only sequentially "
            "(architect_round 1, one process). Use first_order or second_order for rounds" +
                got(g.architect_round));
  }
  require_one_of(g.readout, {"argmax", "budget_matched"}, p + "readout");
  if (g.readout == "budget_matched") {
    require(g.budget_parameters > 0 || !g.budget_preset.empty(), p + "budget_preset",
            "the budget_matched readout needs a target: budget_preset (a MoLA preset such as "
            "\"2468\") or budget_parameters");
    if (g.budget_parameters == 0) mola_preset_blocks(g.budget_preset);  // names the preset
  }
  require_one_of(g.scaling, {"per_expert", "reference"}, p + "scaling");
  if (g.stage == "retrain") {
    require(!g.allocation_file.empty(), p + "allocation_file",
            "stage \"retrain\" needs the allocation: a guilomo_allocation.json or a folder with "
            "the reference code's expert.json and rank.json");
  }
  if (cfg.adapters) {
    require(cfg.adapters->method == "moe_lora", "adapters.method",
            "GuiLoMo adapts with LoRA-MoE; set it to \"moe_lora\"" + got(cfg.adapters->method));
    require(cfg.adapters->top_k <= g.n_max, "adapters.top_k",
            "must be <= allocation.guilomo.n_max (" + std::to_string(g.n_max) + ")" +
                got(cfg.adapters->top_k));
  }
}

void validate_drlora_config(const DrLoraConfig& d) {
  to_drlora_options(d).validate("allocation.drlora");
  require(d.calibration_batches >= 1, "allocation.drlora.calibration_batches",
          "must be >= 1" + got(d.calibration_batches));
}

}  // namespace apportion
