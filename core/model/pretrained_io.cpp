// SPDX-License-Identifier: GPL-3.0-or-later
// load_pretrained / save_pretrained: the HF folder layout (config.json + model.safetensors, or
// shards listed in model.safetensors.index.json) read into a TransformerLM by parameter name.
// Loading plans everything from the headers first (every parameter present with the right shape
// and a float dtype, every tensor used) and only then maps each file in turn and copies its
// tensors once into the parameters, converting to the requested dtype. Two tolerated extras,
// both HF artefacts: `lm_head.weight` when the embeddings are tied, and old
// `…rotary_emb.inv_freq` buffers (we recompute them). Adapter parameters (names containing
// ".adapter.") are never read or written.
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/common/error.h"
#include "core/common/json_parse.h"
#include "core/model/checkpoint_files.h"
#include "core/model/transformer_lm.h"
#include "core/tensor/safetensors.h"

namespace apportion {
namespace {

namespace fs = std::filesystem;

nlohmann::json read_json(const fs::path& path) {
  AP_CHECK_AS(ModelError, fs::exists(path), "cannot open '", path.string(),
              "'; a pretrained model folder needs config.json and model.safetensors");
  try {
    return read_json_file_bounded(path.string(), JsonLimits::config());
  } catch (const JsonInputError& e) {
    throw ModelError("'" + path.string() + "', " + e.where() + ": " + e.reason() +
                     "; re-download or re-export the model");
  }
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_float_dtype(const std::string& dtype) {
  return dtype == "F32" || dtype == "F16" || dtype == "BF16";
}

c10::ScalarType scalar_type_of(const std::string& dtype) {
  if (dtype == "F16") return torch::kFloat16;
  if (dtype == "BF16") return torch::kBFloat16;
  return torch::kFloat32;
}

const char* torch_dtype_name(c10::ScalarType t) {
  if (t == torch::kFloat16) return "float16";
  if (t == torch::kBFloat16) return "bfloat16";
  return "float32";
}

/// The checkpoint's own dtype: the float dtype holding the most elements.
c10::ScalarType checkpoint_dtype(const CheckpointFiles& files) {
  std::map<std::string, int64_t> elements;
  for (const auto& f : files.files) {
    for (const auto& e : f.entries) {
      if (is_float_dtype(e.dtype)) elements[e.dtype] += e.numel();
    }
  }
  std::string best = "F32";
  int64_t most = -1;
  for (const auto& [dtype, n] : elements) {
    if (n > most) {
      best = dtype;
      most = n;
    }
  }
  return scalar_type_of(best);
}

std::string shape_string(at::IntArrayRef sizes) {
  std::ostringstream s;
  s << sizes;
  return s.str();
}

}  // namespace

TransformerLM load_pretrained(const std::string& dir, const LoadOptions& options) {
  const fs::path root(dir);
  const fs::path config_path = root / "config.json";
  auto cfg = ModelConfig::from_json(read_json(config_path), config_path.string());
  const CheckpointFiles files = read_checkpoint_files(dir);
  const c10::ScalarType dtype = options.dtype.value_or(checkpoint_dtype(files));
  cfg.torch_dtype = torch_dtype_name(dtype);
  BuildOptions build;
  build.dtype = dtype;
  build.device = options.device;
  build.init_weights = false;
  TransformerLM model(cfg, build);

  // Plan: parameter -> its checkpoint entry, every check done before any data is read.
  std::vector<std::vector<std::pair<torch::Tensor, const SafetensorsEntry*>>> per_file(
      files.files.size());
  std::set<std::string> used;
  for (auto& item : model->named_parameters(/*recurse=*/true)) {
    const std::string& name = item.key();
    if (name.find(".adapter.") != std::string::npos) continue;
    auto it = files.tensors.find(name);
    if (it == files.tensors.end()) {
      throw CheckpointError("tensor '" + name + "' is missing from the checkpoint in '" + dir +
                            "'; the weights do not match config.json (wrong model folder?)");
    }
    const auto& entry = files.entry(name);
    const auto& file = files.file_of(name);
    if (!is_float_dtype(entry.dtype)) {
      throw CheckpointError("tensor '" + name + "' in '" + file + "' has dtype " + entry.dtype +
                            ", expected F32, F16 or BF16; re-export the model with "
                            "floating-point weights");
    }
    if (at::IntArrayRef(entry.shape) != item.value().sizes()) {
      throw CheckpointError("tensor '" + name + "' in '" + file + "' has shape " +
                            shape_string(entry.shape) + " but config.json implies " +
                            shape_string(item.value().sizes()) +
                            "; the weights do not match config.json");
    }
    per_file[it->second.first].emplace_back(item.value(), &entry);
    used.insert(name);
  }
  std::vector<std::string> extra;
  for (const auto& [name, where] : files.tensors) {
    if (used.count(name)) continue;
    if (cfg.tie_word_embeddings && name == "lm_head.weight") continue;
    if (ends_with(name, "rotary_emb.inv_freq")) continue;
    extra.push_back("'" + name + "' (" + files.files[where.first].path + ")");
  }
  if (!extra.empty()) {
    std::string list;
    for (size_t i = 0; i < extra.size() && i < 5; ++i) list += (i ? ", " : "") + extra[i];
    if (extra.size() > 5) list += ", … (" + std::to_string(extra.size()) + " in all)";
    throw CheckpointError("unexpected tensor " + list + " in '" + dir +
                          "': the checkpoint has weights the model does not (check config.json)");
  }

  // Copy: one file mapped at a time, each tensor copied once (with dtype conversion).
  torch::NoGradGuard no_grad;
  for (size_t f = 0; f < files.files.size(); ++f) {
    if (per_file[f].empty()) continue;
    SafetensorsReader reader(files.files[f].path);
    for (auto& [param, entry] : per_file[f]) {
      const SafetensorsEntry* e = reader.header().find(entry->name);
      AP_CHECK_AS(CheckpointError, e != nullptr && e->shape == entry->shape, "'",
                  files.files[f].path, "' changed while the model was loading; load it again");
      param.copy_(reader.view(*e));
    }
  }
  return model;
}

void save_pretrained(TransformerLM& model, const std::string& dir) {
  const fs::path root(dir);
  std::error_code ec;
  fs::create_directories(root, ec);
  AP_CHECK_AS(CheckpointError, !ec, "cannot create '", dir, "': ", ec.message());
  std::map<std::string, at::Tensor> tensors;
  c10::ScalarType dtype = torch::kFloat32;
  for (const auto& item : model->named_parameters(/*recurse=*/true)) {
    if (item.key().find(".adapter.") != std::string::npos) continue;
    tensors.emplace(item.key(), item.value().detach());
    if (item.key() == "model.embed_tokens.weight") dtype = item.value().scalar_type();
  }
  model->set_torch_dtype(torch_dtype_name(dtype));
  {
    const fs::path cfg_path = root / "config.json";
    std::ofstream out(cfg_path);
    AP_CHECK_AS(CheckpointError, static_cast<bool>(out), "cannot write '", cfg_path.string(), "'");
    out << model->config().to_json().dump(2) << "\n";
    AP_CHECK_AS(CheckpointError, static_cast<bool>(out), "writing '", cfg_path.string(),
                "' failed; check free disk space");
  }
  save_safetensors((root / "model.safetensors").string(), tensors, {{"format", "pt"}});
}

}  // namespace apportion
