// SPDX-License-Identifier: GPL-3.0-or-later
// The single-process Collective (no-ops) and byte broadcasting over any Collective.
#include "core/distributed/collective.h"

#include <torch/torch.h>

#include <cstring>

namespace apportion {
namespace {

class SingleProcessCollective final : public Collective {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  std::string backend() const override { return "none"; }
  void all_reduce_sum(at::Tensor& /*tensor*/, const std::string& /*what*/) override {}
  void all_reduce_max(at::Tensor& /*tensor*/, const std::string& /*what*/) override {}
  void broadcast(at::Tensor& /*tensor*/, int /*root*/, const std::string& /*what*/) override {}
  std::string root_done(const std::string& /*label*/, const std::string& value) override {
    return value;
  }
};

}  // namespace

Collective& single_process_collective() {
  // Stateless apart from the step named in errors, which a single process never raises.
  static SingleProcessCollective instance;
  return instance;
}

std::string broadcast_bytes(Collective& c,
                            const std::string& bytes,
                            int root,
                            const std::string& what) {
  if (!c.multi_rank()) return bytes;
  auto length = torch::tensor({static_cast<int64_t>(bytes.size())}, torch::kInt64);
  c.broadcast(length, root, what + " (length)");
  const int64_t n = length.item<int64_t>();
  auto data = torch::empty({n}, torch::kUInt8);
  if (c.rank() == root && n > 0) std::memcpy(data.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  if (n > 0) c.broadcast(data, root, what);
  return std::string(reinterpret_cast<const char*>(data.data_ptr<uint8_t>()),
                     static_cast<size_t>(n));
}

}  // namespace apportion
