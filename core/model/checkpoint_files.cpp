// SPDX-License-Identifier: GPL-3.0-or-later
// Discovery and cross-checking of an HF folder's safetensors files (see checkpoint_files.h).
// As in transformers, model.safetensors wins over an index when both exist.
#include "core/model/checkpoint_files.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/common/error.h"
#include "core/common/json_parse.h"

namespace apportion {
namespace {

namespace fs = std::filesystem;

nlohmann::json read_index(const fs::path& path) {
  AP_CHECK_AS(CheckpointError, fs::exists(path), "cannot open '", path.string(), "'");
  try {
    return read_json_file_bounded(path.string(), JsonLimits::config());
  } catch (const JsonInputError& e) {
    throw CheckpointError("'" + path.string() + "', " + e.where() + ": " + e.reason() +
                          "; re-download the model");
  }
}

}  // namespace

const SafetensorsEntry& CheckpointFiles::entry(const std::string& name) const {
  const auto& [f, e] = tensors.at(name);
  return files.at(f).entries.at(e);
}

const std::string& CheckpointFiles::file_of(const std::string& name) const {
  return files.at(tensors.at(name).first).path;
}

CheckpointFiles read_checkpoint_files(const std::string& dir) {
  CheckpointFiles out;
  out.dir = dir;
  const fs::path root(dir);
  const fs::path single = root / "model.safetensors";
  const fs::path index = root / "model.safetensors.index.json";
  std::map<std::string, std::string> weight_map;  // tensor -> shard file name
  std::vector<fs::path> paths;
  if (fs::exists(single)) {
    paths.push_back(single);
  } else if (fs::exists(index)) {
    out.index_path = index.string();
    const auto j = read_index(index);
    auto wm = j.is_object() ? j.find("weight_map") : j.end();
    AP_CHECK_AS(CheckpointError, j.is_object() && wm != j.end() && wm->is_object(), "'",
                index.string(), "' has no weight_map object; re-download the model");
    std::set<std::string> shards;
    for (const auto& [name, file] : wm->items()) {
      AP_CHECK_AS(CheckpointError, file.is_string(), "'", index.string(), "': weight_map['", name,
                  "'] is not a file name");
      const auto shard = file.get<std::string>();
      const fs::path p(shard);
      AP_CHECK_AS(
          CheckpointError,
          !shard.empty() && p.is_relative() && p.filename() == p && shard != "." && shard != "..",
          "'", index.string(), "': weight_map['", name, "'] = '", shard,
          "' must be a file name inside the model folder");
      weight_map[name] = shard;
      shards.insert(shard);
    }
    for (const auto& s : shards) {
      AP_CHECK_AS(CheckpointError, fs::exists(root / s), "shard '", s, "' listed in '",
                  index.string(), "' is missing from '", dir,
                  "'; download every model-*.safetensors file");
      paths.push_back(root / s);
    }
  } else {
    throw CheckpointError("no weights in '" + dir +
                          "': expected model.safetensors (or model.safetensors.index.json); "
                          "export the model with safetensors");
  }
  for (const auto& p : paths) {
    out.files.push_back(read_safetensors_header(p.string()));
    const size_t f = out.files.size() - 1;
    const auto& header = out.files.back();
    for (size_t e = 0; e < header.entries.size(); ++e) {
      const auto& name = header.entries[e].name;
      auto [it, inserted] = out.tensors.emplace(name, std::make_pair(f, e));
      AP_CHECK_AS(CheckpointError, inserted, "tensor '", name, "' appears in both '",
                  out.files[it->second.first].path, "' and '", header.path,
                  "'; re-download the model");
      if (!out.index_path.empty()) {
        auto w = weight_map.find(name);
        AP_CHECK_AS(CheckpointError, w != weight_map.end() && root / w->second == p, "tensor '",
                    name, "' is in '", header.path, "' but '", out.index_path, "' ",
                    w == weight_map.end() ? std::string("does not list it")
                                          : "maps it to '" + w->second + "'",
                    "; re-download the model");
      }
    }
  }
  for (const auto& [name, shard] : weight_map) {
    AP_CHECK_AS(CheckpointError, out.tensors.count(name) > 0, "tensor '", name, "' is listed in '",
                out.index_path, "' under '", shard,
                "' but that shard does not contain it; "
                "re-download the model");
  }
  return out;
}

}  // namespace apportion
