// SPDX-License-Identifier: GPL-3.0-or-later
// The PEFT LoRA folder format: adapter_model.safetensors (keys
// base_model.model.<module>.lora_A.weight [r, in] / .lora_B.weight [out, r], metadata
// {"format": "pt"}) and adapter_config.json with the fields peft's LoraConfig writes. Per-module
// ranks and scalings go into rank_pattern / alpha_pattern keyed by the module name without its
// first component ("layers.0.self_attn.q_proj"), which both peft's old (".*\.{key}$") and new
// ("(.*\.)?{key}$") pattern matching resolve to exactly that module.
// Legend: R rank, Din/Dout features.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "core/adapters/adapter_io.h"
#include "core/adapters/adapter_io_util.h"
#include "core/adapters/lora_adapter.h"
#include "core/common/error.h"
#include "core/common/json_parse.h"
#include "core/tensor/safetensors.h"

namespace apportion {
namespace fs = std::filesystem;
using nlohmann::json;
using namespace adapter_io;

namespace {

/// peft's prefix of every key: PeftModel.base_model (LoraModel) .model (the *ForCausalLM).
const std::string kPrefix = "base_model.model.";
const std::string kSuffixA = ".lora_A.weight";
const std::string kSuffixB = ".lora_B.weight";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string leaf_name(const std::string& name) { return name.substr(name.rfind('.') + 1); }

/// The rank_pattern / alpha_pattern key of a module: its name without the first component.
std::string pattern_key(const std::string& name) {
  const auto dot = name.find('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

/// The most frequent value (ties: the smallest).
template <typename T>
T most_common(const std::vector<T>& values) {
  std::map<T, int> counts;
  for (const auto& v : values) ++counts[v];
  T best = counts.begin()->first;
  int best_n = 0;
  for (const auto& [v, n] : counts) {
    if (n > best_n) best = v, best_n = n;
  }
  return best;
}

bool same(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(1.0, std::abs(b)); }

/// The pattern of `patterns` (rank_pattern / alpha_pattern object) that selects module `name`,
/// or nullptr: an exact key first, else the first key (in key order) whose regex matches as
/// peft does, `(.*\.)?(key)$`.
const json* pattern_value(const json& patterns,
                          const std::string& name,
                          const std::string& file,
                          const std::string& field) {
  if (patterns.is_null()) return nullptr;
  if (!patterns.is_object()) {
    throw ConfigError(file + ": field \"" + field + "\" must be an object, got " + patterns.dump());
  }
  if (const auto it = patterns.find(name); it != patterns.end()) return &*it;
  for (auto it = patterns.begin(); it != patterns.end(); ++it) {
    try {
      if (std::regex_match(name, std::regex("(.*\\.)?(" + it.key() + ")"))) return &*it;
    } catch (const std::regex_error&) {
      throw ConfigError(file + ": " + field + " key \"" + it.key() + "\" is not a valid regex");
    }
  }
  return nullptr;
}

/// Whether peft's target_modules (a list of name suffixes or a full-match regex) selects `name`.
bool targeted(const json& target_modules, const std::string& name, const std::string& file) {
  if (target_modules.is_string()) {
    try {
      return std::regex_match(name, std::regex(target_modules.get<std::string>()));
    } catch (const std::regex_error&) {
      throw ConfigError(file + ": target_modules is not a valid regex");
    }
  }
  if (!target_modules.is_array()) {
    throw ConfigError(file + ": field \"target_modules\" must be a list or a string, got " +
                      target_modules.dump());
  }
  for (const auto& t : target_modules) {
    if (!t.is_string()) throw ConfigError(file + ": target_modules entries must be strings");
    const auto& s = t.get_ref<const std::string&>();
    if (name == s || ends_with(name, "." + s)) return true;
  }
  return false;
}

/// ConfigError unless the optional field is absent, null or equal to `expected`.
void require_default(const json& cfg,
                     const std::string& key,
                     const json& expected,
                     const std::string& file,
                     const std::string& why) {
  const auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null() || *it == expected) return;
  throw ConfigError(file + ": " + key + " is " + it->dump() + "; " + why);
}

}  // namespace

void save_peft_adapter(TransformerLM& model,
                       const AdapterSet& set,
                       const std::string& dir,
                       const AdapterExportOptions& options) {
  (void)model;
  struct Row {
    const InjectedAdapter* a;
    int r;
    double alpha;
  };
  std::vector<Row> rows;
  for (const auto& a : set.adapters()) {
    if (a.moe) {
      throw ConfigError("PEFT export: " + a.name +
                        " carries a LoRA-MoE adapter and peft has no LoRA-MoE type; export the "
                        "LoRA-MoE layout instead (`apportion export RUN --peft DIR` does this for "
                        "moe_lora runs)");
    }
    if (!a.lora || a.lora->active_rank() == 0) continue;  // contributes nothing
    const int k = a.lora->active_rank();
    rows.push_back({&a, k, a.lora->scaling() * k});
  }
  if (rows.empty()) throw ConfigError("PEFT export: the run has no LoRA adapter to export");
  std::vector<int> rs;
  std::vector<double> alphas;
  for (const auto& row : rows) rs.push_back(row.r), alphas.push_back(row.alpha);
  const int base_r = std::count(rs.begin(), rs.end(), options.r) > 0 ? options.r : most_common(rs);
  const double base_alpha = std::any_of(alphas.begin(), alphas.end(),
                                        [&](double v) { return same(v, options.lora_alpha); })
                                ? options.lora_alpha
                                : most_common(alphas);

  std::map<std::string, at::Tensor> tensors;
  json rank_pattern = json::object(), alpha_pattern = json::object();
  std::set<std::string> targets;
  for (const auto& row : rows) {
    const auto& lora = *row.a->lora;
    tensors[kPrefix + row.a->name + kSuffixA] =
        cpu_f32(lora.lora_A.narrow(/*dim=*/0, 0, row.r));  // [k, Din]
    tensors[kPrefix + row.a->name + kSuffixB] =
        cpu_f32(lora.lora_B.narrow(/*dim=*/1, 0, row.r));  // [Dout, k]
    if (row.r != base_r) rank_pattern[pattern_key(row.a->name)] = row.r;
    if (!same(row.alpha, base_alpha))
      alpha_pattern[pattern_key(row.a->name)] = json_number(row.alpha);
    targets.insert(leaf_name(row.a->name));
  }
  json modules_to_save = nullptr;
  if (!set.backbone_parameters().empty()) {
    std::set<std::string> saved;
    for (const auto& [name, t] : set.backbone_parameters()) {
      tensors[kPrefix + name] = cpu_f32(t);
      // "model.layers.3.mlp.gate.weight" -> "mlp.gate": peft matches modules_to_save by suffix.
      const std::string module = name.substr(0, name.rfind('.'));
      const auto cut = module.rfind('.', module.rfind('.') - 1);
      saved.insert(module.substr(cut + 1));
    }
    modules_to_save = std::vector<std::string>(saved.begin(), saved.end());
  }
  const double dropout = rows.front().a->lora->dropout();

  json cfg = {
      {"alpha_pattern", alpha_pattern},
      {"auto_mapping", nullptr},
      {"base_model_name_or_path", options.base_model_name_or_path.empty()
                                      ? json(nullptr)
                                      : json(options.base_model_name_or_path)},
      {"bias", "none"},
      {"fan_in_fan_out", false},
      {"inference_mode", true},
      {"init_lora_weights", true},
      {"layer_replication", nullptr},
      {"layers_pattern", nullptr},
      {"layers_to_transform", nullptr},
      {"loftq_config", json::object()},
      {"lora_alpha", json_number(base_alpha)},
      {"lora_dropout", dropout},
      {"megatron_config", nullptr},
      {"megatron_core", "megatron.core"},
      {"modules_to_save", modules_to_save},
      {"peft_type", "LORA"},
      {"r", base_r},
      {"rank_pattern", rank_pattern},
      {"revision", nullptr},
      {"target_modules", std::vector<std::string>(targets.begin(), targets.end())},
      {"task_type", "CAUSAL_LM"},
      {"use_dora", false},
      {"use_rslora", false},
  };
  fs::create_directories(dir);
  save_safetensors((fs::path(dir) / "adapter_model.safetensors").string(), tensors,
                   {{"format", "pt"}});
  write_json((fs::path(dir) / "adapter_config.json").string(), cfg);
}

LoadedAdapter load_peft_adapter(TransformerLM& model, const std::string& dir) {
  const fs::path d(dir);
  const std::string cfg_path = (d / "adapter_config.json").string();
  const std::string weights_path = (d / "adapter_model.safetensors").string();
  const json cfg = read_json_object(cfg_path);
  const std::string peft_type = string_field(cfg, "peft_type", cfg_path);
  if (peft_type != "LORA") {
    throw ConfigError(cfg_path + ": peft_type is \"" + peft_type +
                      "\"; only LORA adapters can be imported");
  }
  const int r = positive_int_field(cfg, "r", cfg_path);
  const double alpha = number_field(cfg, "lora_alpha", cfg_path);
  const json target_modules = require_field(cfg, "target_modules", cfg_path);
  double dropout = 0.0;
  if (cfg.contains("lora_dropout") && !cfg["lora_dropout"].is_null()) {
    dropout = number_field(cfg, "lora_dropout", cfg_path);
  }
  AP_CHECK_AS(ConfigError, dropout >= 0.0 && dropout < 1.0, cfg_path,
              ": lora_dropout must be in [0, 1), got ", dropout);
  const bool rslora = cfg.value("use_rslora", false);
  require_default(cfg, "bias", "none", cfg_path, "only bias \"none\" is supported");
  require_default(cfg, "fan_in_fan_out", false, cfg_path, "Linear projections need false");
  require_default(cfg, "use_dora", false, cfg_path, "DoRA adapters are not supported");
  require_default(cfg, "lora_bias", false, cfg_path, "LoRA biases are not supported");
  require_default(cfg, "layer_replication", nullptr, cfg_path, "layer replication is unsupported");
  const json rank_pattern = cfg.value("rank_pattern", json(nullptr));
  const json alpha_pattern = cfg.value("alpha_pattern", json(nullptr));
  std::vector<std::string> modules_to_save;
  if (cfg.contains("modules_to_save") && !cfg["modules_to_save"].is_null()) {
    try {
      modules_to_save = cfg["modules_to_save"].get<std::vector<std::string>>();
    } catch (const json::exception&) {
      throw ConfigError(cfg_path + ": modules_to_save must be null or a list of module names");
    }
  }
  std::set<int> layers;  // layers_to_transform (empty: all)
  if (const auto it = cfg.find("layers_to_transform"); it != cfg.end() && !it->is_null()) {
    const auto layer = [&](const json& v) {
      const auto n = json_to_integer<int>(v);
      if (!v.is_number_integer() || !n || *n < 0) {
        throw ConfigError(cfg_path + ": layers_to_transform entries must be layer indices, got " +
                          v.dump());
      }
      return *n;
    };
    if (it->is_number_integer()) {
      layers.insert(layer(*it));
    } else if (it->is_array()) {
      for (const auto& v : *it) layers.insert(layer(v));
    } else {
      throw ConfigError(cfg_path + ": layers_to_transform must be null, an int or a list");
    }
  }
  if (!fs::exists(weights_path)) {
    const bool bin = fs::exists(d / "adapter_model.bin");
    throw CheckpointError(
        weights_path + ": no such file" +
        (bin ? std::string("; adapter_model.bin (pickle) is not supported, "
                           "re-save with save_pretrained(safe_serialization=True)")
             : std::string()));
  }
  const SafetensorsFile file = load_safetensors(weights_path);

  auto slots = slots_by_name(model);
  auto params = model->named_parameters(/*recurse=*/true);
  struct Pair {
    at::Tensor a, b;
  };
  std::map<std::string, Pair> by_module;
  std::vector<std::pair<std::string, at::Tensor>> saved;  // modules_to_save tensors
  for (const auto& [key, t] : file.tensors) {
    if (key.rfind(kPrefix, 0) != 0) {
      throw CheckpointError(weights_path + ": tensor '" + key + "' does not start with '" +
                            kPrefix + "' (not a peft causal-LM adapter?)");
    }
    const std::string rest = key.substr(kPrefix.size());
    const bool is_a = ends_with(rest, kSuffixA), is_b = ends_with(rest, kSuffixB);
    if (is_a || is_b) {
      const std::string module = rest.substr(0, rest.size() - kSuffixA.size());
      if (!slots.count(module)) {
        throw CheckpointError(weights_path + ": tensor '" + key + "' names module '" + module +
                              "', which is not a projection of this backbone");
      }
      (is_a ? by_module[module].a : by_module[module].b) = t;
      continue;
    }
    const std::string module = rest.substr(0, rest.rfind('.'));
    const bool listed = std::any_of(
        modules_to_save.begin(), modules_to_save.end(),
        [&](const std::string& m) { return module == m || ends_with(module, "." + m); });
    if (!listed || params.find(rest) == nullptr) {
      throw CheckpointError(weights_path + ": unexpected tensor '" + key +
                            "' (neither a LoRA weight of a projection nor a parameter of a "
                            "module in modules_to_save)");
    }
    saved.emplace_back(rest, t);
  }

  LoadedAdapter out;
  out.format = AdapterFormat::Peft;
  out.method = "lora";
  if (const auto it = cfg.find("base_model_name_or_path"); it != cfg.end() && it->is_string()) {
    out.base_model_name_or_path = it->get<std::string>();
  }
  for (auto& slot : model->projections()) {  // model order, like inject_adapters
    const auto it = by_module.find(slot.name);
    if (it == by_module.end()) continue;
    const std::string key = kPrefix + slot.name;
    if (!it->second.a.defined() || !it->second.b.defined()) {
      throw CheckpointError(weights_path + ": tensor '" + key +
                            (it->second.a.defined() ? kSuffixB : kSuffixA) +
                            "' is missing (every LoRA module needs lora_A and lora_B)");
    }
    if (!targeted(target_modules, slot.name, cfg_path)) {
      throw CheckpointError(weights_path + ": module '" + slot.name +
                            "' has LoRA weights but is not selected by target_modules " +
                            target_modules.dump() + " in " + cfg_path);
    }
    if (!layers.empty() && !layers.count(slot.layer)) {
      throw CheckpointError(weights_path + ": module '" + slot.name +
                            "' has LoRA weights but its layer is not in layers_to_transform");
    }
    int r_m = r;
    double alpha_m = alpha;
    if (const json* v = pattern_value(rank_pattern, slot.name, cfg_path, "rank_pattern")) {
      const auto n = v->is_number_integer() ? json_to_integer<int>(*v) : std::nullopt;
      AP_CHECK_AS(ConfigError, n && *n > 0, cfg_path,
                  ": rank_pattern values must be positive integers, got ", v->dump());
      r_m = *n;
    }
    if (const json* v = pattern_value(alpha_pattern, slot.name, cfg_path, "alpha_pattern")) {
      AP_CHECK_AS(ConfigError, v->is_number(), cfg_path,
                  ": alpha_pattern values must be numbers, got ", v->dump());
      alpha_m = v->get<double>();
    }
    const auto din = slot.linear->in_features(), dout = slot.linear->out_features();
    auto lora = std::make_shared<LoraAdapterImpl>(din, dout, r_m, alpha_m, dropout);
    if (rslora) lora->set_scaling(alpha_m / std::sqrt(static_cast<double>(r_m)));
    const std::string hint =
        r_m == r ? "" : " (rank " + std::to_string(r_m) + " from rank_pattern)";
    try {
      copy_checked(lora->lora_A, it->second.a, weights_path, key + kSuffixA);
      copy_checked(lora->lora_B, it->second.b, weights_path, key + kSuffixB);
    } catch (const CheckpointError& e) {
      throw CheckpointError(e.what() + hint + "; r = " + std::to_string(r) + " in " + cfg_path);
    }
    slot.linear->set_adapter(lora);
    InjectedAdapter a = injected_for(slot);
    a.lora = lora;
    out.set.add(std::move(a));
  }
  for (const auto& [name, t] : saved) {
    auto* p = params.find(name);
    copy_checked(*p, t, weights_path, kPrefix + name);
    out.set.add_backbone_parameter(name, *p);
  }
  if (out.set.adapters().empty()) {
    throw CheckpointError(weights_path + ": holds no LoRA weights");
  }
  return out;
}

}  // namespace apportion
