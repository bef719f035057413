// SPDX-License-Identifier: GPL-3.0-or-later
// The LoRA-MoE folder layout (docs/ADAPTER_FORMAT.md): adapter_model.safetensors with unstacked
// per-expert tensors, apportion_adapter.json and allocation.json. The stacked in-memory layout
// of MoeLoraAdapterImpl (lora_A [ΣR, Din], lora_B [Dout, ΣR]) is split at the experts' rank
// offsets on export and concatenated back on import, so a round trip is bit-exact.
// Legend: E experts, R rank, Din/Dout features.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "core/adapters/adapter_io.h"
#include "core/adapters/adapter_io_util.h"
#include "core/adapters/lora_adapter.h"
#include "core/adapters/moe_lora_adapter.h"
#include "core/common/error.h"
#include "core/common/json_parse.h"
#include "core/tensor/safetensors.h"

namespace apportion {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace adapter_io;

namespace {

const char* kFormat = "apportion-lora-moe";

bool close_to(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b)); }

/// Per-expert scaling of an adapter as exported (LoRA: one entry, for its active columns).
std::vector<double> scalings_of(const InjectedAdapter& a) {
  std::vector<double> s;
  if (a.moe) {
    for (int i = 0; i < a.moe->num_experts(); ++i) s.push_back(a.moe->expert_scaling(i));
  } else {
    s.push_back(a.lora->scaling());
  }
  return s;
}

std::vector<int> ranks_of(const InjectedAdapter& a) {
  return a.moe ? a.moe->ranks() : std::vector<int>{a.lora->active_rank()};
}

/// The tensor `key` of the file, marked as used; CheckpointError naming file and key if absent.
at::Tensor take(const SafetensorsFile& file,
                std::set<std::string>& used,
                const std::string& key,
                const std::string& path) {
  const auto it = file.tensors.find(key);
  if (it == file.tensors.end()) {
    throw CheckpointError(path + ": tensor '" + key + "' is missing (allocation.json lists it)");
  }
  used.insert(key);
  return it->second;
}

std::vector<int> int_list(const json& j, const std::string& key, const std::string& file) {
  const auto& v = require_field(j, key, file);
  std::vector<int> out;
  if (v.is_array()) {
    for (const auto& x : v) {
      const auto n = x.is_number_integer() ? json_to_integer<int>(x) : std::nullopt;
      if (!n) break;
      out.push_back(*n);
    }
  }
  if (!v.is_array() || out.size() != v.size()) {
    throw ConfigError(file + ": field \"" + key + "\" must be a list of integers, got " + v.dump());
  }
  return out;
}

}  // namespace

void save_lora_moe_adapter(TransformerLM& model,
                           const AdapterSet& set,
                           const std::string& dir,
                           const AdapterExportOptions& options) {
  // LoRA adapters with no active rank contribute nothing and are left out.
  std::vector<const InjectedAdapter*> exported;
  for (const auto& a : set.adapters()) {
    if (a.moe || (a.lora && a.lora->active_rank() > 0)) exported.push_back(&a);
  }
  AP_CHECK_AS(ConfigError, !exported.empty(), "LoRA-MoE export: there are no adapters");
  const ModelConfig& mc = model->config();
  const int layers = mc.num_hidden_layers;
  std::map<std::string, at::Tensor> tensors;
  json modules = json::array();
  // Alpha / r_i for every exported expert means the scaling need not be stored.
  bool alpha_over_rank = true;
  for (const InjectedAdapter* ap : exported) {
    const InjectedAdapter& a = *ap;
    const auto ranks = ranks_of(a);
    const auto scalings = scalings_of(a);
    for (size_t i = 0; i < ranks.size(); ++i) {
      alpha_over_rank =
          alpha_over_rank && ranks[i] > 0 && close_to(scalings[i], options.lora_alpha / ranks[i]);
    }
  }
  std::vector<std::vector<int>> rank_per_expert(layers), expert_ranks(layers);
  std::vector<int> top_k(layers, 0);
  for (const InjectedAdapter* ap : exported) {
    const InjectedAdapter& a = *ap;
    const auto din = a.moe ? a.moe->lora_A.size(1) : a.lora->lora_A.size(1);
    const auto dout = a.moe ? a.moe->lora_B.size(0) : a.lora->lora_B.size(0);
    json m = {{"name", a.name},      {"layer", a.layer},
              {"module", a.module},  {"kind", a.moe ? "moe_lora" : "lora"},
              {"in_features", din},  {"out_features", dout},
              {"ranks", ranks_of(a)}};
    if (a.expert >= 0) m["backbone_expert"] = a.expert;
    if (a.shared_expert) m["shared_expert"] = true;
    if (!alpha_over_rank) m["scaling"] = scalings_of(a);
    if (a.moe) {
      m["top_k"] = a.moe->top_k();
      tensors[a.name + ".router.weight"] = cpu_f32(a.moe->router_weight);  // [E, Din]
      for (int i = 0; i < a.moe->num_experts(); ++i) {
        const std::string p = a.name + ".experts." + std::to_string(i);
        const auto off = a.moe->rank_offset(i);
        const auto r = a.moe->ranks()[i];
        tensors[p + ".lora_A.weight"] =
            cpu_f32(a.moe->lora_A.narrow(/*dim=*/0, off, r));  // [r, Din]
        tensors[p + ".lora_B.weight"] =
            cpu_f32(a.moe->lora_B.narrow(/*dim=*/1, off, r));  // [Dout, r]
      }
      if (rank_per_expert[a.layer].empty()) {
        rank_per_expert[a.layer] = a.moe->ranks();
        top_k[a.layer] = a.moe->top_k();
      }
    } else {
      const int k = a.lora->active_rank();
      tensors[a.name + ".lora_A.weight"] = cpu_f32(a.lora->lora_A.narrow(/*dim=*/0, 0, k));
      tensors[a.name + ".lora_B.weight"] = cpu_f32(a.lora->lora_B.narrow(/*dim=*/1, 0, k));
      if (a.expert >= 0) {
        auto& row = expert_ranks[a.layer];
        if (static_cast<int>(row.size()) <= a.expert) row.resize(a.expert + 1, 0);
        row[a.expert] = k;
      }
    }
    modules.push_back(std::move(m));
  }
  json backbone_params = json::array();
  for (const auto& [name, t] : set.backbone_parameters()) {
    tensors[name] = cpu_f32(t);
    backbone_params.push_back(name);
  }
  std::vector<int> experts_per_layer;
  for (const auto& r : rank_per_expert) experts_per_layer.push_back(static_cast<int>(r.size()));
  const bool any_expert_lora = std::any_of(expert_ranks.begin(), expert_ranks.end(),
                                           [](const auto& r) { return !r.empty(); });

  const json adapter = {
      {"format", kFormat},
      {"format_version", kLoraMoeFormatVersion},
      {"method", options.method},
      {"r", options.r},
      {"lora_alpha", json_number(options.lora_alpha)},
      {"lora_dropout", options.lora_dropout},
      {"target_modules", options.target_modules},
      {"top_k_per_layer", top_k},
      {"scaling", alpha_over_rank ? "alpha_over_rank" : "explicit"},
      {"router", "softmax(float32) over experts, top-k, renormalised (METHODS.md §1.2)"},
      {"backbone_parameters", backbone_params},
      {"base_model_name_or_path", options.base_model_name_or_path.empty()
                                      ? json(nullptr)
                                      : json(options.base_model_name_or_path)},
      {"backbone",
       {{"architecture", mc.architecture},
        {"num_hidden_layers", layers},
        {"hidden_size", mc.hidden_size}}},
  };
  const json allocation = {
      {"format_version", kLoraMoeFormatVersion},
      {"experts_per_layer", experts_per_layer},
      {"rank_per_expert", rank_per_expert},
      {"top_k_per_layer", top_k},
      {"backbone_expert_ranks", any_expert_lora ? json(expert_ranks) : json::array()},
      {"modules", modules},
  };
  fs::create_directories(dir);
  save_safetensors((fs::path(dir) / "adapter_model.safetensors").string(), tensors,
                   {{"format", "pt"}, {"apportion_format", kFormat}});
  write_json((fs::path(dir) / "apportion_adapter.json").string(), adapter);
  write_json((fs::path(dir) / "allocation.json").string(), allocation);
}

LoadedAdapter load_lora_moe_adapter(TransformerLM& model, const std::string& dir) {
  const fs::path d(dir);
  const std::string adapter_path = (d / "apportion_adapter.json").string();
  const std::string alloc_path = (d / "allocation.json").string();
  const std::string weights_path = (d / "adapter_model.safetensors").string();
  const json adapter = read_json_object(adapter_path);
  const std::string format = string_field(adapter, "format", adapter_path);
  AP_CHECK_AS(ConfigError, format == kFormat, adapter_path, ": format is \"", format,
              "\", expected \"", kFormat, "\"");
  const int version = positive_int_field(adapter, "format_version", adapter_path);
  AP_CHECK_AS(ConfigError, version <= kLoraMoeFormatVersion, adapter_path, ": format_version ",
              version, " is newer than this build reads (", kLoraMoeFormatVersion,
              "); update Apportion");
  const std::string method = string_field(adapter, "method", adapter_path);
  const double alpha = number_field(adapter, "lora_alpha", adapter_path);
  const double dropout = number_field(adapter, "lora_dropout", adapter_path);
  AP_CHECK_AS(ConfigError, dropout >= 0.0 && dropout < 1.0, adapter_path,
              ": lora_dropout must be in [0, 1), got ", dropout);
  const std::string scaling = string_field(adapter, "scaling", adapter_path);
  AP_CHECK_AS(ConfigError, scaling == "alpha_over_rank" || scaling == "explicit", adapter_path,
              ": scaling \"", scaling, "\" is unknown (alpha_over_rank, explicit)");
  const json backbone = require_field(adapter, "backbone", adapter_path);
  if (backbone.is_object() && backbone.contains("num_hidden_layers")) {
    const int layers = positive_int_field(backbone, "num_hidden_layers", adapter_path);
    AP_CHECK_AS(CheckpointError, layers == model->config().num_hidden_layers, adapter_path,
                ": the adapter was trained on a backbone with ", layers, " layers, this one has ",
                model->config().num_hidden_layers);
  }
  const json allocation = read_json_object(alloc_path);
  const json modules = require_field(allocation, "modules", alloc_path);
  AP_CHECK_AS(ConfigError, modules.is_array() && !modules.empty(), alloc_path,
              ": \"modules\" must be a non-empty list");
  if (!fs::exists(weights_path)) throw CheckpointError(weights_path + ": no such file");
  const SafetensorsFile file = load_safetensors(weights_path);

  auto slots = slots_by_name(model);
  std::set<std::string> used;
  LoadedAdapter out;
  out.format = AdapterFormat::LoraMoe;
  out.method = method;
  if (const auto it = adapter.find("base_model_name_or_path");
      it != adapter.end() && it->is_string()) {
    out.base_model_name_or_path = it->get<std::string>();
  }
  for (size_t i = 0; i < modules.size(); ++i) {
    const json& m = modules[i];
    const std::string where = alloc_path + " modules[" + std::to_string(i) + "]";
    AP_CHECK_AS(ConfigError, m.is_object(), where, ": must be an object");
    const std::string name = string_field(m, "name", where);
    const auto it = slots.find(name);
    if (it == slots.end()) {
      throw CheckpointError(where + ": module '" + name +
                            "' is not a projection of this backbone (another architecture?)");
    }
    ProjectionSlot slot = it->second;  // a copy: set_adapter needs a non-const holder
    const std::string kind = string_field(m, "kind", where);
    const auto ranks = int_list(m, "ranks", where);
    const auto din = slot.linear->in_features(), dout = slot.linear->out_features();
    std::vector<double> scales;
    if (scaling == "explicit") {
      const json s = require_field(m, "scaling", where);
      AP_CHECK_AS(ConfigError, s.is_array() && s.size() == ranks.size(), where,
                  ": \"scaling\" must list one number per rank entry");
      for (const auto& v : s) scales.push_back(v.get<double>());
    }
    InjectedAdapter a = injected_for(slot);
    if (kind == "moe_lora") {
      const int top_k = positive_int_field(m, "top_k", where);
      for (int r : ranks) AP_CHECK_AS(ConfigError, r > 0, where, ": ranks must be > 0");
      AP_CHECK_AS(ConfigError, !ranks.empty() && top_k <= static_cast<int>(ranks.size()), where,
                  ": top_k ", top_k, " exceeds the ", ranks.size(), " experts");
      a.moe = std::make_shared<MoeLoraAdapterImpl>(din, dout, ranks, top_k, alpha, dropout);
      copy_checked(a.moe->router_weight, take(file, used, name + ".router.weight", weights_path),
                   weights_path, name + ".router.weight");
      torch::NoGradGuard no_grad;
      for (int e = 0; e < a.moe->num_experts(); ++e) {
        const std::string p = name + ".experts." + std::to_string(e);
        const auto off = a.moe->rank_offset(e);
        copy_checked(a.moe->lora_A.narrow(/*dim=*/0, off, ranks[e]),
                     take(file, used, p + ".lora_A.weight", weights_path), weights_path,
                     p + ".lora_A.weight");
        copy_checked(a.moe->lora_B.narrow(/*dim=*/1, off, ranks[e]),
                     take(file, used, p + ".lora_B.weight", weights_path), weights_path,
                     p + ".lora_B.weight");
      }
      if (!scales.empty()) a.moe->set_expert_scaling(scales);
      slot.linear->set_adapter(a.moe);
    } else if (kind == "lora") {
      AP_CHECK_AS(ConfigError, ranks.size() == 1 && ranks[0] > 0, where,
                  ": a lora module has exactly one positive rank");
      a.lora = std::make_shared<LoraAdapterImpl>(din, dout, ranks[0], alpha, dropout);
      copy_checked(a.lora->lora_A, take(file, used, name + ".lora_A.weight", weights_path),
                   weights_path, name + ".lora_A.weight");
      copy_checked(a.lora->lora_B, take(file, used, name + ".lora_B.weight", weights_path),
                   weights_path, name + ".lora_B.weight");
      if (!scales.empty()) a.lora->set_scaling(scales[0]);
      slot.linear->set_adapter(a.lora);
    } else {
      throw ConfigError(where + ": kind \"" + kind + "\" is unknown (moe_lora, lora)");
    }
    out.set.add(std::move(a));
  }
  if (const auto it = adapter.find("backbone_parameters"); it != adapter.end() && it->is_array()) {
    auto params = model->named_parameters(/*recurse=*/true);
    for (const auto& v : *it) {
      const std::string name = v.get<std::string>();
      auto* p = params.find(name);
      if (p == nullptr) {
        throw CheckpointError(adapter_path + ": backbone parameter '" + name +
                              "' does not exist in this backbone");
      }
      copy_checked(*p, take(file, used, name, weights_path), weights_path, name);
      out.set.add_backbone_parameter(name, *p);
    }
  }
  for (const auto& [key, t] : file.tensors) {
    if (!used.count(key)) {
      throw CheckpointError(weights_path + ": unexpected tensor '" + key +
                            "' (not listed in allocation.json / apportion_adapter.json)");
    }
  }
  return out;
}

}  // namespace apportion
