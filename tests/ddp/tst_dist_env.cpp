// SPDX-License-Identifier: GPL-3.0-or-later
// The launcher-environment parser (core/distributed/dist_env.h): torchrun-style and Slurm
// variables, Slurm host lists, the derived port, APPORTION_DIST=off and malformed values.
// Torch-free; prints each failed check and exits non-zero.
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/distributed/dist_env.h"

using apportion::ConfigError;
using apportion::DistEnv;

namespace {

int failures = 0;

void check(bool ok, const std::string& what) {
  if (!ok) {
    std::cerr << "FAIL: " << what << "\n";
    ++failures;
  }
}

DistEnv parse(const std::map<std::string, std::string>& vars) {
  return apportion::dist_env_from([&](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

/// The ConfigError message of parsing `vars`, or "" when it parses.
std::string error_of(const std::map<std::string, std::string>& vars) {
  try {
    parse(vars);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

int main() {
  // A plain process.
  check(!parse({}).distributed(), "no variables: not distributed");
  // torchrun-style.
  DistEnv t = parse({{"RANK", "1"},
                     {"WORLD_SIZE", "2"},
                     {"LOCAL_RANK", "1"},
                     {"MASTER_ADDR", "10.0.0.5"},
                     {"MASTER_PORT", "29511"}});
  check(t.distributed() && t.source == "torchrun", "torchrun: source");
  check(t.rank == 1 && t.world_size == 2 && t.local_rank == 1, "torchrun: rank/world/local");
  check(t.master_addr == "10.0.0.5" && t.master_port == 29511, "torchrun: address");
  check(t.label() == "rank 1/2", "label");
  check(!t.agent_store, "no agent store by default");
  check(parse({{"RANK", "0"},
               {"WORLD_SIZE", "2"},
               {"MASTER_PORT", "9"},
               {"TORCHELASTIC_USE_AGENT_STORE", "True"}})
            .agent_store,
        "torchrun's agent store");
  check(parse({{"RANK", "0"}, {"WORLD_SIZE", "1"}}).distributed(), "WORLD_SIZE=1 is launched");
  check(
      !parse({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "1"}, {"APPORTION_DIST", "off"}})
           .distributed(),
      "APPORTION_DIST=off");
  check(contains(error_of({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "5"}}),
                 "rank 2 is outside 0..1"),
        "rank out of range");
  check(contains(error_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}}), "MASTER_PORT"), "port needed");
  check(contains(error_of({{"RANK", "x"}, {"WORLD_SIZE", "2"}}), "RANK=x"), "bad RANK");
  check(contains(error_of({{"RANK", "0"}}), "RANK and WORLD_SIZE"), "RANK alone");
  check(contains(error_of({{"APPORTION_DIST_TIMEOUT_S", "0"}}), "APPORTION_DIST_TIMEOUT_S"),
        "bad timeout");
  check(parse({{"APPORTION_DIST_TIMEOUT_S", "900"}}).timeout_s == 900, "timeout");
  // Slurm: srun -n 3 over node[01-03].
  DistEnv s = parse({{"SLURM_PROCID", "2"},
                     {"SLURM_NTASKS", "3"},
                     {"SLURM_STEP_NUM_TASKS", "3"},
                     {"SLURM_LOCALID", "0"},
                     {"SLURM_STEP_NODELIST", "node[01-03],gpu7"},
                     {"SLURM_JOB_NODELIST", "other"},
                     {"SLURM_JOB_ID", "123456"},
                     {"SLURM_STEP_ID", "0"}});
  check(s.source == "slurm" && s.rank == 2 && s.world_size == 3 && s.local_rank == 0,
        "slurm: rank/world/local");
  check(s.master_addr == "node01", "slurm: first host of the step's node list");
  check(s.master_port == apportion::slurm_default_port(123456, 0) && s.master_port >= 10000 &&
            s.master_port < 30000,
        "slurm: derived port");
  check(apportion::slurm_default_port(123456, 1) != s.master_port, "steps get other ports");
  check(parse({{"SLURM_PROCID", "0"},
               {"SLURM_NTASKS", "2"},
               {"SLURM_JOB_NODELIST", "a,b"},
               {"MASTER_PORT", "4000"}})
                .master_addr == "a",
        "slurm: job node list without a step list");
  check(!parse({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}}).distributed(),
        "a one-task Slurm job is a plain process");
  check(parse({{"SLURM_PROCID", "0"},
               {"SLURM_NTASKS", "4"},
               {"SLURM_STEP_NUM_TASKS", "1"},
               {"SLURM_JOB_NODELIST", "a"}})
                .distributed() == false,
        "srun -n 1 inside a 4-task allocation: one process");
  check(contains(error_of({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"MASTER_PORT", "4000"}}),
                 "SLURM_STEP_NODELIST"),
        "slurm without a node list");
  check(parse({{"RANK", "0"},
               {"WORLD_SIZE", "2"},
               {"MASTER_PORT", "7"},
               {"SLURM_PROCID", "1"},
               {"SLURM_NTASKS", "2"}})
                .source == "torchrun",
        "torchrun variables win over Slurm's");
  // Host lists.
  const std::vector<std::string> hosts = apportion::expand_slurm_nodelist("n[1-2,10],x[008-009]y");
  check(hosts == std::vector<std::string>{"n1", "n2", "n10", "x008y", "x009y"}, "host list");
  check(apportion::expand_slurm_nodelist("solo") == std::vector<std::string>{"solo"}, "one host");
  for (const char* bad : {"n[1-", "n[3-1]", "n[a]", "", "a,,b"}) {
    bool threw = false;
    try {
      apportion::expand_slurm_nodelist(bad);
    } catch (const ConfigError&) {
      threw = true;
    }
    check(threw, std::string("bad host list '") + bad + "'");
  }
  if (failures == 0) std::cout << "ok: dist_env\n";
  return failures == 0 ? 0 : 1;
}
