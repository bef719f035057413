// SPDX-License-Identifier: GPL-3.0-or-later
// Launch records as JSON files in <workspace>/remote/ (see launch_record.h).
#include "core/remote/launch_record.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "core/common/durable_file.h"
#include "core/common/error.h"
#include "core/common/json_parse.h"
#include "core/common/uuid.h"
#include "core/config/json_reader.h"

namespace apportion {
namespace fs = std::filesystem;

nlohmann::json to_json(const LaunchRecord& r) {
  nlohmann::json attempts = nlohmann::json::array();
  for (const auto& a : r.attempts) {
    attempts.push_back({{"kind", a.kind},
                        {"handle", a.handle},
                        {"submitted_ms", a.submitted_ms},
                        {"run_id", a.run_id}});
  }
  return {{"key", r.key},
          {"profile", r.profile},
          {"profile_name", r.profile_name},
          {"remote_dir", r.remote_dir},
          {"store", r.store},
          {"config_name", r.config_name},
          {"sweep", r.sweep},
          {"member", r.member},
          {"train_args", r.train_args},
          {"attempts", attempts},
          {"ended", r.ended}};
}

LaunchRecord launch_record_from_json(const nlohmann::json& j, const std::string& where) {
  try {
    if (!j.is_object()) config_fail("", "a launch record must be a JSON object");
    LaunchRecord r;
    JsonObjectReader rd(j, "");
    rd.get("key", r.key);
    if (const auto* p = rd.raw("profile")) r.profile = *p;
    rd.get("profile_name", r.profile_name);
    rd.get("remote_dir", r.remote_dir);
    rd.get("store", r.store);
    rd.get("config_name", r.config_name);
    rd.get("sweep", r.sweep);
    rd.get("member", r.member);
    rd.get("train_args", r.train_args);
    rd.get("ended", r.ended);
    const auto* attempts = rd.raw("attempts");
    if (!attempts || !attempts->is_array()) config_fail("attempts", "must be an array");
    for (size_t i = 0; i < attempts->size(); ++i) {
      JsonObjectReader a((*attempts)[i], "attempts[" + std::to_string(i) + "]");
      LaunchAttempt at;
      a.get("kind", at.kind);
      a.get("handle", at.handle);
      double ms = 0;
      a.get("submitted_ms", ms);
      at.submitted_ms = static_cast<int64_t>(ms);
      a.get("run_id", at.run_id);
      a.finish();
      r.attempts.push_back(at);
    }
    rd.finish();
    return r;
  } catch (const ConfigError& e) {
    throw ConfigError(where + ": " + e.what() +
                      " (a launch record of this workspace; move it away to forget the launch)");
  }
}

std::string launch_records_dir(const std::string& workspace_dir) {
  return (fs::path(workspace_dir) / "remote").string();
}

void save_launch_record(const std::string& workspace_dir, const LaunchRecord& r) {
  const fs::path dir = launch_records_dir(workspace_dir);
  fs::create_directories(dir);
  const std::string path = (dir / (r.key + ".json")).string();
  {
    std::ofstream f(path + ".tmp", std::ios::trunc);
    f << to_json(r).dump(2) << "\n";
    if (!f) throw StoreError("cannot write " + path + ".tmp");
  }
  publish_file(path + ".tmp", path);
}

std::vector<LaunchRecord> list_launch_records(const std::string& workspace_dir) {
  std::vector<LaunchRecord> out;
  const fs::path dir = launch_records_dir(workspace_dir);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".json") continue;
    const std::string path = e.path().string();
    nlohmann::json j;
    try {
      j = read_json_file_bounded(path, JsonLimits::config());
    } catch (const std::exception& ex) {
      throw ConfigError(path + ": " + ex.what() +
                        " (a launch record of this workspace; move it away to forget the launch)");
    }
    out.push_back(launch_record_from_json(j, path));
  }
  std::sort(out.begin(), out.end(),
            [](const LaunchRecord& a, const LaunchRecord& b) { return a.key < b.key; });
  return out;
}

std::optional<LaunchRecord> find_launch_record(const std::string& workspace_dir,
                                               const std::string& key) {
  for (auto& r : list_launch_records(workspace_dir)) {
    if (r.key == key) return r;
  }
  return std::nullopt;
}

std::string new_launch_key(const std::string& prefix) {
  return prefix + "-" + make_uuid_hex().substr(0, 8);
}

}  // namespace apportion
