// SPDX-License-Identifier: GPL-3.0-or-later
// The trainer's data-parallel side (docs/DISTRIBUTED.md): joining the world (refusals, the
// process group for the run's device), resuming from rank 0's checkpoint, and the end every rank
// agrees on.
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/distributed/dist_world.h"
#include "core/train/method_runtime.h"
#include "core/train/trainer_impl.h"

namespace apportion {

void Trainer::Impl::join_world() {
  if (opt->world == nullptr) return;
  DistWorld& world = *opt->world;
  const int w = world.world_size();
  if (w > 1 && !cfg->is_pretraining()) {
    const std::string problem = runtime_of(*cfg).data_parallel_problem(*cfg, w);
    AP_CHECK_AS(ConfigError, problem.empty(), problem);
  }
  // A GPU world gives each rank its own device: cuda:LOCAL_RANK unless the config names one.
  if (device.is_cuda() && !device.has_index()) {
    device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(world.env().local_rank));
  }
  // Checked on every rank before the process group exists, so all ranks refuse alike.
  DataParallel::check_config(*cfg, w);
  world.start_collectives(device.is_cuda(), device.is_cuda() ? device.index() : 0);
  dp.attach(world.collective(), /*launched=*/true, cfg->seed, *cfg);
  if (w > 1) {
    log("info", "data-parallel: " + world.env().label() + " over " + world.backend() + ", " +
                    std::to_string(cfg->train.grad_accum / w) + " of " +
                    std::to_string(cfg->train.grad_accum) + " micro-batches per step here");
  }
}

void Trainer::Impl::resume_from_checkpoint() {
  const CheckpointExtras extras = hooks->checkpoint_extras();
  if (!dp.multi_rank()) {
    resumed_step = load_checkpoint(checkpoint_path, built.trainable, *optimizer, extras);
  } else if (dp.is_root()) {
    // Rank 0 reads the file; the others get its state, so they need no shared file system.
    try {
      resumed_step = load_checkpoint(checkpoint_path, built.trainable, *optimizer, extras);
    } catch (const std::exception&) {
      dp.broadcast_state(built.trainable, *optimizer, extras, 0, "the checkpoint", /*ok=*/false);
      throw;
    }
    dp.broadcast_state(built.trainable, *optimizer, extras, resumed_step, "the checkpoint");
  } else {
    resumed_step = dp.broadcast_state(built.trainable, *optimizer, extras, 0, "the checkpoint");
  }
  hooks->restore(extras);
  log("info", "resuming from step " + std::to_string(resumed_step));
}

TrainResult Trainer::Impl::agree_on_end(TrainResult result, bool agreed) {
  if (!dp.multi_rank()) return result;
  Collective& ranks = dp.collective();
  try {
    bool barrier = agreed;
    if (ranks.is_root()) {
      const nlohmann::json end = {{"status", static_cast<int>(result.status)},
                                  {"message", result.message},
                                  {"step", result.last_step},
                                  {"barrier", agreed}};
      ranks.root_done("end", end.dump());
    } else if (agreed) {
      // Rank 0 may still be writing the outputs; its status (e.g. a failed write) is the run's.
      const nlohmann::json end = nlohmann::json::parse(ranks.root_done("end"));
      barrier = end.at("barrier").get<bool>();
      result.status = static_cast<RunStatus>(end.at("status").get<int>());
      result.message = end.at("message").get<std::string>();
      result.last_step = end.at("step").get<int64_t>();
    }
    // Rank 0 serves the rendezvous store: it leaves only after everybody has read the end.
    if (barrier) {
      auto one = torch::ones({1}, torch::kFloat32);
      ranks.all_reduce_sum(one, "the final barrier");
    }
  } catch (const std::exception& e) {
    if (result.status != RunStatus::Failed)
      result = {RunStatus::Failed, e.what(), result.last_step};
  }
  return result;
}

}  // namespace apportion
