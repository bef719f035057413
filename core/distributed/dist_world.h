// SPDX-License-Identifier: GPL-3.0-or-later
// DistWorld: one process's membership of a data-parallel world over LibTorch's own c10d. The
// rendezvous is a TCPStore served by rank 0 at MASTER_ADDR:MASTER_PORT; the collectives are a
// ProcessGroupGloo on the CPU or a ProcessGroupNCCL on CUDA (only where the LibTorch has CUDA and
// NCCL; elsewhere a GPU world is refused with a message). The header is torch-free (a pimpl), so
// `apportion train` sets a world up without LibTorch headers.
//
// Intended usage (app/cli/cmd_train.cpp, then the trainer):
//   auto world = DistWorld::connect(env);              // waits for every rank (timeout)
//   if (world->rank() == 0) world->publish("run", json_text);      // the run everybody trains
//   else json_text = world->fetch("run");               // waits while rank 0 lives
//   options.world = world.get();                        // Trainer::run starts the collectives:
//   world->start_collectives(/*cuda=*/false, 0);        //   Gloo here
//   Collective& c = world->collective();
#pragma once

#include <memory>
#include <string>

#include "core/distributed/dist_env.h"

namespace apportion {

class Collective;

class DistWorld {
 public:
  /// Joins the world: rank 0 serves the TCP store, the others connect to it; returns when every
  /// rank has joined. Throws DistributedError naming the address, the timeout and what to check.
  static std::unique_ptr<DistWorld> connect(const DistEnv& env);
  ~DistWorld();
  DistWorld(const DistWorld&) = delete;
  DistWorld& operator=(const DistWorld&) = delete;

  const DistEnv& env() const;
  int rank() const;
  int world_size() const;

  /// Rank 0 stores `value` under `key` for the others.
  void publish(const std::string& key, const std::string& value);
  /// Whether `key` has been published.
  bool published(const std::string& key);
  /// Waits (without a limit while rank 0 lives) for rank 0's value under `key`.
  std::string fetch(const std::string& key);
  /// Rank 0: waits up to `timeout_s` for every other rank r to publish("<prefix><r>", …) (e.g.
  /// "I have read the run"), so rank 0, which serves the store, does not leave before them.
  /// Returns false when some rank did not answer in time.
  bool await_ranks(const std::string& prefix, int timeout_s);

  /// Creates the process group: Gloo for a CPU run, NCCL on CUDA device `cuda_index`. Throws
  /// ConfigError when this build cannot (no Gloo headers at build time, no NCCL).
  void start_collectives(bool cuda, int cuda_index);
  /// "gloo" / "nccl" once started, "" before.
  std::string backend() const;
  /// The collectives (start_collectives first).
  Collective& collective();

  /// Whether this build has Gloo / NCCL process groups.
  static bool has_gloo();
  static bool has_nccl();

 private:
  DistWorld();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace apportion
