// SPDX-License-Identifier: GPL-3.0-or-later
// DistWorld over c10d (see dist_world.h): the TCPStore rendezvous, the Gloo/NCCL process group,
// and the Collective that turns every c10d/Gloo failure into a DistributedError naming the rank,
// the operation and the step. Compiles against LibTorch 1.13 (ProcessGroupGloo is a
// ProcessGroup) and 2.x (it is a Backend): only calls both share are used.
#include "core/distributed/dist_world.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <thread>

// Debian's LibTorch is built with Gloo (libtorch_cpu links libgloo) but its c10d header only
// declares ProcessGroupGloo under USE_C10D_GLOO, which a consumer must set; the Gloo headers come
// from libgloo-dev. Without them the build still works and a launched world is refused.
#if __has_include(<gloo/context.h>)
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#define AP_HAVE_GLOO 1
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#else
#define AP_HAVE_GLOO 0
#endif
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
// NCCL only where the LibTorch has CUDA and its build defines USE_C10D_NCCL for consumers.
#if AP_WITH_CUDA && defined(USE_C10D_NCCL)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#define AP_HAVE_NCCL 1
#else
#define AP_HAVE_NCCL 0
#endif

#include "core/common/error.h"
#include "core/distributed/collective.h"

namespace apportion {
namespace {

/// Seconds between two looks at the store while waiting for rank 0.
constexpr auto kPollInterval = std::chrono::milliseconds(50);
/// Key prefix of Apportion's own entries in the TCP store.
const std::string kKeyPrefix = "apportion/";

std::string error_text(const std::exception& e) {
  if (const auto* c = dynamic_cast<const c10::Error*>(&e)) return c->what_without_backtrace();
  return e.what();
}

/// "rank 1/2 (gloo): …; the run ended FAILED …" for a failed operation.
std::string failure(const DistEnv& env,
                    const std::string& backend,
                    const std::string& what,
                    int64_t step,
                    const std::string& detail) {
  return "data-parallel " + env.label() + (backend.empty() ? "" : " (" + backend + ")") + ": " +
         what + " at step " + std::to_string(step) + " failed: " + detail +
         ". Another rank died or lost its network (or was stuck longer than " +
         "APPORTION_DIST_TIMEOUT_S=" + std::to_string(env.timeout_s) +
         " s); this run ended FAILED. Resume it with `apportion train --resume <run>` once all " +
         std::to_string(env.world_size) + " ranks can run";
}

/// Waits until `key` exists in the store (no limit while the store answers), then reads it.
std::string wait_for_key(c10d::Store& store, const std::string& key) {
  while (!store.check({key})) std::this_thread::sleep_for(kPollInterval);
  const std::vector<uint8_t> v = store.get(key);
  return std::string(v.begin(), v.end());
}

bool is_loopback(const std::string& host) {
  return host.rfind("127.", 0) == 0 || host == "localhost" || host == "::1";
}

/// A Collective over one c10d process group type (Gloo, NCCL): tensors are made contiguous and
/// moved to `device` (NCCL needs them on the GPU) and back.
template <class Group>
class C10dCollective final : public Collective {
 public:
  C10dCollective(c10::intrusive_ptr<Group> group,
                 c10::intrusive_ptr<c10d::Store> store,
                 DistEnv env,
                 std::string backend,
                 c10::Device device)
      : group_(std::move(group)),
        store_(std::move(store)),
        env_(std::move(env)),
        backend_(std::move(backend)),
        device_(device) {}

  int rank() const override { return env_.rank; }
  int world_size() const override { return env_.world_size; }
  std::string backend() const override { return backend_; }

  void all_reduce_sum(at::Tensor& tensor, const std::string& what) override {
    all_reduce(tensor, c10d::ReduceOp::SUM, what);
  }
  void all_reduce_max(at::Tensor& tensor, const std::string& what) override {
    all_reduce(tensor, c10d::ReduceOp::MAX, what);
  }

  void broadcast(at::Tensor& tensor, int root, const std::string& what) override {
    run(tensor, what, [&](std::vector<at::Tensor>& ts) {
      c10d::BroadcastOptions o;
      o.rootRank = root;
      return group_->broadcast(ts, o);
    });
  }

  std::string root_done(const std::string& label, const std::string& value) override {
    const std::string key = kKeyPrefix + "done/" + label;
    try {
      if (is_root()) {
        store_->set(key, std::vector<uint8_t>(value.begin(), value.end()));
        return value;
      }
      return wait_for_key(*store_, key);
    } catch (const std::exception& e) {
      throw DistributedError(failure(env_, backend_, "waiting for rank 0 to finish " + label,
                                     step(), "rank 0 is gone (" + error_text(e) + ")"));
    }
  }

 private:
  template <class Start>
  void run(at::Tensor& tensor, const std::string& what, Start start) {
    const bool moved = tensor.device() != device_ || !tensor.is_contiguous();
    std::vector<at::Tensor> ts{moved ? tensor.to(device_).contiguous() : tensor};
    try {
      start(ts)->wait();
    } catch (const std::exception& e) {
      throw DistributedError(failure(env_, backend_, what, step(), error_text(e)));
    }
    if (moved) tensor.copy_(ts[0]);
  }

  void all_reduce(at::Tensor& tensor, c10d::ReduceOp op, const std::string& what) {
    run(tensor, what, [&](std::vector<at::Tensor>& ts) {
      c10d::AllreduceOptions o;
      o.reduceOp = op;
      return group_->allreduce(ts, o);
    });
  }

  c10::intrusive_ptr<Group> group_;
  c10::intrusive_ptr<c10d::Store> store_;
  DistEnv env_;
  std::string backend_;
  c10::Device device_;
};

}  // namespace

struct DistWorld::Impl {
  DistEnv env;
  c10::intrusive_ptr<c10d::Store> store;
  std::string backend;
  std::unique_ptr<Collective> collective;
};

DistWorld::DistWorld() : impl_(std::make_unique<Impl>()) {}
DistWorld::~DistWorld() = default;

bool DistWorld::has_gloo() { return AP_HAVE_GLOO != 0; }
bool DistWorld::has_nccl() { return AP_HAVE_NCCL != 0; }

std::unique_ptr<DistWorld> DistWorld::connect(const DistEnv& env) {
  std::unique_ptr<DistWorld> world(new DistWorld());
  world->impl_->env = env;
  c10d::TCPStoreOptions o;
  o.port = static_cast<std::uint16_t>(env.master_port);
  o.isServer = env.rank == 0 && !env.agent_store;
  o.numWorkers = env.world_size;
  o.waitWorkers = true;
  o.timeout = std::chrono::milliseconds(static_cast<int64_t>(env.timeout_s) * 1000);
  try {
    world->impl_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, o);
  } catch (const std::exception& e) {
    const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
    throw DistributedError(
        "data-parallel " + env.label() + ": the rendezvous at " + where + " failed within " +
        std::to_string(env.timeout_s) + " s: " + error_text(e) + ". Check that all " +
        std::to_string(env.world_size) +
        " ranks started with the same MASTER_ADDR/MASTER_PORT, that rank 0's host is reachable "
        "and the port free; inside an sbatch script, start the ranks with srun (or set "
        "APPORTION_DIST=off for one process)");
  }
  return world;
}

const DistEnv& DistWorld::env() const { return impl_->env; }
int DistWorld::rank() const { return impl_->env.rank; }
int DistWorld::world_size() const { return impl_->env.world_size; }
std::string DistWorld::backend() const { return impl_->backend; }

void DistWorld::publish(const std::string& key, const std::string& value) {
  impl_->store->set(kKeyPrefix + "kv/" + key, std::vector<uint8_t>(value.begin(), value.end()));
}

bool DistWorld::published(const std::string& key) {
  return impl_->store->check({kKeyPrefix + "kv/" + key});
}

std::string DistWorld::fetch(const std::string& key) {
  try {
    return wait_for_key(*impl_->store, kKeyPrefix + "kv/" + key);
  } catch (const std::exception& e) {
    throw DistributedError("data-parallel " + impl_->env.label() +
                           ": rank 0 ended before it sent the run (" + error_text(e) +
                           "); see rank 0's output");
  }
}

bool DistWorld::await_ranks(const std::string& prefix, int timeout_s) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  try {
    for (int r = 1; r < impl_->env.world_size; ++r) {
      const std::string key = kKeyPrefix + "kv/" + prefix + std::to_string(r);
      while (!impl_->store->check({key})) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(kPollInterval);
      }
    }
  } catch (const std::exception&) {
    return false;  // rank 0's own store: only a broken process ends up here
  }
  return true;
}

Collective& DistWorld::collective() {
  AP_CHECK(impl_->collective != nullptr, "DistWorld: start_collectives() first");
  return *impl_->collective;
}

void DistWorld::start_collectives(bool cuda, int cuda_index) {
  if (impl_->collective) return;
  Impl& s = *impl_;
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(s.env.timeout_s) * 1000);
  auto group_store = c10::make_intrusive<c10d::PrefixStore>("apportion-pg", s.store);
  const auto fail = [&](const std::string& backend, const std::exception& e) {
    return DistributedError("data-parallel " + s.env.label() + ": creating the " + backend +
                            " process group failed: " + error_text(e) +
                            "; check that every rank can reach the others (GLOO_SOCKET_IFNAME "
                            "names the network interface to use)");
  };
  if (cuda) {
#if AP_HAVE_NCCL
    try {
      auto o = c10d::ProcessGroupNCCL::Options::create();
      o->timeout = timeout;
      auto group =
          c10::make_intrusive<c10d::ProcessGroupNCCL>(group_store, s.env.rank, s.env.world_size, o);
      s.collective = std::make_unique<C10dCollective<c10d::ProcessGroupNCCL>>(
          group, s.store, s.env, "nccl", c10::Device(c10::kCUDA, cuda_index));
    } catch (const std::exception& e) {
      throw fail("NCCL", e);
    }
    s.backend = "nccl";
    return;
#else
    (void)cuda_index;
    throw ConfigError(
        "train.device: a data-parallel run on CUDA needs NCCL, and this build's LibTorch has "
        "none (CPU-only, or built without USE_C10D_NCCL); train on the CPU (Gloo) or build "
        "Apportion against a CUDA LibTorch with NCCL");
#endif
  }
#if AP_HAVE_GLOO
  try {
    auto o = c10d::ProcessGroupGloo::Options::create(timeout);
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname) {
      o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (is_loopback(s.env.master_addr)) {
      o->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      o->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    o->threads = 2;
    auto group =
        c10::make_intrusive<c10d::ProcessGroupGloo>(group_store, s.env.rank, s.env.world_size, o);
    s.collective = std::make_unique<C10dCollective<c10d::ProcessGroupGloo>>(
        group, s.store, s.env, "gloo", c10::Device(c10::kCPU));
  } catch (const std::exception& e) {
    throw fail("Gloo", e);
  }
  s.backend = "gloo";
#else
  throw ConfigError(
      "data-parallel training on the CPU needs Gloo, and this build had no Gloo headers "
      "(install libgloo-dev and rebuild), or run one process (APPORTION_DIST=off)");
#endif
}

}  // namespace apportion
