// SPDX-License-Identifier: GPL-3.0-or-later
// The launcher's environment → DistEnv (see dist_env.h): torchrun-style and Slurm variables,
// Slurm host-list expansion, the derived port and the collective timeout.
#include "core/distributed/dist_env.h"

#include <cctype>
#include <cstdlib>

#include "core/common/error.h"

namespace apportion {
namespace {

/// A non-negative integer, or ConfigError naming the variable.
long long parse_count(const char* name, const char* text) {
  const std::string s = text;
  AP_CHECK_AS(ConfigError,
              !s.empty() && s.size() < 19 && s.find_first_not_of("0123456789") == std::string::npos,
              name, "=", s, ": expected a non-negative integer");
  return std::stoll(s);
}

/// Splits at commas outside brackets.
std::vector<std::string> split_top_level(const std::string& list) {
  std::vector<std::string> parts;
  std::string cur;
  int depth = 0;
  for (char c : list) {
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (c == ',' && depth == 0) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  parts.push_back(cur);
  return parts;
}

}  // namespace

std::string DistEnv::label() const {
  return "rank " + std::to_string(rank) + "/" + std::to_string(world_size);
}

std::vector<std::string> expand_slurm_nodelist(const std::string& list) {
  auto bad = [&](const std::string& why) {
    return ConfigError("Slurm node list '" + list + "': " + why);
  };
  std::vector<std::string> hosts;
  for (const std::string& item : split_top_level(list)) {
    if (item.empty()) throw bad("empty host name");
    const auto open = item.find('[');
    if (open == std::string::npos) {
      if (item.find(']') != std::string::npos) throw bad("unbalanced ']'");
      hosts.push_back(item);
      continue;
    }
    const auto close = item.find(']', open);
    if (close == std::string::npos) throw bad("unbalanced '['");
    const std::string prefix = item.substr(0, open);
    const std::string suffix = item.substr(close + 1);
    if (suffix.find_first_of("[]") != std::string::npos) {
      throw bad(
          "more than one bracket group in one name (expand it with `scontrol show "
          "hostnames` and set MASTER_ADDR)");
    }
    for (const std::string& range : split_top_level(item.substr(open + 1, close - open - 1))) {
      const auto dash = range.find('-');
      const std::string lo = range.substr(0, dash);
      const std::string hi = dash == std::string::npos ? lo : range.substr(dash + 1);
      const auto digits = [](const std::string& s) {
        return !s.empty() && s.size() < 10 &&
               s.find_first_not_of("0123456789") == std::string::npos;
      };
      if (!digits(lo) || !digits(hi)) throw bad("'" + range + "' is not a number or a range");
      const long a = std::stol(lo), b = std::stol(hi);
      if (b < a) throw bad("range '" + range + "' runs backwards");
      for (long n = a; n <= b; ++n) {
        std::string num = std::to_string(n);
        if (num.size() < lo.size()) num.insert(0, lo.size() - num.size(), '0');  // node[01-03]
        hosts.push_back(prefix + num + suffix);
      }
    }
  }
  return hosts;
}

int slurm_default_port(long long job_id, long long step_id) {
  const long long step = step_id < 0 ? 0 : step_id % 8;
  return static_cast<int>(10000 + (job_id % 100000 * 8 + step) % 20000);
}

DistEnv dist_env_from(const std::function<const char*(const char*)>& get) {
  DistEnv env;
  auto has = [&](const char* name) {
    const char* v = get(name);
    return v != nullptr && v[0] != '\0';
  };
  auto count = [&](const char* name) { return parse_count(name, get(name)); };
  if (has("APPORTION_DIST")) {
    const std::string mode = get("APPORTION_DIST");
    if (mode == "off" || mode == "0") return env;
    AP_CHECK_AS(ConfigError, mode == "auto" || mode == "on" || mode == "1", "APPORTION_DIST=", mode,
                ": expected off (ignore launcher variables) or auto");
  }
  if (has("APPORTION_DIST_TIMEOUT_S")) {
    const long long t = count("APPORTION_DIST_TIMEOUT_S");
    AP_CHECK_AS(ConfigError, t >= 1 && t <= 7 * 24 * 3600, "APPORTION_DIST_TIMEOUT_S=", t,
                ": expected 1 to 604800 seconds");
    env.timeout_s = static_cast<int>(t);
  }
  if (has("RANK") || has("WORLD_SIZE")) {
    AP_CHECK_AS(ConfigError, has("RANK") && has("WORLD_SIZE"),
                "RANK and WORLD_SIZE: a torchrun-style launch sets both (one is missing)");
    env.source = "torchrun";
    env.rank = static_cast<int>(count("RANK"));
    env.world_size = static_cast<int>(count("WORLD_SIZE"));
    env.local_rank = has("LOCAL_RANK") ? static_cast<int>(count("LOCAL_RANK")) : env.rank;
    env.master_addr = has("MASTER_ADDR") ? get("MASTER_ADDR") : "127.0.0.1";
    AP_CHECK_AS(ConfigError, has("MASTER_PORT") || env.world_size == 1,
                "MASTER_PORT: unset; a torchrun-style launch of ", env.world_size,
                " ranks needs MASTER_ADDR and MASTER_PORT (the rendezvous on rank 0's host)");
    env.master_port = has("MASTER_PORT") ? static_cast<int>(count("MASTER_PORT")) : 29500;
    env.agent_store = has("TORCHELASTIC_USE_AGENT_STORE") &&
                      std::string(get("TORCHELASTIC_USE_AGENT_STORE")) == "True";
  } else if (has("SLURM_PROCID")) {
    const char* tasks_var = has("SLURM_STEP_NUM_TASKS") ? "SLURM_STEP_NUM_TASKS" : "SLURM_NTASKS";
    if (!has(tasks_var)) return env;
    const long long tasks = count(tasks_var);
    if (tasks <= 1) return env;  // a one-task job: a plain process
    env.source = "slurm";
    env.rank = static_cast<int>(count("SLURM_PROCID"));
    env.world_size = static_cast<int>(tasks);
    env.local_rank = has("SLURM_LOCALID") ? static_cast<int>(count("SLURM_LOCALID")) : 0;
    if (has("MASTER_ADDR")) {
      env.master_addr = get("MASTER_ADDR");
    } else {
      const char* list_var =
          has("SLURM_STEP_NODELIST") ? "SLURM_STEP_NODELIST" : "SLURM_JOB_NODELIST";
      AP_CHECK_AS(ConfigError, has(list_var),
                  "SLURM_STEP_NODELIST / SLURM_JOB_NODELIST: unset, so rank 0's host is "
                  "unknown; set MASTER_ADDR");
      env.master_addr = expand_slurm_nodelist(get(list_var)).front();
    }
    if (has("MASTER_PORT")) {
      env.master_port = static_cast<int>(count("MASTER_PORT"));
    } else {
      AP_CHECK_AS(ConfigError, has("SLURM_JOB_ID"),
                  "MASTER_PORT: unset and SLURM_JOB_ID too, so no port can be derived; set "
                  "MASTER_PORT");
      const long long step = has("SLURM_STEP_ID") ? count("SLURM_STEP_ID") : 0;
      env.master_port = slurm_default_port(count("SLURM_JOB_ID"), step);
    }
  } else {
    return env;
  }
  const std::string vars =
      env.source == "slurm" ? "SLURM_PROCID / SLURM_NTASKS" : "RANK / WORLD_SIZE";
  AP_CHECK_AS(ConfigError, env.world_size >= 1 && env.world_size <= 65536, vars, ": world size ",
              env.world_size, " is out of range");
  AP_CHECK_AS(ConfigError, env.rank >= 0 && env.rank < env.world_size, vars, ": rank ", env.rank,
              " is outside 0..", env.world_size - 1);
  AP_CHECK_AS(ConfigError, env.master_port >= 1 && env.master_port <= 65535,
              "MASTER_PORT=", env.master_port, ": expected a TCP port (1 to 65535)");
  AP_CHECK_AS(ConfigError, !env.master_addr.empty(), "MASTER_ADDR: empty");
  return env;
}

DistEnv dist_env_from_environment() {
  return dist_env_from([](const char* name) { return std::getenv(name); });
}

}  // namespace apportion
