// SPDX-License-Identifier: GPL-3.0-or-later
// Registration of the remote subcommands and train's --on/--workspace (see remote_cli.h).
#include "app/cli/remote_cli.h"

#include <CLI/CLI.hpp>

#include "app/cli/commands.h"

namespace apportion::cli {

struct RemoteCli::Options {
  TrainArgs* train_args = nullptr;
  CLI::App* train = nullptr;
  CLI::App *sweep = nullptr, *pull = nullptr, *stop = nullptr, *import = nullptr, *rows = nullptr;
  std::string db, sweep_file, on, resubmit, target, source, launch, out, artifacts;
  bool dry_run = false, follow = false, all = false;
  double interval_s = 2.0;
  int64_t since_ms = 0;
};

RemoteCli::RemoteCli(CLI::App& app, CLI::App* train, TrainArgs& train_args)
    : o_(std::make_unique<Options>()) {
  Options& o = *o_;
  o.train_args = &train_args;
  o.train = train;
  train->add_option("--on", train_args.on,
                    "launch through an executor profile (NAME in ~/.config/apportion/profiles/ "
                    "or a .json path): local, ssh or slurm; `apportion pull` brings it home");
  train->add_option("--workspace", train_args.workspace,
                    "folder that relative config paths and runs/ resolve against (default: the "
                    "--db file's folder)");

  o.sweep = app.add_subcommand(
      "sweep", "run an experiment over a grid of --set values and seeds on an executor profile");
  o.sweep->add_option("SWEEP", o.sweep_file, "sweep JSON file (docs/REMOTE.md)");
  o.sweep->add_option("--on", o.on, "executor profile (name or .json path; default local)");
  o.sweep->add_option("--db", o.db, "home workspace database");
  o.sweep->add_flag("--dry-run", o.dry_run, "list the members; submit nothing");
  o.sweep->add_option("--resubmit", o.resubmit,
                      "resubmit the members of sweep KEY that ended KILLED or FAILED (or made no "
                      "run): they resume from their checkpoints");
  o.sweep->callback([&o] {
    if (o.sweep_file.empty() == o.resubmit.empty()) {
      throw CLI::ValidationError("SWEEP", "give a sweep file or --resubmit SWEEP_KEY (not both)");
    }
  });

  o.pull = app.add_subcommand(
      "pull", "bring the rows of remotely launched runs home (incremental; twice adds nothing)");
  o.pull->add_option("--db", o.db, "home workspace database");
  o.pull->add_flag("--follow", o.follow, "keep pulling until every launch has ended");
  o.pull->add_flag(
      "--all", o.all,
      "also pull launches that ended (a full re-sync; adds nothing when home has all)");
  o.pull->add_option("--interval", o.interval_s, "seconds between pulls with --follow (2)")
      ->check(CLI::Range(0.1, 3600.0));
  o.pull->add_option("--artifacts", o.artifacts,
                     "also copy this run's folder home (checkpoint, adapters, predictions)");

  o.stop = app.add_subcommand(
      "stop", "stop a run: SIGTERM to its trainer (checkpoint, KILLED), scancel on Slurm");
  o.stop->add_option("RUN", o.target, "run id or unique prefix, or a launch key")->required();
  o.stop->add_option("--db", o.db, "home workspace database");

  o.import = app.add_subcommand(
      "import", "merge the runs of a store made elsewhere (by run id; conflicts reported)");
  o.import->add_option("STORE", o.source, "the .sqlite store to read (never written)")->required();
  o.import->add_option("--db", o.db, "home workspace database (created if missing)");

  o.rows = app.add_subcommand("remote-rows",
                              "(used by `pull` over ssh) extract a launch's rows since a time");
  o.rows->add_option("--db", o.db, "the launch's run store")->required();
  o.rows->add_option("--launch", o.launch, "launch key (remote/launch tag)")->required();
  o.rows->add_option("--since-ms", o.since_ms, "wall-clock ms of the newest row already home")
      ->check(CLI::Range(int64_t{0}, std::numeric_limits<int64_t>::max()));
  o.rows->add_option("--out", o.out, "file to write, or - for stdout")->required();
}

RemoteCli::~RemoteCli() = default;

int RemoteCli::run() {
  Options& o = *o_;
  if (o.train->parsed() && !o.train_args->on.empty()) return run_remote_train(*o.train_args);
  if (o.train->parsed() && !o.train_args->resume.empty()) {
    return maybe_remote_resume(*o.train_args);
  }
  if (o.sweep->parsed() && !o.resubmit.empty()) return run_sweep_resubmit(o.resubmit, o.db);
  if (o.sweep->parsed())
    return run_sweep(o.sweep_file, o.on.empty() ? "local" : o.on, o.db, o.dry_run);
  if (o.pull->parsed()) return run_pull(o.db, o.follow, o.all, o.interval_s, o.artifacts);
  if (o.stop->parsed()) return run_stop(o.db, o.target);
  if (o.import->parsed()) return run_import(o.db, o.source);
  if (o.rows->parsed()) return run_remote_rows(o.db, o.launch, o.since_ms, o.out);
  return -1;
}

}  // namespace apportion::cli
