// SPDX-License-Identifier: GPL-3.0-or-later
// The trainer's data-parallel steps (see data_parallel.h): gradient and tally sums, the stop
// agreement with its weight fingerprint, routing statistics from their owner, rank 0's state as
// checkpoint bytes, and the per-micro-batch random streams.
#include "core/train/data_parallel.h"

#include <torch/torch.h>

#include <cstring>

#if AP_WITH_CUDA
#include <ATen/cuda/CUDAGeneratorImpl.h>
#endif

#include "core/common/error.h"

namespace apportion {
namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/// An order-independent fingerprint of the weights' bits: the int64 sum of their float32 words.
int64_t weight_fingerprint(const NamedTensors& trainable) {
  torch::NoGradGuard no_grad;
  at::Tensor total;
  for (const auto& [name, p] : trainable) {
    auto bits = p.detach().to(torch::kFloat32).contiguous().view(torch::kInt32).sum(torch::kInt64);
    total = total.defined() ? total + bits : bits;
  }
  return total.defined() ? total.item<int64_t>() : 0;
}

/// A tiny binary writer/reader for the routing statistics' broadcast.
struct Packer {
  std::string bytes;
  template <class T>
  void put(const T& v) {
    bytes.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  template <class T>
  void put_vector(const std::vector<T>& v) {
    put(static_cast<int64_t>(v.size()));
    bytes.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  void put_string(const std::string& s) {
    put(static_cast<int64_t>(s.size()));
    bytes += s;
  }
};

struct Unpacker {
  const std::string& bytes;
  size_t at = 0;
  void need(size_t n) const {
    AP_CHECK(at + n <= bytes.size(), "data-parallel: truncated routing statistics");
  }
  template <class T>
  T get() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, bytes.data() + at, sizeof v);
    at += sizeof v;
    return v;
  }
  template <class T>
  std::vector<T> get_vector() {
    const auto n = static_cast<size_t>(get<int64_t>());
    need(n * sizeof(T));
    std::vector<T> v(n);
    if (n > 0) std::memcpy(v.data(), bytes.data() + at, n * sizeof(T));
    at += n * sizeof(T);
    return v;
  }
  std::string get_string() {
    const auto n = static_cast<size_t>(get<int64_t>());
    need(n);
    std::string s = bytes.substr(at, n);
    at += n;
    return s;
  }
};

}  // namespace

void DataParallel::attach(Collective& collective,
                          bool launched,
                          int64_t seed,
                          const ExperimentConfig& cfg) {
  check_config(cfg, collective.world_size());
  collective_ = &collective;
  launched_ = launched;
  seed_ = static_cast<uint64_t>(seed);
}

void DataParallel::check_config(const ExperimentConfig& cfg, int w) {
  const int g = cfg.train.grad_accum;
  AP_CHECK_AS(ConfigError, g >= w && g % w == 0, "train.grad_accum: is ", g,
              ", but a data-parallel run of ", w,
              " ranks runs an equal share of each step's micro-batches on every rank; set it to a "
              "multiple of ",
              w, " (the global batch stays train.micro_batch_size × train.grad_accum, e.g. ",
              "halve micro_batch_size and double grad_accum)");
}

uint64_t DataParallel::micro_seed(int64_t step, int micro) const {
  return splitmix64(splitmix64(seed_ ^ 0x6170706f7274696full) ^
                    splitmix64(static_cast<uint64_t>(step) * 4096u + static_cast<uint64_t>(micro)));
}

bool DataParallel::agree_to_stop(bool stop, const NamedTensors& trainable) {
  if (!multi_rank()) return stop;
  const int64_t fp = weight_fingerprint(trainable);
  auto control = torch::tensor({stop ? int64_t{1} : int64_t{0}, fp, -fp}, torch::kInt64);
  collective_->all_reduce_max(control, "the stop agreement");
  const auto* c = control.data_ptr<int64_t>();
  if (c[1] != -c[2]) {
    throw DistributedError("data-parallel rank " + std::to_string(collective_->rank()) + "/" +
                           std::to_string(world_size()) + ": the ranks' trainable weights " +
                           "differ at step " + std::to_string(collective_->step()) +
                           " (they must stay identical; this is a bug, please report it with "
                           "the config); the run ended FAILED");
  }
  return c[0] > 0;
}

void DataParallel::reduce_gradients(const NamedTensors& trainable) {
  if (!multi_rank() || trainable.empty()) return;
  torch::NoGradGuard no_grad;
  const auto device = trainable.front().second.device();
  std::vector<at::Tensor> parts;
  std::vector<float> defined;
  parts.reserve(trainable.size() + 1);
  for (const auto& [name, p] : trainable) {
    const at::Tensor& g = p.grad();
    defined.push_back(g.defined() ? 1.0f : 0.0f);
    parts.push_back(g.defined() ? g.detach().reshape({-1}).to(torch::kFloat32)
                                : torch::zeros({p.numel()}, p.options().dtype(torch::kFloat32)));
  }
  const auto n = static_cast<int64_t>(defined.size());
  parts.push_back(torch::tensor(defined, torch::kFloat32).to(device));
  at::Tensor flat = torch::cat(parts);  // [Σ numel + P]
  collective_->all_reduce_sum(flat, "the gradient all-reduce");
  const at::Tensor flags = flat.narrow(0, flat.numel() - n, n).cpu();
  const float* f = flags.data_ptr<float>();
  int64_t offset = 0;
  for (size_t i = 0; i < trainable.size(); ++i) {
    const at::Tensor& p = trainable[i].second;
    const at::Tensor slice = flat.narrow(0, offset, p.numel()).view(p.sizes());
    offset += p.numel();
    if (f[i] <= 0.0f) continue;  // no rank produced it: stays undefined, as in one process
    if (p.grad().defined()) {
      p.mutable_grad().copy_(slice);
    } else {
      p.mutable_grad() = slice.to(p.dtype()).clone();
    }
  }
}

void DataParallel::reduce_tally(StepTally& tally) {
  if (!multi_rank()) return;
  auto t = torch::tensor({tally.loss_sum, tally.aux_sum, static_cast<double>(tally.tokens),
                          static_cast<double>(tally.padding), static_cast<double>(tally.slots),
                          static_cast<double>(tally.nonfinite)},
                         torch::kFloat64);
  collective_->all_reduce_sum(t, "the loss and token sums");
  const double* v = t.data_ptr<double>();
  tally.loss_sum = v[0];
  tally.aux_sum = v[1];
  tally.tokens = static_cast<int64_t>(v[2]);
  tally.padding = static_cast<int64_t>(v[3]);
  tally.slots = static_cast<int64_t>(v[4]);
  tally.nonfinite = static_cast<int64_t>(v[5]);
}

void DataParallel::sync_routing(RoutingStats& adapters, BackboneRoutingStats& backbone, int owner) {
  if (!multi_rank()) return;
  Packer out;
  if (collective_->rank() == owner) {
    out.put(adapters.layers);
    out.put(adapters.modules);
    out.put(adapters.max_experts);
    out.put(static_cast<int64_t>(adapters.module_names.size()));
    for (const auto& name : adapters.module_names) out.put_string(name);
    out.put_vector(adapters.load_fraction);
    out.put_vector(adapters.router_prob_mean);
    out.put(adapters.mean_router_entropy);
    out.put(backbone.layers);
    out.put(backbone.max_experts);
    out.put_vector(backbone.load_fraction);
    out.put_vector(backbone.router_prob_mean);
  }
  const std::string bytes =
      broadcast_bytes(*collective_, out.bytes, owner, "the routing statistics");
  if (collective_->rank() == owner) return;
  Unpacker in{bytes};
  adapters.layers = in.get<int>();
  adapters.modules = in.get<int>();
  adapters.max_experts = in.get<int>();
  adapters.module_names.resize(static_cast<size_t>(in.get<int64_t>()));
  for (auto& name : adapters.module_names) name = in.get_string();
  adapters.load_fraction = in.get_vector<float>();
  adapters.router_prob_mean = in.get_vector<float>();
  adapters.mean_router_entropy = in.get<double>();
  backbone.layers = in.get<int>();
  backbone.max_experts = in.get<int>();
  backbone.load_fraction = in.get_vector<float>();
  backbone.router_prob_mean = in.get_vector<float>();
}

int64_t DataParallel::broadcast_state(const NamedTensors& trainable,
                                      torch::optim::Optimizer& optimizer,
                                      const CheckpointExtras& extras,
                                      int64_t step,
                                      const std::string& what,
                                      bool ok) {
  if (!multi_rank()) return step;
  std::string bytes;
  if (is_root() && ok) bytes = checkpoint_bytes(trainable, optimizer, step, extras);
  bytes = broadcast_bytes(*collective_, bytes, /*root=*/0, what);
  if (is_root()) return step;
  AP_CHECK_AS(CheckpointError, !bytes.empty(), "data-parallel rank ", collective_->rank(), "/",
              world_size(), ": rank 0 could not provide ", what, "; see rank 0's message");
  return load_checkpoint_bytes(bytes, "rank 0's " + what, trainable, optimizer, extras);
}

MicroRngScope::MicroRngScope(uint64_t seed, c10::Device device) : device_(device) {
  auto cpu = at::detail::getDefaultCPUGenerator();
  {
    std::lock_guard<std::mutex> lock(cpu.mutex());
    cpu_ = cpu.get_state();
    cpu.set_current_seed(seed);
  }
#if AP_WITH_CUDA
  if (device_.is_cuda()) {
    auto cuda = at::cuda::detail::getDefaultCUDAGenerator(device_.index());
    std::lock_guard<std::mutex> lock(cuda.mutex());
    cuda_ = cuda.get_state();
    cuda.set_current_seed(seed);
  }
#endif
}

MicroRngScope::~MicroRngScope() {
  auto cpu = at::detail::getDefaultCPUGenerator();
  {
    std::lock_guard<std::mutex> lock(cpu.mutex());
    cpu.set_state(cpu_);
  }
#if AP_WITH_CUDA
  if (cuda_.defined()) {
    auto cuda = at::cuda::detail::getDefaultCUDAGenerator(device_.index());
    std::lock_guard<std::mutex> lock(cuda.mutex());
    cuda.set_state(cuda_);
  }
#endif
}

}  // namespace apportion
