// SPDX-License-Identifier: GPL-3.0-or-later
// Where a data-parallel `apportion train` process stands in its world, read from the launcher's
// environment: torchrun-style variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT)
// or Slurm's (SLURM_PROCID, SLURM_STEP_NUM_TASKS / SLURM_NTASKS, SLURM_LOCALID, the first host
// of SLURM_STEP_NODELIST / SLURM_JOB_NODELIST, a port derived from SLURM_JOB_ID). Torch-free, so
// the CLI and its tests read it without LibTorch. docs/DISTRIBUTED.md describes the launch.
//
// Intended usage (app/cli/cmd_train.cpp):
//   const DistEnv env = dist_env_from_environment();   // ConfigError on malformed variables
//   if (env.distributed()) { auto world = DistWorld::connect(env); … }   // dist_world.h
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace apportion {

/// Default seconds a collective or the rendezvous waits for the other ranks
/// (APPORTION_DIST_TIMEOUT_S overrides). Rank 0's solo work (evaluation, checkpoints) is waited
/// for without a limit while rank 0 lives, so this only bounds a hung peer.
inline constexpr int kDefaultDistTimeoutS = 300;

struct DistEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr;  ///< rendezvous host (rank 0 serves the TCP store there)
  int master_port = 0;
  std::string source;  ///< "torchrun", "slurm" or "" (a plain single process)
  int timeout_s = kDefaultDistTimeoutS;
  /// torchrun's agent already serves the store at MASTER_ADDR:MASTER_PORT
  /// (TORCHELASTIC_USE_AGENT_STORE=True): every rank connects as a client.
  bool agent_store = false;
  /// A launched world: torchrun-style variables (even WORLD_SIZE=1) or a Slurm step of more
  /// than one task. A plain process (or a one-task Slurm job) is not.
  bool distributed() const { return !source.empty(); }
  /// "rank 1/2" (for messages).
  std::string label() const;
};

/// Reads the variables through `get` (nullptr = unset). APPORTION_DIST=off ignores every launcher
/// variable (a plain process); otherwise torchrun-style RANK + WORLD_SIZE win over Slurm's.
/// Throws ConfigError naming the variable when one is malformed or inconsistent.
DistEnv dist_env_from(const std::function<const char*(const char*)>& get);

/// dist_env_from(std::getenv).
DistEnv dist_env_from_environment();

/// Expands a Slurm host list: "node[01-03,07],gpu5" → node01 node02 node03 node07 gpu5 (zero
/// padding kept). Throws ConfigError on a malformed list.
std::vector<std::string> expand_slurm_nodelist(const std::string& list);

/// The rendezvous port of a Slurm step without MASTER_PORT: 10000 + (8·job + step) mod 20000,
/// the same on every task of the step and different for concurrent steps of one job.
int slurm_default_port(long long job_id, long long step_id);

}  // namespace apportion
