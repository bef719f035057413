// SPDX-License-Identifier: GPL-3.0-or-later
// Reading executor profiles (see executor_profile.h).
#include "core/remote/executor_profile.h"

#include <cstdlib>
#include <filesystem>

#include "core/common/error.h"
#include "core/common/json_parse.h"
#include "core/config/json_reader.h"

namespace apportion {
namespace fs = std::filesystem;

const char* to_string(ExecutorKind kind) {
  switch (kind) {
    case ExecutorKind::Local:
      return "local";
    case ExecutorKind::Ssh:
      return "ssh";
    case ExecutorKind::Slurm:
      return "slurm";
  }
  return "?";
}

namespace {

SshTarget read_ssh(JsonObjectReader& r) {
  SshTarget t;
  if (r.has("host")) r.get("host", t.host);
  if (r.has("user")) r.get("user", t.user);
  if (r.has("port")) r.get("port", t.port);
  if (r.has("identity_file")) r.get("identity_file", t.identity_file);
  if (r.has("ssh_options")) r.get("ssh_options", t.options);
  if (r.has("multiplex")) r.get("multiplex", t.multiplex);
  config_require(t.port >= 0 && t.port <= 65535, r.child("port"), "must be 0..65535" + got(t.port));
  return t;
}

}  // namespace

ExecutorProfile executor_profile_from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) config_fail(where, "a profile must be a JSON object {…}");
  ExecutorProfile p;
  p.json = j;
  JsonObjectReader r(j, "");
  std::string kind;
  r.get("kind", kind);
  if (kind == "local") {
    p.kind = ExecutorKind::Local;
  } else if (kind == "ssh") {
    p.kind = ExecutorKind::Ssh;
  } else if (kind == "slurm") {
    p.kind = ExecutorKind::Slurm;
  } else {
    config_fail("kind", "must be \"local\", \"ssh\" or \"slurm\"" + got(kind));
  }
  p.ssh = read_ssh(r);
  if (r.has("apportion")) r.get("apportion", p.apportion);
  if (r.has("workspace")) r.get("workspace", p.remote_workspace);
  if (r.has("max_parallel")) r.get("max_parallel", p.max_parallel);
  if (r.has("device")) r.get("device", p.device);
  config_require(p.max_parallel >= 1 && p.max_parallel <= 10000, "max_parallel",
                 "must be 1..10000" + got(p.max_parallel));
  if (p.kind == ExecutorKind::Slurm) {
    if (r.has("partition")) r.get("partition", p.slurm.partition);
    if (r.has("gpus_per_task")) r.get("gpus_per_task", p.slurm.gpus_per_task);
    if (r.has("cpus_per_task")) r.get("cpus_per_task", p.slurm.cpus_per_task);
    if (r.has("ntasks")) r.get("ntasks", p.slurm.ntasks);
    if (r.has("time_limit")) r.get("time_limit", p.slurm.time_limit);
    if (r.has("sbatch_lines")) r.get("sbatch_lines", p.slurm.sbatch_lines);
    config_require(p.slurm.gpus_per_task >= 0 && p.slurm.gpus_per_task <= 64, "gpus_per_task",
                   "must be 0..64" + got(p.slurm.gpus_per_task));
    config_require(p.slurm.cpus_per_task >= 0 && p.slurm.cpus_per_task <= 4096, "cpus_per_task",
                   "must be 0..4096" + got(p.slurm.cpus_per_task));
    config_require(p.slurm.ntasks >= 1 && p.slurm.ntasks <= 4096, "ntasks",
                   "must be 1..4096" + got(p.slurm.ntasks));
    for (const auto& line : p.slurm.sbatch_lines) {
      config_require(line.find('\n') == std::string::npos, "sbatch_lines",
                     "one option per entry, without newlines" + got(line));
    }
  }
  if (p.kind == ExecutorKind::Ssh) {
    config_require(!p.ssh.host.empty(), "host", "an ssh profile needs the host to connect to");
  }
  if (p.kind != ExecutorKind::Local) {
    config_require(!p.remote_workspace.empty() && p.remote_workspace.front() == '/', "workspace",
                   "the remote workspace folder, an absolute path" + got(p.remote_workspace));
  }
  try {
    r.finish();
  } catch (const ConfigError& e) {
    throw ConfigError(where + ": " + e.what());
  }
  return p;
}

std::string executor_profile_path(const std::string& name_or_path) {
  if (name_or_path.find('/') != std::string::npos ||
      fs::path(name_or_path).extension() == ".json") {
    return name_or_path;
  }
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  const char* home = std::getenv("HOME");
  const fs::path base =
      xdg && *xdg ? fs::path(xdg) : fs::path(home && *home ? home : ".") / ".config";
  return (base / "apportion" / "profiles" / (name_or_path + ".json")).string();
}

ExecutorProfile load_executor_profile(const std::string& name_or_path) {
  const std::string path = executor_profile_path(name_or_path);
  if (name_or_path == "local" && !fs::exists(path)) {
    ExecutorProfile p = executor_profile_from_json({{"kind", "local"}}, "local");
    p.name = "local";
    return p;
  }
  if (!fs::exists(path)) {
    throw ConfigError("--on " + name_or_path + ": no profile file " + path +
                      "; write one (docs/REMOTE.md shows local, ssh and slurm profiles) or pass "
                      "a path to a profile .json");
  }
  nlohmann::json j;
  try {
    j = read_json_file_bounded(path, JsonLimits::config());
  } catch (const std::exception& e) {
    throw ConfigError(path + ": " + e.what());
  }
  ExecutorProfile p;
  try {
    p = executor_profile_from_json(j, path);
  } catch (const ConfigError& e) {
    const std::string what = e.what();
    throw ConfigError(what.rfind(path, 0) == 0 ? what : path + ": " + what);
  }
  p.name = fs::path(path).stem().string();
  p.file = path;
  return p;
}

}  // namespace apportion
