// SPDX-License-Identifier: GPL-3.0-or-later
// Strict parsing of the experiment JSON into ExperimentConfig, and its full serialisation.
#include "core/config/experiment_config.h"

#include "core/common/error.h"
#include "core/config/json_reader.h"
#include "core/config/method_config_io.h"
#include "core/methods/method_registry.h"

namespace apportion {
namespace {

BackboneConfig parse_backbone(const nlohmann::json& j) {
  BackboneConfig b;
  JsonObjectReader r(j, "backbone");
  r.get("path", b.path);
  r.get("output", b.output);
  if (const auto* c = r.raw("config")) {
    if (!c->is_object()) config_fail("backbone.config", "must be an object (an HF config.json)");
    b.config = *c;
  }
  r.finish();
  return b;
}

BalanceConfig parse_balance(const nlohmann::json& j) {
  BalanceConfig b;
  JsonObjectReader r(j, "adapters.balance");
  r.get("coef", b.coef);
  r.get("scope", b.scope);
  r.get("multiply_by_experts", b.multiply_by_experts);
  r.finish();
  return b;
}

AdapterConfig parse_adapters(const nlohmann::json& j) {
  AdapterConfig a;
  JsonObjectReader r(j, "adapters");
  r.get("method", a.method);
  r.get("target_modules", a.target_modules);
  r.get("r", a.r);
  r.get("lora_alpha", a.lora_alpha);
  r.get("lora_dropout", a.lora_dropout);
  r.get("num_experts", a.num_experts);
  r.get("top_k", a.top_k);
  if (const auto* b = r.raw("balance")) a.balance = parse_balance(*b);
  r.get("train_backbone_router", a.train_backbone_router);
  if (const auto* l = r.raw("layers_to_transform")) {
    if (!l->is_array()) {
      config_fail("adapters.layers_to_transform",
                  "must be a list of decoder-layer indices, got " + json_type_name(*l));
    }
    if (l->empty()) {
      config_fail("adapters.layers_to_transform",
                  "must list at least one layer; omit the key to adapt every layer");
    }
    r.get("layers_to_transform", a.layers_to_transform);
  }
  r.finish();
  return a;
}

AllocationConfig parse_allocation(const nlohmann::json& j) {
  AllocationConfig a;
  JsonObjectReader r(j, "allocation");
  r.get("method", a.method);
  r.get("preset", a.preset);
  r.get("experts_per_layer", a.experts_per_layer);
  r.get("top_k_per_layer", a.top_k_per_layer);
  // Every other key is a method's section (core/methods): the methods that own it parse it.
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      const auto owners = methods_with_section(key);
      if (owners.empty()) continue;
      r.raw(key);
      owners.front()->parse_section(value, a);
    }
  }
  r.finish();
  return a;
}

DataConfig parse_data(const nlohmann::json& j) {
  DataConfig d;
  JsonObjectReader r(j, "data");
  r.get("suite", d.suite);
  r.get("tasks", d.tasks);
  r.get("train_examples", d.train_examples);
  r.get("eval_examples", d.eval_examples);
  r.get("max_seq_len", d.max_seq_len);
  r.get("train_on_inputs", d.train_on_inputs);
  r.get("seed", d.seed);
  r.get("train_file", d.train_file);
  r.get("eval_file", d.eval_file);
  r.get("task", d.task);
  r.get("template", d.template_name);
  r.get("add_eos", d.add_eos);
  r.get("eval_mode", d.eval_mode);
  r.get("answer_pattern", d.answer_pattern);
  r.get("max_new_tokens", d.max_new_tokens);
  if (const auto* ds = r.raw("datasets")) {
    if (!ds->is_array()) config_fail("data.datasets", "must be an array of dataset objects");
    for (size_t i = 0; i < ds->size(); ++i) {
      d.datasets.push_back(
          parse_dataset_spec((*ds)[i], "data.datasets[" + std::to_string(i) + "]"));
    }
  }
  r.get("root", d.root);
  r.get("mixture", d.mixture);
  r.get("bucket_by_length", d.bucket_by_length);
  r.get("token_cache", d.token_cache);
  r.finish();
  return d;
}

TrainConfig parse_train(const nlohmann::json& j) {
  TrainConfig t;
  JsonObjectReader r(j, "train");
  r.get("steps", t.steps);
  r.get("epochs", t.epochs);
  r.get("micro_batch_size", t.micro_batch_size);
  r.get("grad_accum", t.grad_accum);
  r.get("lr", t.lr);
  r.get("weight_decay", t.weight_decay);
  r.get("adam_beta1", t.adam_beta1);
  r.get("adam_beta2", t.adam_beta2);
  r.get("adam_eps", t.adam_eps);
  r.get("warmup_steps", t.warmup_steps);
  r.get("schedule", t.schedule);
  r.get("min_lr_ratio", t.min_lr_ratio);
  r.get("max_grad_norm", t.max_grad_norm);
  r.get("eval_every", t.eval_every);
  r.get("eval_strategy", t.eval_strategy);
  r.get("checkpoint_rule", t.checkpoint_rule);
  r.get("allow_best_on_test", t.allow_best_on_test);
  r.get("log_every", t.log_every);
  r.get("log_matrices_every", t.log_matrices_every);
  r.get("checkpoint_every", t.checkpoint_every);
  r.get("device", t.device);
  r.get("dtype", t.dtype);
  r.get("autocast", t.autocast);
  r.get("gradient_checkpointing", t.gradient_checkpointing);
  r.finish();
  return t;
}

}  // namespace

ExperimentConfig ExperimentConfig::from_json(const nlohmann::json& j) {
  ExperimentConfig c;
  JsonObjectReader r(j, "");
  r.get("schema_version", c.schema_version);
  if (c.schema_version != 1) {
    config_fail("schema_version", "unsupported version " + std::to_string(c.schema_version) +
                                      " (this build reads version 1)");
  }
  r.get("name", c.name);
  r.get("description", c.description);
  if (const auto* b = r.raw("backbone")) {
    c.backbone = parse_backbone(*b);
  } else {
    config_fail("backbone", "missing (give backbone.path or backbone.config)");
  }
  if (const auto* a = r.raw("adapters")) c.adapters = parse_adapters(*a);
  if (const auto* a = r.raw("allocation")) c.allocation = parse_allocation(*a);
  if (const auto* d = r.raw("data")) c.data = parse_data(*d);
  if (const auto* t = r.raw("train")) c.train = parse_train(*t);
  r.get("seed", c.seed);
  r.finish({"$comment"});
  c.validate();
  return c;
}

nlohmann::json ExperimentConfig::to_json() const {
  nlohmann::json j;
  j["schema_version"] = schema_version;
  j["name"] = name;
  j["description"] = description;
  nlohmann::json b = nlohmann::json::object();
  if (!backbone.path.empty()) b["path"] = backbone.path;
  if (!backbone.config.is_null()) b["config"] = backbone.config;
  if (!backbone.output.empty()) b["output"] = backbone.output;
  j["backbone"] = b;
  if (adapters) {
    const AdapterConfig& a = *adapters;
    j["adapters"] = {{"method", a.method},
                     {"target_modules", a.target_modules},
                     {"r", a.r},
                     {"lora_alpha", a.lora_alpha},
                     {"lora_dropout", a.lora_dropout},
                     {"num_experts", a.num_experts},
                     {"top_k", a.top_k},
                     {"balance",
                      {{"coef", a.balance.coef},
                       {"scope", a.balance.scope},
                       {"multiply_by_experts", a.balance.multiply_by_experts}}},
                     {"train_backbone_router", a.train_backbone_router}};
    if (!a.layers_to_transform.empty()) {
      j["adapters"]["layers_to_transform"] = a.layers_to_transform;
    }
    j["allocation"] = {{"method", allocation.method},
                       {"preset", allocation.preset},
                       {"experts_per_layer", allocation.experts_per_layer},
                       {"top_k_per_layer", allocation.top_k_per_layer}};
    // The method's own section, every default written out.
    const Method& method = method_named(allocation.method);
    if (nlohmann::json section = method.section_json(allocation); !section.is_null()) {
      j["allocation"][method.section()] = std::move(section);
    }
  }
  j["data"] = {{"suite", data.suite},
               {"tasks", data.tasks},
               {"train_examples", data.train_examples},
               {"eval_examples", data.eval_examples},
               {"max_seq_len", data.max_seq_len},
               {"train_on_inputs", data.train_on_inputs},
               {"seed", data.seed},
               {"train_file", data.train_file},
               {"eval_file", data.eval_file},
               {"task", data.task},
               {"template", data.template_name},
               {"add_eos", data.add_eos},
               {"eval_mode", data.eval_mode},
               {"answer_pattern", data.answer_pattern},
               {"max_new_tokens", data.max_new_tokens},
               {"datasets", nlohmann::json::array()},
               {"root", data.root},
               {"mixture", data.mixture},
               {"bucket_by_length", data.bucket_by_length},
               {"token_cache", data.token_cache}};
  for (const auto& d : data.datasets) j["data"]["datasets"].push_back(dataset_spec_to_json(d));
  j["train"] = {{"steps", train.steps},
                {"epochs", train.epochs},
                {"micro_batch_size", train.micro_batch_size},
                {"grad_accum", train.grad_accum},
                {"lr", train.lr},
                {"weight_decay", train.weight_decay},
                {"adam_beta1", train.adam_beta1},
                {"adam_beta2", train.adam_beta2},
                {"adam_eps", train.adam_eps},
                {"warmup_steps", train.warmup_steps},
                {"schedule", train.schedule},
                {"min_lr_ratio", train.min_lr_ratio},
                {"max_grad_norm", train.max_grad_norm},
                {"eval_every", train.eval_every},
                {"eval_strategy", train.eval_strategy},
                {"checkpoint_rule", train.checkpoint_rule},
                {"allow_best_on_test", train.allow_best_on_test},
                {"log_every", train.log_every},
                {"log_matrices_every", train.log_matrices_every},
                {"checkpoint_every", train.checkpoint_every},
                {"device", train.device},
                {"dtype", train.dtype},
                {"autocast", train.autocast},
                {"gradient_checkpointing", train.gradient_checkpointing}};
  j["seed"] = seed;
  return j;
}

}  // namespace apportion
