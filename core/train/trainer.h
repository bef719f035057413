// SPDX-License-Identifier: GPL-3.0-or-later
// Trainer: the synchronous training loop behind `apportion train` and `apportion pretrain`.
// A pimpl facade whose interface uses only ap_core types, so the CLI and most tests do not
// compile torch headers.
//
// Intended usage:
//   TrainOptions opt;  opt.run_id = make_uuid_hex();  opt.workspace_dir = "ws";
//   opt.run_dir = "ws/runs/" + opt.run_id;  opt.config_json = text;
//   FanoutSink sink({&store_sink, &stdout_sink});
//   TrainResult r = Trainer().run(cfg, opt, sink, StopToken(stop_source));
//   // r.status: Finished, Failed (NaN loss, error) or Killed (stop requested; checkpointed)
//   // data-parallel: opt.world = world.get() on every rank (dist_world.h), same config
//
// Fine-tuning: loads the backbone (backbone.path) or builds it from backbone.config, freezes
// it, injects adapters per the planned allocation and trains the adapters only (AdamW,
// warmup + cosine/linear schedule, clipping, accumulation), evaluating every train.eval_every
// steps. Pretraining (no adapters section): trains every backbone weight on the generated corpus
// and writes config.json + model.safetensors to backbone.output.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/config/experiment_config.h"
#include "core/events/event_sink.h"
#include "core/events/stop_token.h"

namespace apportion {

class DistWorld;

struct TrainOptions {
  std::string run_id;            ///< 32-hex id of the run (new, or the one being resumed)
  std::string run_name;          ///< display name (default: config name)
  std::string workspace_dir;     ///< relative config paths resolve against this folder
  std::string run_dir;           ///< where checkpoints and exports go (workspace/runs/<id>)
  std::string config_json;       ///< the config as stored (verbatim, after overrides)
  bool resume = false;           ///< continue from run_dir's checkpoint
  int64_t stop_after_step = -1;  ///< behave as if stopped after this step (checkpoint, KILLED)
  int threads = 0;               ///< torch intra-op threads; 0 = leave the default
  /// The data-parallel world this process is a rank of (docs/DISTRIBUTED.md), or null for a
  /// plain single process. Ranks ≥ 1 pass a sink that writes nothing and write no files.
  DistWorld* world = nullptr;
};

struct TrainResult {
  RunStatus status = RunStatus::Finished;
  std::string message;
  int64_t last_step = 0;
};

class Trainer {
 public:
  Trainer();
  ~Trainer();
  /// Runs to completion, failure or stop. Errors inside the loop become status Failed with the
  /// message (and are reported to the sink); configuration/model errors before the run row
  /// exists are thrown (ConfigError, ModelError, CheckpointError).
  TrainResult run(const ExperimentConfig& cfg,
                  const TrainOptions& options,
                  EventSink& sink,
                  StopToken stop);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The torch version this build links (e.g. "1.13.1").
std::string torch_version_string();
/// Resolves a config path against the workspace (absolute paths stay).
std::string resolve_workspace_path(const std::string& workspace_dir, const std::string& path);

}  // namespace apportion
