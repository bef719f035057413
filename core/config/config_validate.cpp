// SPDX-License-Identifier: GPL-3.0-or-later
// ExperimentConfig::validate(): range checks and cross-field rules, each error naming its path.
#include <algorithm>
#include <regex>
#include <set>

#include "core/allocation/expert_allocation.h"
#include "core/common/error.h"
#include "core/common/json_parse.h"
#include "core/config/experiment_config.h"
#include "core/config/json_reader.h"
#include "core/methods/method_registry.h"

namespace apportion {
namespace {

/// Known projection names, in canonical order.
const std::vector<std::string> kKnownModules = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                                "gate_proj", "up_proj", "down_proj"};

void require(bool ok, const std::string& path, const std::string& message) {
  config_require(ok, path, message);
}

void validate_adapters(const AdapterConfig& a, const AllocationConfig& alloc) {
  require(a.plain_lora() || a.method == "moe_lora", "adapters.method",
          "must be \"lora\" or \"moe_lora\"" + got(a.method));
  require(!a.target_modules.empty(), "adapters.target_modules", "must name at least one module");
  std::set<std::string> seen;
  for (size_t i = 0; i < a.target_modules.size(); ++i) {
    const auto& m = a.target_modules[i];
    const std::string path = "adapters.target_modules[" + std::to_string(i) + "]";
    require(std::find(kKnownModules.begin(), kKnownModules.end(), m) != kKnownModules.end(), path,
            "unknown module \"" + m +
                "\" (known: q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)");
    require(seen.insert(m).second, path, "module \"" + m + "\" listed twice");
  }
  require(a.r > 0 && a.r <= 4096, "adapters.r", "must be in 1..4096" + got(a.r));
  require(a.lora_alpha > 0, "adapters.lora_alpha", "must be > 0" + got(a.lora_alpha));
  require(a.lora_dropout >= 0 && a.lora_dropout < 1, "adapters.lora_dropout",
          "must be in [0, 1)" + got(a.lora_dropout));
  require(a.balance.coef >= 0, "adapters.balance.coef", "must be >= 0" + got(a.balance.coef));
  require(a.balance.scope == "layer" || a.balance.scope == "module", "adapters.balance.scope",
          "must be \"layer\" or \"module\"" + got(a.balance.scope));
  if (a.plain_lora()) return;

  require(a.num_experts >= 1 && a.num_experts <= 256, "adapters.num_experts",
          "must be in 1..256" + got(a.num_experts));
  require(a.top_k >= 1, "adapters.top_k", "must be >= 1" + got(a.top_k));
  for (size_t i = 0; i < alloc.experts_per_layer.size(); ++i) {
    require(alloc.experts_per_layer[i] >= 1 && alloc.experts_per_layer[i] <= 256,
            "allocation.experts_per_layer[" + std::to_string(i) + "]",
            "must be in 1..256" + got(alloc.experts_per_layer[i]));
  }
  // top-k against the fewest experts of any layer: the method's own check (Method::validate).
}

void validate_allocation(const AllocationConfig& a) {
  method_named(a.method);  // ConfigError naming allocation.method, listing the known ones
  for (size_t i = 0; i < a.top_k_per_layer.size(); ++i) {
    require(a.top_k_per_layer[i] >= 1, "allocation.top_k_per_layer[" + std::to_string(i) + "]",
            "must be >= 1" + got(a.top_k_per_layer[i]));
  }
}

/// The answer pattern must compile and have a capture group (group 1 is the answer).
void validate_regex(const std::string& pattern, const std::string& path) {
  try {
    const std::regex re(pattern);
    require(re.mark_count() >= 1, path,
            "needs a capture group: group 1 is the extracted answer" + got(pattern));
  } catch (const std::regex_error& e) {
    config_fail(path,
                std::string("not a valid regular expression (") + e.what() + ")" + got(pattern));
  }
}

void validate_data(const DataConfig& d) {
  require(d.suite == "builtin" || d.suite == "jsonl" || d.suite == "datasets", "data.suite",
          "must be \"builtin\", \"jsonl\" or \"datasets\"" + got(d.suite));
  require(d.suite == "datasets" || d.datasets.empty(), "data.datasets",
          "only data.suite \"datasets\" reads data.datasets (set data.suite=datasets)");
  require(d.mixture == "concat" || d.mixture == "weighted", "data.mixture",
          "must be \"concat\" or \"weighted\"" + got(d.mixture));
  if (d.suite == "datasets") {
    require(!d.datasets.empty(), "data.datasets",
            "the datasets suite needs at least one dataset {name, format, train, eval, protocol}");
    std::set<std::string> names;
    bool any_train = false;
    for (size_t i = 0; i < d.datasets.size(); ++i) {
      const std::string path = "data.datasets[" + std::to_string(i) + "]";
      validate_dataset_spec(d.datasets[i], path);
      require(names.insert(d.datasets[i].name).second, path + ".name",
              "dataset name \"" + d.datasets[i].name + "\" is used twice");
      any_train = any_train || !d.datasets[i].train.empty();
    }
    require(any_train, "data.datasets", "no dataset has a train file; nothing to train on");
    const bool any_eval = std::any_of(
        d.datasets.begin(), d.datasets.end(),
        [](const DatasetSpec& ds) { return !ds.eval.empty() || ds.validation_from_train > 0; });
    require(any_eval, "data.datasets",
            "no dataset has an eval split; give one an \"eval\" list (or "
            "validation_from_train) so the run can be scored");
  } else if (d.suite == "builtin") {
    require(!d.tasks.empty(), "data.tasks", "must name at least one task");
  } else {
    require(!d.train_file.empty(), "data.train_file",
            "the jsonl suite needs a JSON Lines training file (instruction, input, output)");
  }
  require(d.template_name == "alpaca" || d.template_name == "none", "data.template",
          "must be \"alpaca\" or \"none\"" + got(d.template_name));
  require(d.eval_mode == "teacher_forced" || d.eval_mode == "generate", "data.eval_mode",
          "must be \"teacher_forced\" or \"generate\"" + got(d.eval_mode));
  require(d.max_new_tokens >= 1 && d.max_new_tokens <= 4096, "data.max_new_tokens",
          "must be in 1..4096" + got(d.max_new_tokens));
  validate_regex(d.answer_pattern, "data.answer_pattern");
  // The built-in suite generates its examples in memory: caps that keep a typo from asking for
  // terabytes (a real dataset is given as files, data.suite "jsonl"/"datasets").
  require(d.train_examples >= 1 && d.train_examples <= 10000000, "data.train_examples",
          "must be in 1..10000000" + got(d.train_examples));
  require(d.eval_examples >= 1 && d.eval_examples <= 1000000, "data.eval_examples",
          "must be in 1..1000000" + got(d.eval_examples));
  require(d.max_seq_len >= 8 && d.max_seq_len <= 65536, "data.max_seq_len",
          "must be in 8..65536" + got(d.max_seq_len));
}

void validate_train(const TrainConfig& t) {
  require(t.steps >= 1, "train.steps", "must be >= 1" + got(t.steps));
  require(
      t.micro_batch_size >= 1 && t.micro_batch_size <= 65536, "train.micro_batch_size",
      "must be in 1..65536 (raise train.grad_accum for a larger batch)" + got(t.micro_batch_size));
  require(t.grad_accum >= 1 && t.grad_accum <= 1000000, "train.grad_accum",
          "must be in 1..1000000" + got(t.grad_accum));
  require(t.lr > 0 && t.lr < 10, "train.lr", "must be in (0, 10)" + got(t.lr));
  require(t.weight_decay >= 0, "train.weight_decay", "must be >= 0" + got(t.weight_decay));
  require(t.adam_beta1 >= 0 && t.adam_beta1 < 1, "train.adam_beta1", "must be in [0, 1)");
  require(t.adam_beta2 >= 0 && t.adam_beta2 < 1, "train.adam_beta2", "must be in [0, 1)");
  require(t.adam_eps > 0, "train.adam_eps", "must be > 0");
  require(t.warmup_steps >= 0, "train.warmup_steps", "must be >= 0" + got(t.warmup_steps));
  require(t.schedule == "cosine" || t.schedule == "linear" || t.schedule == "constant",
          "train.schedule", "must be \"cosine\", \"linear\" or \"constant\"" + got(t.schedule));
  require(t.min_lr_ratio >= 0 && t.min_lr_ratio <= 1, "train.min_lr_ratio", "must be in [0, 1]");
  require(t.eval_every >= 1, "train.eval_every", "must be >= 1" + got(t.eval_every));
  require(t.epochs >= 0 && t.epochs <= 1000, "train.epochs",
          "must be in 0..1000 (0: train.steps decides)" + got(t.epochs));
  require(t.eval_strategy == "steps" || t.eval_strategy == "epoch", "train.eval_strategy",
          "must be \"steps\" or \"epoch\"" + got(t.eval_strategy));
  require(t.eval_strategy != "epoch" || t.epochs > 0, "train.eval_strategy",
          "\"epoch\" needs train.epochs > 0");
  require(t.checkpoint_rule == "last" || t.checkpoint_rule == "best_validation" ||
              t.checkpoint_rule == "best_test",
          "train.checkpoint_rule",
          "must be \"last\", \"best_validation\" or \"best_test\"" + got(t.checkpoint_rule));
  require(t.checkpoint_rule != "best_test" || t.allow_best_on_test, "train.checkpoint_rule",
          "\"best_test\" picks the checkpoint on the test split, which inflates the reported "
          "number; use \"best_validation\" with a validation split, or set "
          "train.allow_best_on_test=true to ask for it explicitly (the run is tagged)");
  require(t.log_every >= 1, "train.log_every", "must be >= 1" + got(t.log_every));
  require(t.log_matrices_every >= 1, "train.log_matrices_every", "must be >= 1");
  require(t.checkpoint_every >= 1, "train.checkpoint_every", "must be >= 1");
  require(t.device == "cpu" || t.device.rfind("cuda", 0) == 0, "train.device",
          "must be \"cpu\" or \"cuda[:N]\"" + got(t.device));
  require(t.dtype == "float32" || t.dtype == "bfloat16" || t.dtype == "float16", "train.dtype",
          "must be \"float32\", \"bfloat16\" or \"float16\"" + got(t.dtype));
}

/// adapters.layers_to_transform: non-negative, no duplicates, within the inline backbone's
/// layers, and only with the allocation methods that can leave layers out.
void validate_layers_to_transform(const ExperimentConfig& c) {
  const auto& layers = c.adapters->layers_to_transform;
  if (layers.empty()) return;
  // Methods that allocate over every layer themselves (GuiLoMo's search, DR-LoRA's budget
  // L·N·r_target and schedule, AlphaLoRA's spectrum, IncreLoRA's budget) would silently change
  // what they compare if layers were left out, so they reject it instead.
  const Method& method = method_of(c);
  require(!method.traits().whole_model, "adapters.layers_to_transform",
          "not supported with allocation.method \"" + c.allocation.method +
              "\" (it allocates over every layer itself); use uniform, mola or plain LoRA "
              "(adapters.method \"lora\"), or remove layers_to_transform");
  std::set<int> seen;
  for (size_t i = 0; i < layers.size(); ++i) {
    const std::string path = "adapters.layers_to_transform[" + std::to_string(i) + "]";
    require(layers[i] >= 0, path,
            "layer " + std::to_string(layers[i]) + " out of range (layer indices start at 0)");
    require(seen.insert(layers[i]).second, path,
            "layer " + std::to_string(layers[i]) + " listed twice");
  }
  // The layer count is known here only for an inline backbone; folders are checked when the
  // model is built (plan_allocation, inject_adapters), with the same message.
  if (!c.backbone.config.is_null()) {
    const auto it = c.backbone.config.find("num_hidden_layers");
    const auto n = it != c.backbone.config.end() ? json_to_integer<int>(*it) : std::nullopt;
    if (n && *n > 0) check_layers_to_transform(layers, *n);
  }
}

}  // namespace

bool AdapterConfig::adapts_layer(int layer) const {
  return layers_to_transform.empty() ||
         std::find(layers_to_transform.begin(), layers_to_transform.end(), layer) !=
             layers_to_transform.end();
}

void check_layers_to_transform(const std::vector<int>& layers, int num_layers) {
  for (size_t i = 0; i < layers.size(); ++i) {
    require(layers[i] >= 0 && layers[i] < num_layers,
            "adapters.layers_to_transform[" + std::to_string(i) + "]",
            "layer " + std::to_string(layers[i]) + " out of range (the backbone has " +
                std::to_string(num_layers) + " layers)");
  }
}

void ExperimentConfig::validate() const {
  const bool has_path = !backbone.path.empty();
  const bool has_inline = !backbone.config.is_null();
  require(has_path != has_inline, "backbone",
          "give exactly one of backbone.path (a model folder) or backbone.config (random init)");
  if (is_pretraining()) {
    require(has_inline, "backbone.config", "pretraining needs an inline backbone.config");
    require(!backbone.output.empty(), "backbone.output",
            "pretraining needs an output folder for the trained backbone");
  }
  if (adapters) validate_adapters(*adapters, allocation);
  if (adapters) validate_allocation(allocation);
  if (adapters) validate_layers_to_transform(*this);
  if (adapters && adapters->train_backbone_router && has_inline) {
    // An inline dense backbone has no router to train (folders are checked at injection).
    const auto experts = [&](const char* key) {
      const auto it = backbone.config.find(key);
      return it != backbone.config.end() ? json_to_integer<int>(*it).value_or(0) : 0;
    };
    require(experts("num_experts") > 0 || experts("num_local_experts") > 0,
            "adapters.train_backbone_router",
            "the inline backbone.config is dense (no num_experts / num_local_experts); only "
            "sparse-MoE backbones have a router to train");
  }
  if (adapters) method_named(allocation.method).validate(*this);
  validate_data(data);
  validate_train(train);
  if (train.checkpoint_rule == "best_validation") {
    const bool has_validation =
        std::any_of(data.datasets.begin(), data.datasets.end(), [](const DatasetSpec& d) {
          return d.validation_from_train > 0 ||
                 std::any_of(d.eval.begin(), d.eval.end(),
                             [](const EvalSplitSpec& s) { return s.role == kRoleValidation; });
        });
    require(has_validation, "train.checkpoint_rule",
            "\"best_validation\" needs a validation split: give a dataset an eval split with "
            "role \"validation\" or validation_from_train > 0 (data.suite \"datasets\")");
  }
}

}  // namespace apportion
