// SPDX-License-Identifier: GPL-3.0-or-later
// The subcommands of `apportion`, each registered on the CLI11 app and run after parsing.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace apportion::cli {

/// Options of `train` and `pretrain`.
struct TrainArgs {
  std::string config_path;
  std::string db_path;
  std::vector<std::string> overrides;
  int64_t max_steps = -1;
  int64_t stop_after = -1;
  std::string resume;
  std::string progress = "auto";
  std::string name;
  int threads = 0;
  std::string device;  ///< --device: overrides train.device
  bool pretrain = false;
};

/// Runs `train`/`pretrain`; returns the exit code.
int run_train(const TrainArgs& args);

/// `runs [--db] [--json]`
int run_list_runs(const std::string& db_path, bool as_json);
/// `show RUN [--db] [--json]`
int run_show(const std::string& db_path, const std::string& run, bool as_json);
/// `export RUN --csv DIR [--db]`
int run_export_csv(const std::string& db_path, const std::string& run, const std::string& dir);
/// `export RUN --peft DIR [--db]`: the run's adapters as a PEFT LoRA folder (LoRA-MoE runs: the
/// Apportion LoRA-MoE layout).
int run_export_adapter(const std::string& db_path, const std::string& run, const std::string& dir);
/// `import-adapter DIR --backbone MODEL_DIR [--check] [--json]`: load and summarise an adapter.
int run_import_adapter(const std::string& dir,
                       const std::string& backbone_dir,
                       bool check,
                       bool as_json);
/// `tasks`: the built-in task suite's documentation.
int run_list_tasks();
/// `tokenize MODEL_DIR [--no-special] [--decode]`: stdin lines -> JSON ids (or ids -> text).
int run_tokenize(const std::string& model_dir, bool no_special, bool decode);
/// `devices [--table]`: what this build can train on (JSON by default).
int run_list_devices(bool as_table);
/// `inspect MODEL_DIR [--json]`: a model folder's architecture, layout, parameters and files.
int run_inspect(const std::string& model_dir, bool as_json);

/// Default workspace database when --db is not given.
std::string default_db_path();
/// Prints "error: …" and a hint line to stderr.
void print_error(const std::string& message, const std::string& hint = "");

}  // namespace apportion::cli
