// SPDX-License-Identifier: GPL-3.0-or-later
// `apportion`: the headless CLI (train, pretrain, runs, show, export, compare, tasks). Parses
// arguments with CLI11, dispatches to the subcommands and maps errors to documented exit codes.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <limits>
#include <string>
#include <thread>

#include "app/cli/commands.h"
#include "app/cli/exit_codes.h"
#include "app/cli/remote_cli.h"
#include "core/common/error.h"
#include "core/common/malloc_policy.h"
#include "core/common/version.h"

using namespace apportion::cli;

namespace {

const char* kFooter = R"(Exit codes:
  0  FINISHED (or the command succeeded)
  1  FAILED   (the run failed: NaN/Inf loss, an error during training)
  2  usage, config or input error before a run row exists
  3  KILLED   (stopped by SIGTERM/SIGINT; a checkpoint was written, resume with --resume RUN)
  train --seeds: 0 if every seed run FINISHED, else the worst child code (1, then 2, then 3)

Workspace: the folder holding the database (--db, default ./apportion-workspace/workspace.sqlite).
Relative paths in configs (backbone.path) are resolved against it; runs write runs/<run_id>/.
Examples:
  apportion pretrain experiments/pretrain-tiny.json --db ws/workspace.sqlite
  apportion train experiments/mola-2468.json --db ws/workspace.sqlite --set train.lr=1e-3
  apportion train experiments/mola-2468.json --db ws/workspace.sqlite --seeds 0-4 --parallel 2
  apportion runs --db ws/workspace.sqlite [--groups]
  apportion compare GROUP_A GROUP_B --db ws/workspace.sqlite
  apportion export --table --groups [--format csv] --db ws/workspace.sqlite
)";

/// `--db ''` would silently mean the default workspace: refused.
const CLI::Validator kNonEmptyPath(
    [](std::string& s) {
      return s.empty() ? std::string("must not be empty (give a .sqlite file path)")
                       : std::string();
    },
    "PATH");

void add_train_options(CLI::App* cmd, TrainArgs& args, bool config_required) {
  auto* config = cmd->add_option("CONFIG", args.config_path, "experiment JSON file");
  if (config_required) config->required();
  cmd->add_option("--db", args.db_path, "workspace database (created if missing)")
      ->check(kNonEmptyPath);
  cmd->add_option("--set", args.overrides, "override a config field: key=value (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--max-steps", args.max_steps, "set train.steps (total optimiser steps)")
      ->check(CLI::Range(int64_t{1}, int64_t{std::numeric_limits<int>::max()}));
  cmd->add_option("--stop-after", args.stop_after,
                  "stop like SIGTERM after this step (checkpoint, KILLED); resume later")
      ->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()));
  cmd->add_option("--progress", args.progress,
                  "stdout: auto (bar on a terminal, else JSON lines), json, bar, none")
      ->check(CLI::IsMember({"auto", "json", "bar", "none"}));
  cmd->add_option("--name", args.name, "run name shown in the run table");
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  cmd->add_option("--threads", args.threads,
                  "torch intra-op threads, 1 to the cores of this machine (" +
                      std::to_string(cores) + "; default: all)")
      ->check(CLI::Range(0, cores));
  cmd->add_option("--device", args.device,
                  "cpu or cuda[:N] (sets train.device; `apportion devices` lists them)");
  cmd->add_option("--tag", args.tags, "set a run tag: key=value (repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("--dry-run", args.dry_run,
                "print the plan and its peak-memory estimate; train nothing, write nothing");
}

}  // namespace

int main(int argc, char** argv) {
  apportion::apply_malloc_policy();  // before LibTorch allocates (core/common/malloc_policy.h)
  CLI::App app{"Apportion: LoRA mixture-of-experts fine-tuning workbench (headless CLI)",
               "apportion"};
  app.footer(kFooter);
  app.set_version_flag("--version", std::string("apportion ") + apportion::kVersion);
  app.require_subcommand(1);

  TrainArgs train_args;
  auto* train = app.add_subcommand("train", "fine-tune adapters (LoRA, LoRA-MoE) on a backbone");
  add_train_options(train, train_args, false);
  train->add_option("--resume", train_args.resume,
                    "continue a stopped run (id or unique prefix) from its checkpoint");
  auto* seeds_opt = train->add_option(
      "--seeds", train_args.seeds,
      "run once per seed (0-4, 0,2,7 or 0-2,5) as child processes; the runs form a seed group");
  auto* parallel_opt = train->add_option("--parallel", train_args.parallel,
                                         "with --seeds: run up to N seeds at a time (default 1)");
  parallel_opt->needs(seeds_opt);
  train->callback([&] {
    train_args.seeds_given = seeds_opt->count() > 0;
    train_args.parallel_given = parallel_opt->count() > 0;
    if (train_args.seeds_given && train_args.config_path.empty() && train_args.resume.empty()) {
      throw CLI::RequiredError("CONFIG (--seeds runs an experiment JSON once per seed)");
    }
    if (train_args.config_path.empty() && train_args.resume.empty()) {
      throw CLI::RequiredError("CONFIG (or --resume RUN)");
    }
  });

  RemoteCli remote(app, train, train_args);  // train --on/--workspace, sweep, pull, stop, import

  TrainArgs pretrain_args;
  pretrain_args.pretrain = true;
  auto* pretrain =
      app.add_subcommand("pretrain", "train a small backbone from scratch on the built-in corpus");
  add_train_options(pretrain, pretrain_args, true);

  std::string db_path, run_id, csv_dir, peft_dir;
  bool as_json = false, groups = false;
  auto* runs = app.add_subcommand("runs", "list the runs of a workspace");
  runs->add_option("--db", db_path, "workspace database")->check(kNonEmptyPath);
  runs->add_flag("--json", as_json, "print JSON instead of a table");
  runs->add_flag("--groups", groups,
                 "one row per seed group (runs of one config that differ only by seed)");
  bool force = false;
  auto* close = app.add_subcommand(
      "close", "mark a DEAD run FAILED (RUNNING in the store, but its process is gone)");
  close->add_option("RUN", run_id, "run id or unique prefix")->required();
  close->add_option("--db", db_path, "workspace database")->check(kNonEmptyPath);
  close->add_flag("--force", force,
                  "also close a run whose owner is unknown (written before schema version 3)");
  std::string salvage_from, salvage_to;
  auto* salvage = app.add_subcommand(
      "salvage", "copy every readable run of a damaged workspace database into a new one");
  salvage->add_option("DAMAGED", salvage_from, "the damaged .sqlite file (only read)")->required();
  salvage->add_option("NEW", salvage_to, "a new .sqlite file to create")->required();
  auto* show = app.add_subcommand(
      "show", "show one run (config, tags, metrics, artifacts) or a seed group (statistics)");
  show->add_option("GROUP_OR_RUN", run_id, "seed group key prefix, or run id or unique prefix")
      ->required();
  show->add_option("--db", db_path, "workspace database")->check(kNonEmptyPath);
  show->add_flag("--json", as_json, "print JSON");
  auto* exp =
      app.add_subcommand("export",
                         "export a run's metrics, params and matrices (--csv), its "
                         "adapters (--peft), or a results table of the workspace (--table)");
  exp->add_option("GROUP_OR_RUN", run_id,
                  "run id or unique prefix; with --csv also a seed group key prefix (not with "
                  "--table)");
  exp->add_option("--db", db_path, "workspace database")->check(kNonEmptyPath);
  auto* exp_csv = exp->add_option("--csv", csv_dir, "folder for the CSV files");
  auto* exp_peft = exp->add_option(
      "--peft", peft_dir, "folder for the adapters (PEFT LoRA; LoRA-MoE runs: LoRA-MoE layout)");
  exp_csv->excludes(exp_peft);
  TableArgs table_args;
  auto* exp_table = exp->add_flag(
      "--table", table_args.table,
      "print a results table: rows runs, columns tasks + avg (reported accuracy, its protocol, "
      "split and checkpoint rule)");
  exp_table->excludes(exp_csv)->excludes(exp_peft);
  exp->add_flag("--groups", table_args.groups,
                "with --table: one row per seed group (mean +- 95 % CI half-width over seeds, n)")
      ->needs(exp_table);
  exp->add_option("--format", table_args.format,
                  "with --table: md (Markdown, accuracy in %) or csv (fractions; default md)")
      ->check(CLI::IsMember({"md", "csv"}))
      ->needs(exp_table);
  exp->add_option("--runs", table_args.runs, "with --table: only these runs (id prefixes)")
      ->needs(exp_table);
  exp->add_option("--experiment", table_args.experiment,
                  "with --table: only the runs of this experiment")
      ->needs(exp_table);
  exp->add_option("-o,--output", table_args.output,
                  "with --table: write the table to FILE instead of stdout")
      ->needs(exp_table);
  exp->footer(
      R"(--table CSV: one header row; runs: run_id,name,experiment,seed,status,rule,report_step,
<task>...,avg; groups: group_key,label,n,seeds,rule,<task>,<task>_ci95,<task>_n...,avg,avg_ci95,
avg_n; then protocol_<task>... and split_<task>... (the row's own protocol and split per task).
Fractions, 6 significant digits; empty field = no value. Warnings (protocols or splits that differ
between rows, mixed checkpoint rules) follow a Markdown table and go to stderr for CSV or -o.)");
  exp->callback([&] {
    if (table_args.table) {
      if (!run_id.empty()) {
        throw CLI::ValidationError("GROUP_OR_RUN",
                                   "--table reads the whole workspace; choose runs with --runs "
                                   "ID_PREFIX... or --experiment NAME");
      }
      return;
    }
    if (run_id.empty()) throw CLI::RequiredError("GROUP_OR_RUN (or --table)");
    if (csv_dir.empty() && peft_dir.empty()) {
      throw CLI::RequiredError("--csv DIR, --peft DIR or --table");
    }
  });
  std::string compare_a, compare_b;
  auto* compare = app.add_subcommand(
      "compare", "compare eval/acc and eval/acc/<task> of two seed groups or runs (Welch 95 % CI)");
  compare->add_option("A", compare_a, "seed group key prefix or run id prefix")->required();
  compare->add_option("B", compare_b, "seed group key prefix or run id prefix")->required();
  compare->add_option("--db", db_path, "workspace database")->check(kNonEmptyPath);
  compare->add_flag("--json", as_json, "print JSON");
  auto* tasks = app.add_subcommand("tasks", "describe the built-in task suite");
  std::string tokenize_dir;
  bool tokenize_no_special = false, tokenize_decode = false;
  auto* tokenize = app.add_subcommand(
      "tokenize", "stdin lines -> JSON token ids with a model folder's tokenizer (HF-exact)");
  tokenize->add_option("MODEL_DIR", tokenize_dir, "folder with tokenizer.json/.model")->required();
  tokenize->add_flag("--no-special", tokenize_no_special,
                     "no BOS/EOS (add_special_tokens false); with --decode, skip special tokens");
  tokenize->add_flag("--decode", tokenize_decode, "read JSON id arrays, print JSON strings");
  bool devices_table = false;
  auto* devices = app.add_subcommand("devices", "list what this build can train on (JSON)");
  devices->add_flag("--table", devices_table, "one line per device instead of JSON");
  std::string inspect_dir;
  bool inspect_json = false;
  auto* inspect = app.add_subcommand("inspect", "summarise a model folder (reads no weights)");
  inspect->add_option("MODEL_DIR", inspect_dir, "folder with config.json + safetensors")
      ->required();
  inspect->add_flag("--json", inspect_json, "print JSON instead of a table");

  std::string import_dir, import_backbone;
  bool import_check = false, import_json = false;
  auto* import_adapter = app.add_subcommand(
      "import-adapter", "load an exported adapter (PEFT LoRA or LoRA-MoE) onto a backbone");
  import_adapter->add_option("DIR", import_dir, "adapter folder")->required();
  import_adapter->add_option("--backbone", import_backbone, "HF model folder")->required();
  import_adapter->add_flag("--check", import_check,
                           "also run a forward pass and report the logit change");
  import_adapter->add_flag("--json", import_json, "print JSON instead of a table");

  // CLI11 says only "A subcommand is required" for a misspelt one: name it.
  if (argc > 1 && argv[1][0] != '-') {
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands({})) known = known || sub->get_name() == argv[1];
    if (!known) {
      print_error(std::string("unknown subcommand '") + argv[1] + "'",
                  "`apportion --help` lists the subcommands");
      return kExitUsage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitFinished : kExitUsage;
  }

  try {
    if (const int code = remote.run(); code >= 0) return code;
    if (train->parsed() && train_args.seeds_given && !train_args.dry_run) {
      return run_seeded_train(train_args);
    }
    if (train->parsed()) return run_train(train_args);
    if (pretrain->parsed()) return run_train(pretrain_args);
    if (runs->parsed() && groups) return run_list_groups(db_path, as_json);
    if (runs->parsed()) return run_list_runs(db_path, as_json);
    if (compare->parsed()) return run_compare(db_path, compare_a, compare_b, as_json);
    if (show->parsed()) return run_show(db_path, run_id, as_json);
    if (close->parsed()) return run_close(db_path, run_id, force);
    if (salvage->parsed()) return run_salvage(salvage_from, salvage_to);
    if (exp->parsed() && table_args.table) return run_export_table(db_path, table_args);
    if (exp->parsed() && !peft_dir.empty()) return run_export_adapter(db_path, run_id, peft_dir);
    if (exp->parsed()) return run_export_csv(db_path, run_id, csv_dir);
    if (import_adapter->parsed()) {
      return run_import_adapter(import_dir, import_backbone, import_check, import_json);
    }
    if (tasks->parsed()) return run_list_tasks();
    if (tokenize->parsed()) return run_tokenize(tokenize_dir, tokenize_no_special, tokenize_decode);
    if (devices->parsed()) return run_list_devices(devices_table);
    if (inspect->parsed()) return run_inspect(inspect_dir, inspect_json);
  } catch (const apportion::Error& e) {
    print_error(e.what());
    return kExitUsage;
  } catch (const std::filesystem::filesystem_error& e) {
    // An output folder that cannot be made (a file in the way, no permission): a usage error.
    print_error("cannot write '" + e.path1().string() + "': " + e.code().message(),
                "give an output path inside a folder you can write");
    return kExitUsage;
  } catch (const std::exception& e) {
    print_error(std::string("unexpected: ") + e.what(),
                "please report this with the command line that caused it");
    return kExitFailed;
  }
  return kExitUsage;
}
