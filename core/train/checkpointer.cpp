// SPDX-License-Identifier: GPL-3.0-or-later
// Checkpoint save/load over torch::serialize archives, with magic, version and RNG state.
#include "core/train/checkpointer.h"

#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <system_error>

#include "core/common/durable_file.h"
#include "core/common/error.h"

namespace apportion {
namespace {

/// "APCK" as an integer: marks our checkpoints.
constexpr int64_t kCheckpointMagic = 0x4150434b;

std::string tensor_key(const std::string& name) {
  // Archive keys may not contain '.', which separates nested archives.
  std::string key = "param/";
  for (char c : name) key.push_back(c == '.' ? '|' : c);
  return key;
}

/// Method state tensors live beside the parameters under their own prefix.
std::string state_key(const std::string& name) {
  std::string key = "state/";
  for (char c : name) key.push_back(c == '.' || c == '/' ? '|' : c);
  return key;
}

/// The checkpoint's archive (written to a file or to bytes).
void fill_archive(torch::serialize::OutputArchive& archive,
                  const NamedTensors& trainable,
                  torch::optim::Optimizer& optimizer,
                  int64_t step,
                  const CheckpointExtras& extras) {
  archive.write("magic", torch::tensor(kCheckpointMagic, torch::kInt64));
  archive.write("version", torch::tensor(kCheckpointVersion, torch::kInt64));
  archive.write("step", torch::tensor(step, torch::kInt64));
  for (const auto& [name, tensor] : trainable) {
    archive.write(tensor_key(name), tensor.detach().cpu(), /*is_buffer=*/true);
  }
  for (const auto& [name, tensor] : extras.state) {
    archive.write(state_key(name), tensor.detach().cpu(), /*is_buffer=*/true);
  }
  torch::serialize::OutputArchive optim_archive;
  optimizer.save(optim_archive);
  archive.write("optimizer", optim_archive);
  for (const auto& [name, extra] : extras.optimizers) {
    torch::serialize::OutputArchive a;
    extra->save(a);
    archive.write("optimizer_" + name, a);
  }
  auto generator = at::detail::getDefaultCPUGenerator();
  at::Tensor rng_state;
  {
    std::lock_guard<std::mutex> lock(generator.mutex());
    rng_state = generator.get_state();
  }
  archive.write("rng_cpu", rng_state, /*is_buffer=*/true);
}

}  // namespace

int64_t save_checkpoint(const std::string& path,
                        const NamedTensors& trainable,
                        torch::optim::Optimizer& optimizer,
                        int64_t step,
                        const CheckpointExtras& extras) {
  torch::serialize::OutputArchive archive;
  fill_archive(archive, trainable, optimizer, step, extras);
  const std::string temp = path + ".tmp";
  archive.save_to(temp);
  try {
    publish_file(temp, path);  // fsync before the rename: a crash keeps the old or the new one
  } catch (const std::system_error& e) {
    throw CheckpointError(path + ": cannot write checkpoint: " + e.what() +
                          "; check free disk space and the folder's permissions");
  }
  return static_cast<int64_t>(std::filesystem::file_size(path));
}

namespace {

/// Restores from a loaded archive; `path` names it in errors.
int64_t load_archive(torch::serialize::InputArchive& archive,
                     const std::string& path,
                     const NamedTensors& trainable,
                     torch::optim::Optimizer& optimizer,
                     const CheckpointExtras& extras) {
  auto read_scalar = [&](const char* key) {
    torch::Tensor t;
    try {
      archive.read(key, t);
    } catch (const c10::Error&) {
      throw CheckpointError(path + ": missing '" + key + "' — not an Apportion checkpoint");
    }
    return t.item<int64_t>();
  };
  if (read_scalar("magic") != kCheckpointMagic) {
    throw CheckpointError(path + ": wrong magic number — not an Apportion checkpoint");
  }
  const int64_t version = read_scalar("version");
  if (version != kCheckpointVersion) {
    throw CheckpointError(path + ": checkpoint format " + std::to_string(version) +
                          " is not supported by this build (format " +
                          std::to_string(kCheckpointVersion) + "); use the matching apportion");
  }
  const int64_t step = read_scalar("step");
  torch::NoGradGuard no_grad;
  // Restores one tensor in place from `key`, checking that it exists and fits.
  auto restore = [&](const std::string& key, const std::string& name, const at::Tensor& tensor) {
    torch::Tensor stored;
    try {
      archive.read(key, stored, /*is_buffer=*/true);
    } catch (const c10::Error&) {
      throw CheckpointError(path + ": tensor '" + name +
                            "' is missing — the checkpoint belongs to another configuration");
    }
    if (stored.sizes() != tensor.sizes()) {
      throw CheckpointError(path + ": tensor '" + name + "' has shape " + c10::str(stored.sizes()) +
                            ", the model expects " + c10::str(tensor.sizes()));
    }
    at::Tensor target = tensor;
    target.copy_(stored);
  };
  for (const auto& [name, tensor] : trainable) restore(tensor_key(name), name, tensor);
  for (const auto& [name, tensor] : extras.state) restore(state_key(name), name, tensor);
  try {
    torch::serialize::InputArchive optim_archive;
    archive.read("optimizer", optim_archive);
    optimizer.load(optim_archive);
    for (const auto& [name, extra] : extras.optimizers) {
      torch::serialize::InputArchive a;
      archive.read("optimizer_" + name, a);
      extra->load(a);
    }
    torch::Tensor rng_state;
    archive.read("rng_cpu", rng_state, /*is_buffer=*/true);
    auto generator = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(rng_state);
  } catch (const c10::Error& e) {
    throw CheckpointError(path + ": optimiser or RNG state unreadable: " + e.msg());
  }
  return step;
}

}  // namespace

int64_t load_checkpoint(const std::string& path,
                        const NamedTensors& trainable,
                        torch::optim::Optimizer& optimizer,
                        const CheckpointExtras& extras) {
  remove_stale_temp(path);  // a crash while writing the next checkpoint left it
  if (!std::filesystem::exists(path)) {
    throw CheckpointError(path +
                          ": no checkpoint to resume from (the run never reached its "
                          "first checkpoint); start a new run instead");
  }
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const c10::Error& e) {
    throw CheckpointError(path +
                          ": not a readable checkpoint (truncated or corrupted?): " + e.msg());
  }
  return load_archive(archive, path, trainable, optimizer, extras);
}

std::string checkpoint_bytes(const NamedTensors& trainable,
                             torch::optim::Optimizer& optimizer,
                             int64_t step,
                             const CheckpointExtras& extras) {
  torch::serialize::OutputArchive archive;
  fill_archive(archive, trainable, optimizer, step, extras);
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

int64_t load_checkpoint_bytes(const std::string& bytes,
                              const std::string& label,
                              const NamedTensors& trainable,
                              torch::optim::Optimizer& optimizer,
                              const CheckpointExtras& extras) {
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(bytes.data(), bytes.size());
  } catch (const c10::Error& e) {
    throw CheckpointError(label + ": not a readable checkpoint: " + e.msg());
  }
  return load_archive(archive, label, trainable, optimizer, extras);
}

}  // namespace apportion
