// SPDX-License-Identifier: GPL-3.0-or-later
// load_pretrained / save_pretrained: the HF folder layout (config.json + model.safetensors, or
// sharded model-0000N-of-0000M.safetensors listed in model.safetensors.index.json) read into a
// TransformerLM by parameter name. Loading is strict: every backbone parameter must be present
// with the right shape and a floating dtype (F16/BF16 are converted to F32), and every tensor in
// the files must be used. Two tolerated extras, both HF artefacts: `lm_head.weight` when the
// embeddings are tied, and old `…rotary_emb.inv_freq` buffers (we recompute them).
// Adapter parameters (names containing ".adapter.") are never written.
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/common/error.h"
#include "core/model/transformer_lm.h"
#include "core/tensor/safetensors.h"

namespace apportion {
namespace {

namespace fs = std::filesystem;

nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  AP_CHECK_AS(ModelError, static_cast<bool>(in), "cannot open '", path.string(),
              "'; a pretrained model folder needs config.json and model.safetensors");
  std::stringstream buf;
  buf << in.rdbuf();
  auto j = nlohmann::json::parse(buf.str(), nullptr, /*allow_exceptions=*/false);
  AP_CHECK_AS(ModelError, !j.is_discarded(), "'", path.string(),
              "' is not valid JSON; re-download or re-export the model");
  return j;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// One tensor from the checkpoint and the file it came from.
struct Source {
  torch::Tensor tensor;
  std::string file;
};

/// Reads model.safetensors, or the shards named by model.safetensors.index.json.
std::map<std::string, Source> read_weights(const fs::path& dir) {
  std::map<std::string, Source> out;
  std::vector<fs::path> files;
  const fs::path single = dir / "model.safetensors";
  const fs::path index = dir / "model.safetensors.index.json";
  if (fs::exists(single)) {
    files.push_back(single);
  } else if (fs::exists(index)) {
    auto j = read_json(index);
    auto wm = j.find("weight_map");
    AP_CHECK_AS(CheckpointError, j.is_object() && wm != j.end() && wm->is_object(), "'",
                index.string(), "' has no weight_map object; re-download the model");
    std::set<std::string> shards;
    for (const auto& [name, file] : wm->items()) {
      AP_CHECK_AS(CheckpointError, file.is_string(), "'", index.string(), "': weight_map['", name,
                  "'] is not a file name");
      shards.insert(file.get<std::string>());
    }
    for (const auto& s : shards) files.push_back(dir / s);
  } else {
    throw CheckpointError("no weights in '" + dir.string() +
                          "': expected model.safetensors (or model.safetensors.index.json); "
                          "export the model with safetensors");
  }
  for (const auto& f : files) {
    auto st = load_safetensors(f.string());
    for (auto& [name, t] : st.tensors) {
      auto [it, inserted] = out.emplace(name, Source{t, f.string()});
      AP_CHECK_AS(CheckpointError, inserted, "tensor '", name, "' appears in both '",
                  it->second.file, "' and '", f.string(), "'; re-download the model");
    }
  }
  return out;
}

}  // namespace

TransformerLM load_pretrained(const std::string& dir) {
  const fs::path root(dir);
  const fs::path config_path = root / "config.json";
  auto cfg = LlamaConfig::from_json(read_json(config_path), config_path.string());
  TransformerLM model(cfg);
  auto weights = read_weights(root);

  torch::NoGradGuard no_grad;
  std::set<std::string> used;
  for (auto& item : model->named_parameters(/*recurse=*/true)) {
    const std::string& name = item.key();
    if (name.find(".adapter.") != std::string::npos) continue;
    auto& param = item.value();
    auto it = weights.find(name);
    if (it == weights.end()) {
      throw CheckpointError("tensor '" + name + "' is missing from the checkpoint in '" + dir +
                            "'; the weights do not match config.json (wrong model folder?)");
    }
    const auto& src = it->second;
    const auto type = src.tensor.scalar_type();
    if (type != torch::kFloat32 && type != torch::kFloat16 && type != torch::kBFloat16) {
      std::ostringstream msg;
      msg << "tensor '" << name << "' in '" << src.file << "' has dtype " << type
          << ", expected F32, F16 or BF16; re-export the model with floating-point weights";
      throw CheckpointError(msg.str());
    }
    if (src.tensor.sizes() != param.sizes()) {
      std::ostringstream msg;
      msg << "tensor '" << name << "' in '" << src.file << "' has shape " << src.tensor.sizes()
          << " but config.json implies " << param.sizes()
          << "; the weights do not match config.json";
      throw CheckpointError(msg.str());
    }
    param.copy_(src.tensor.to(torch::kFloat32));
    used.insert(name);
  }
  std::vector<std::string> extra;
  for (const auto& [name, src] : weights) {
    if (used.count(name)) continue;
    if (cfg.tie_word_embeddings && name == "lm_head.weight") continue;
    if (ends_with(name, "rotary_emb.inv_freq")) continue;
    extra.push_back("'" + name + "' (" + src.file + ")");
  }
  if (!extra.empty()) {
    std::string list;
    for (size_t i = 0; i < extra.size() && i < 5; ++i) list += (i ? ", " : "") + extra[i];
    if (extra.size() > 5) list += ", … (" + std::to_string(extra.size()) + " in all)";
    throw CheckpointError("unexpected tensor " + list + " in '" + dir +
                          "': the checkpoint has weights the model does not (check config.json)");
  }
  return model;
}

void save_pretrained(TransformerLM& model, const std::string& dir) {
  const fs::path root(dir);
  std::error_code ec;
  fs::create_directories(root, ec);
  AP_CHECK_AS(CheckpointError, !ec, "cannot create '", dir, "': ", ec.message());
  {
    const fs::path cfg_path = root / "config.json";
    std::ofstream out(cfg_path);
    AP_CHECK_AS(CheckpointError, static_cast<bool>(out), "cannot write '", cfg_path.string(), "'");
    out << model->config().to_json().dump(2) << "\n";
    AP_CHECK_AS(CheckpointError, static_cast<bool>(out), "writing '", cfg_path.string(),
                "' failed; check free disk space");
  }
  std::map<std::string, at::Tensor> tensors;
  for (const auto& item : model->named_parameters(/*recurse=*/true)) {
    if (item.key().find(".adapter.") != std::string::npos) continue;
    tensors.emplace(item.key(), item.value().detach().to(torch::kFloat32));
  }
  save_safetensors((root / "model.safetensors").string(), tensors, {{"format", "pt"}});
}

}  // namespace apportion
