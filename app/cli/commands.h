// SPDX-License-Identifier: GPL-3.0-or-later
// The subcommands of `apportion`, each registered on the CLI11 app and run after parsing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace CLI {
class App;
}
namespace apportion {
struct ExperimentConfig;
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
  std::vector<std::string> tags;  ///< --tag key=value: initial run tags
  std::string seeds;              ///< --seeds SPEC (e.g. 0-4, 0,2,7, 0-2,5)
  bool seeds_given = false;       ///< --seeds was on the command line (even empty)
  int parallel = 0;               ///< --parallel N (0: not given; sequential)
  bool parallel_given = false;
  bool dry_run = false;   ///< --dry-run: print the plan and the memory estimate, train nothing
  std::string workspace;  ///< --workspace: folder for relative paths and runs/ (default: --db's)
  std::string on;         ///< --on PROFILE: launch through an executor profile (cmd_remote.cpp)
};

/// The options of `args` that a child `apportion train` repeats as given (the seed runs of
/// --seeds, a run submitted --on a profile): --set, --max-steps, --stop-after, --threads,
/// --device and --tag, in that order.
std::vector<std::string> forwarded_train_args(const TrainArgs& args);

/// `train CONFIG --dry-run`: the backbone, the allocation's trainable parameters and the
/// peak-memory estimate (core/estimate) of the prepared config, printed as text or, with
/// `--progress json`, as one JSON object; no run row, no model weights read. Returns 0, or 2
/// when the backbone's config.json cannot be read.
int print_dry_run(const ExperimentConfig& cfg, const std::string& db_path, bool as_json);
/// Runs `train`/`pretrain`; returns the exit code.
int run_train(const TrainArgs& args);
/// Checks a `train` command line and its config without touching the workspace (what
/// run_train() rejects with exit 2 before a run row exists). Returns the config's name; throws
/// apportion::Error naming the option or field.
std::string check_train_config(const TrainArgs& args);
/// `train CONFIG --seeds SPEC [--parallel N]`: one `apportion train` child process per seed,
/// all tagged with one new seed_group; returns 0 if all FINISHED, else the worst child code.
int run_seeded_train(const TrainArgs& args);
/// Parses a --seeds SPEC ("0-4", "0,2,7", "0-2,5"); throws ConfigError naming --seeds.
std::vector<uint64_t> parse_seed_spec(const std::string& spec);
/// Seeds written back compactly ("0-2,5").
std::string format_seed_list(const std::vector<uint64_t>& seeds);

/// Why `db_abs` cannot hold a workspace database ("" when its folder exists or was created):
/// a folder given as the file, or a parent that cannot be created (a file in the way).
std::string workspace_folder_problem(const std::filesystem::path& db_abs);
/// `apportion salvage DAMAGED.sqlite NEW.sqlite`: copies every readable run into a new store
/// (core/store/store_copy.h) and lists what was left out.
int run_salvage(const std::string& source, const std::string& target);

/// `runs [--db] [--json]`
int run_list_runs(const std::string& db_path, bool as_json);
/// `runs --groups [--db] [--json]`: one row per seed group.
int run_list_groups(const std::string& db_path, bool as_json);
/// `show GROUP_OR_RUN [--db] [--json]`: a seed group (key prefix) or one run (id prefix).
int run_show(const std::string& db_path, const std::string& target, bool as_json);
/// `apportion close RUN`: marks a DEAD run (RUNNING, its process gone: core/store/liveness.h)
/// FAILED with the reason; refuses a live run, and one without a recorded owner unless `force`.
int run_close(const std::string& db_path, const std::string& run, bool force);
/// `show RUN` for one run id (or unique prefix).
int run_show_run(const std::string& db_path, const std::string& run, bool as_json);
/// `show GROUP`: per-run table and statistics of the latest eval/* metrics.
int run_show_group(const std::string& db_path, const std::string& group, bool as_json);
/// `export GROUP_OR_RUN --csv DIR [--db]`
int run_export_csv(const std::string& db_path, const std::string& target, const std::string& dir);
/// `export RUN --csv DIR` for one run id (or unique prefix).
int run_export_run_csv(const std::string& db_path, const std::string& run, const std::string& dir);
/// `export GROUP --csv DIR`: each member's CSVs in DIR/<run_id>/, group_summary.csv and
/// group_curve_<metric>.csv.
int run_export_group_csv(const std::string& db_path,
                         const std::string& group,
                         const std::string& dir);
/// `compare A B [--db] [--json]`: eval/acc and eval/acc/<task> of two groups or runs, with the
/// Welch 95 % interval of the difference.
int run_compare(const std::string& db_path,
                const std::string& a,
                const std::string& b,
                bool as_json);
/// Options of `export --table`.
struct TableArgs {
  bool table = false;             ///< --table was given
  bool groups = false;            ///< --groups: one row per seed group
  std::string format = "md";      ///< --format md|csv
  std::vector<std::string> runs;  ///< --runs ID_PREFIX…: only these runs
  std::string experiment;         ///< --experiment NAME: only runs of this experiment
  std::string output;             ///< -o FILE (empty: stdout)
};
/// `export --table [--groups] [--format md|csv] [--runs ID…] [--experiment NAME] [-o FILE]`:
/// the results table (core/store/results_table.h); warnings of a CSV or a file go to stderr.
int run_export_table(const std::string& db_path, const TableArgs& args);
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
