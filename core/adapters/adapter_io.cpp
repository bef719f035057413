// SPDX-License-Identifier: GPL-3.0-or-later
// Format detection, the run's adapters.safetensors, summaries, and the helpers the two folder
// formats share (adapter_io_util.h).
#include "core/adapters/adapter_io.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/adapters/adapter_io_util.h"
#include "core/adapters/lora_adapter.h"
#include "core/adapters/moe_lora_adapter.h"
#include "core/common/error.h"
#include "core/common/json_parse.h"
#include "core/config/experiment_config.h"
#include "core/tensor/safetensors.h"

namespace apportion {
namespace fs = std::filesystem;

namespace adapter_io {

std::map<std::string, ProjectionSlot> slots_by_name(TransformerLM& model) {
  std::map<std::string, ProjectionSlot> out;
  for (auto& slot : model->projections()) out.emplace(slot.name, slot);
  return out;
}

InjectedAdapter injected_for(const ProjectionSlot& slot) {
  InjectedAdapter a;
  a.layer = slot.layer;
  a.module = slot.module;
  a.name = slot.name;
  a.expert = slot.expert;
  a.shared_expert = slot.shared_expert;
  return a;
}

nlohmann::json read_json_object(const std::string& path) {
  if (!fs::exists(path)) throw ConfigError(path + ": no such file");
  auto j = load_json_file(path);
  if (!j.is_object()) throw ConfigError(path + ": must hold a JSON object");
  return j;
}

void write_json(const std::string& path, const nlohmann::json& j) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << j.dump(2) << "\n";
  if (!out) throw CheckpointError(path + ": cannot write (disk full or no permission?)");
}

const nlohmann::json& require_field(const nlohmann::json& j,
                                    const std::string& key,
                                    const std::string& file) {
  const auto it = j.find(key);
  if (it == j.end()) {
    throw ConfigError(file + ": missing field \"" + key +
                      "\"; the file is incomplete, export the adapter again");
  }
  return *it;
}

int positive_int_field(const nlohmann::json& j, const std::string& key, const std::string& file) {
  const auto& v = require_field(j, key, file);
  const auto n = v.is_number_integer() ? json_to_integer<int>(v) : std::nullopt;
  if (!n || *n <= 0) {
    throw ConfigError(file + ": field \"" + key + "\" must be a positive integer, got " + v.dump());
  }
  return *n;
}

double number_field(const nlohmann::json& j, const std::string& key, const std::string& file) {
  const auto& v = require_field(j, key, file);
  if (!v.is_number()) {
    throw ConfigError(file + ": field \"" + key + "\" must be a number, got " + v.dump());
  }
  return v.get<double>();
}

std::string string_field(const nlohmann::json& j, const std::string& key, const std::string& file) {
  const auto& v = require_field(j, key, file);
  if (!v.is_string()) {
    throw ConfigError(file + ": field \"" + key + "\" must be a string, got " + v.dump());
  }
  return v.get<std::string>();
}

nlohmann::json json_number(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::abs(v) < 1e15) {
    return static_cast<int64_t>(v);
  }
  return v;
}

std::string shape_string(at::IntArrayRef sizes) {
  std::string s = "[";
  for (size_t i = 0; i < sizes.size(); ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
  return s + "]";
}

void copy_checked(const at::Tensor& dst,
                  const at::Tensor& src,
                  const std::string& file,
                  const std::string& key) {
  if (!src.is_floating_point()) {
    throw CheckpointError(file + ": tensor '" + key + "' has dtype " +
                          std::string(c10::toString(src.scalar_type())) +
                          "; adapter weights must be floating point");
  }
  if (src.sizes() != dst.sizes()) {
    throw CheckpointError(file + ": tensor '" + key + "' has shape " + shape_string(src.sizes()) +
                          " but the model expects " + shape_string(dst.sizes()));
  }
  torch::NoGradGuard no_grad;
  dst.copy_(src.to(dst.device(), dst.scalar_type()));
}

at::Tensor cpu_f32(const at::Tensor& t) {
  return t.detach().to(torch::kCPU, torch::kFloat32).contiguous().clone();
}

}  // namespace adapter_io

AdapterExportOptions export_options_from(const AdapterConfig& cfg,
                                         const std::string& base_model_name_or_path) {
  AdapterExportOptions o;
  o.base_model_name_or_path = base_model_name_or_path;
  o.method = cfg.method;
  o.target_modules = cfg.target_modules;
  o.r = cfg.r;
  o.lora_alpha = cfg.lora_alpha;
  o.lora_dropout = cfg.lora_dropout;
  return o;
}

LoadedAdapter load_adapter(TransformerLM& model, const std::string& dir) {
  const fs::path d(dir);
  if (!fs::is_directory(d)) {
    throw CheckpointError(dir + ": no such adapter folder");
  }
  if (fs::exists(d / "apportion_adapter.json")) return load_lora_moe_adapter(model, dir);
  if (fs::exists(d / "adapter_config.json")) return load_peft_adapter(model, dir);
  throw CheckpointError(dir +
                        ": holds neither adapter_config.json (a PEFT LoRA adapter) nor "
                        "apportion_adapter.json (an Apportion LoRA-MoE adapter)");
}

void load_adapter_weights(const AdapterSet& set, const std::string& path) {
  const SafetensorsFile file = load_safetensors(path);
  std::set<std::string> used;
  for (const auto& [name, param] : set.named_parameters()) {
    const auto it = file.tensors.find(name);
    if (it == file.tensors.end()) {
      throw CheckpointError(path + ": tensor '" + name +
                            "' is missing; the file does not belong to this run's config");
    }
    adapter_io::copy_checked(param, it->second, path, name);
    used.insert(name);
  }
  for (const auto& [name, t] : file.tensors) {
    if (!used.count(name)) {
      throw CheckpointError(path + ": unexpected tensor '" + name +
                            "'; the file does not belong to this run's config");
    }
  }
}

std::string adapter_method(const AdapterSet& set) {
  for (const auto& a : set.adapters()) {
    if (a.moe) return "moe_lora";
  }
  return "lora";
}

nlohmann::json adapter_summary(const AdapterSet& set) {
  static const std::vector<std::string> kOrder = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                                  "gate_proj", "up_proj", "down_proj"};
  std::set<std::string> modules;
  std::set<int> ranks;
  int lora = 0, moe = 0, experts = 0, expert_slots = 0;
  for (const auto& a : set.adapters()) {
    modules.insert(a.module);
    if (a.expert >= 0) ++expert_slots;
    if (a.moe) {
      ++moe;
      experts += a.moe->num_experts();
      for (int r : a.moe->ranks()) ranks.insert(r);
    } else if (a.lora) {
      ++lora;
      ranks.insert(a.lora->active_rank());
    }
  }
  nlohmann::json ordered = nlohmann::json::array();
  for (const auto& m : kOrder) {
    if (modules.count(m)) ordered.push_back(m);
  }
  nlohmann::json backbone = nlohmann::json::array();
  for (const auto& [name, t] : set.backbone_parameters()) backbone.push_back(name);
  return {{"method", adapter_method(set)},
          {"projections", set.adapters().size()},
          {"modules", ordered},
          {"lora_projections", lora},
          {"moe_lora_projections", moe},
          {"backbone_expert_projections", expert_slots},
          {"lora_moe_experts", experts},
          {"ranks", std::vector<int>(ranks.begin(), ranks.end())},
          {"parameters", set.parameter_count()},
          {"backbone_parameters", backbone}};
}

}  // namespace apportion
