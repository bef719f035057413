// SPDX-License-Identifier: GPL-3.0-or-later
// Submitting, stopping, watching and pulling remote launches (see remote_executor.h): the
// scripts written to the remote workspace and the ssh/sbatch/scancel/squeue calls.
#include "core/remote/remote_executor.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/common/clock.h"
#include "core/common/error.h"
#include "core/remote/process_runner.h"

namespace apportion {
namespace fs = std::filesystem;

namespace {

ExecutorProfile profile_of(const LaunchRecord& r) {
  ExecutorProfile p = executor_profile_from_json(r.profile, "launch " + r.key + ": profile");
  p.name = r.profile_name;
  return p;
}

/// Folder of the ssh connection-sharing sockets (one master connection per host, kept 60 s, so
/// a pull every second does not pay a new ssh handshake each time): private to this user.
std::string ssh_control_dir() {
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  const fs::path dir = runtime && *runtime
                           ? fs::path(runtime) / "apportion-ssh"
                           : fs::path("/tmp") / ("apportion-ssh-" + std::to_string(::getuid()));
  std::error_code ec;
  fs::create_directories(dir, ec);
  fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
  return dir.string();
}

std::vector<std::string> ssh_argv(const SshTarget& t) {
  std::vector<std::string> argv = {"ssh", "-o", "BatchMode=yes"};
  if (t.multiplex) {
    argv.insert(argv.end(),
                {"-o", "ControlMaster=auto", "-o", "ControlPath=" + ssh_control_dir() + "/%C", "-o",
                 "ControlPersist=60"});
  }
  if (t.port > 0) argv.insert(argv.end(), {"-p", std::to_string(t.port)});
  if (!t.identity_file.empty()) argv.insert(argv.end(), {"-i", t.identity_file});
  argv.insert(argv.end(), t.options.begin(), t.options.end());
  argv.push_back(t.user.empty() ? t.host : t.user + "@" + t.host);
  return argv;
}

/// Runs a shell command where the profile's runs run: over ssh, or `sh -c` here.
ProcessResult run_there(const ExecutorProfile& p,
                        const std::string& command,
                        const std::string& input = "",
                        const ProcessOptions& options = {}) {
  std::vector<std::string> argv;
  if (p.ssh.empty()) {
    argv = {"sh", "-c", command};
  } else {
    argv = ssh_argv(p.ssh);
    argv.push_back(command);
  }
  return run_process(argv, input, options);
}

/// run_there(), throwing Error with `what` and the command's stderr when it fails.
std::string must_run_there(const ExecutorProfile& p,
                           const std::string& what,
                           const std::string& command,
                           const std::string& input = "") {
  const ProcessResult r = run_there(p, command, input);
  if (r.exit_code != 0) {
    throw Error(what + " on " + (p.ssh.empty() ? std::string("this computer") : p.ssh.host) +
                " (profile " + p.name + "): " + r.describe());
  }
  return r.out;
}

/// The `apportion` a profile runs: a local profile without an explicit "apportion" runs this
/// very executable.
std::string apportion_of(const ExecutorProfile& p) {
  if (p.kind != ExecutorKind::Local || p.json.contains("apportion")) return p.apportion;
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? p.apportion : self.string();
}

std::string workspace_of(const ExecutorProfile& p, const std::string& home_db) {
  if (p.kind == ExecutorKind::Local) return fs::absolute(home_db).parent_path().string();
  return p.remote_workspace;
}

/// The member script: one `apportion train` (or `train --resume RUN` with "resume RUN"), its
/// pid in $D/pid, its exit code in $D/exit; a member cancelled while queued never starts.
std::string member_script(const ExecutorProfile& p,
                          const std::string& workspace,
                          const std::string& dir,
                          const std::string& store,
                          const LaunchSpec& spec) {
  std::string args;
  for (const auto& a : spec.train_args) args += " " + shell_quote(a);
  const bool has_device = std::find(spec.train_args.begin(), spec.train_args.end(), "--device") !=
                          spec.train_args.end();
  if (!p.device.empty() && !has_device) args += " --device " + shell_quote(p.device);
  const bool slurm = p.kind == ExecutorKind::Slurm;
  const std::string launcher = slurm && p.slurm.ntasks > 1 ? "srun " : "";
  std::string s =
      "#!/bin/sh\n# Apportion launch " + spec.key + " (written by the home workspace)\n";
  s += "D=" + shell_quote(dir) + "\n";
  s += "[ -f \"$D/cancelled\" ] && exit 0\n";
  s += "rm -f \"$D/exit\"\n";
  s += "cd " + shell_quote(workspace) + " || exit 2\n";
  s += "if [ \"$1\" = resume ]; then set -- train --resume \"$2\"; else set -- train "
       "\"$D/config.json\"" +
       args + " --tag " + shell_quote(std::string(kTagRemoteLaunch) + "=" + spec.key) + "; fi\n";
  s += launcher + shell_quote(apportion_of(p)) + " \"$@\" --db " + shell_quote(store) +
       " --workspace " + shell_quote(workspace) +
       " --progress json >> \"$D/out.log\" 2>> \"$D/err.log\" < /dev/null &\n";
  s += "echo $! > \"$D/pid\"\nwait $!\necho $? > \"$D/exit\"\n";
  return s;
}

std::string sbatch_script(const ExecutorProfile& p,
                          const std::string& workspace,
                          const std::string& name,
                          const std::vector<std::string>& keys,
                          bool array) {
  std::string s = "#!/bin/sh\n";
  s += "#SBATCH --job-name=apportion-" + name + "\n";
  s += "#SBATCH --output=" + workspace + "/remote/slurm-%A_%a.out\n";
  if (array) {
    s += "#SBATCH --array=0-" + std::to_string(keys.size() - 1) + "%" +
         std::to_string(p.max_parallel) + "\n";
  }
  if (!p.slurm.partition.empty()) s += "#SBATCH --partition=" + p.slurm.partition + "\n";
  if (!p.slurm.time_limit.empty()) s += "#SBATCH --time=" + p.slurm.time_limit + "\n";
  s += "#SBATCH --ntasks=" + std::to_string(p.slurm.ntasks) + "\n";
  if (p.slurm.cpus_per_task > 0) {
    s += "#SBATCH --cpus-per-task=" + std::to_string(p.slurm.cpus_per_task) + "\n";
  }
  if (p.slurm.gpus_per_task > 0) {
    s += "#SBATCH --gpus-per-task=" + std::to_string(p.slurm.gpus_per_task) + "\n";
  }
  for (const auto& line : p.slurm.sbatch_lines) {
    s += (line.rfind("#SBATCH", 0) == 0 ? line : "#SBATCH " + line) + "\n";
  }
  std::string list;
  for (const auto& k : keys) list += (list.empty() ? "" : " ") + k;
  s += "KEYS=\"" + list + "\"\ni=0\n";
  s +=
      "for k in $KEYS; do [ \"$i\" = \"${SLURM_ARRAY_TASK_ID:-0}\" ] && KEY=$k; i=$((i+1)); done\n";
  s += "exec sh " + shell_quote(workspace + "/remote/") + "\"$KEY\"/run.sh \"$@\"\n";
  return s;
}

/// The job id of `sbatch --parsable` output ("4711" or "4711;cluster").
std::string parse_job_id(const std::string& out, const std::string& command) {
  std::string id = out.substr(0, out.find_first_of(";\n"));
  if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
    throw Error("`" + command + "` printed no job id: " + out);
  }
  return id;
}

std::string submit_slurm(const ExecutorProfile& p,
                         const std::string& workspace,
                         const std::string& script_path,
                         const std::string& script,
                         const std::string& args) {
  must_run_there(p, "writing the sbatch script", "cat > " + shell_quote(script_path), script);
  const std::string cmd = "sbatch --parsable " + shell_quote(script_path) + args;
  return parse_job_id(
      must_run_there(p, "submitting to Slurm", "cd " + shell_quote(workspace) + " && " + cmd), cmd);
}

}  // namespace

bool writes_home_store(const LaunchRecord& record, const std::string& home_db) {
  return fs::weakly_canonical(fs::absolute(record.store)) ==
         fs::weakly_canonical(fs::absolute(home_db));
}

std::vector<LaunchRecord> submit_launches(const ExecutorProfile& profile,
                                          const std::vector<LaunchSpec>& specs,
                                          const std::string& home_db) {
  const std::string home_ws = fs::absolute(home_db).parent_path().string();
  const std::string ws = workspace_of(profile, home_db);
  std::vector<LaunchRecord> records;
  for (const auto& spec : specs) {
    LaunchRecord r;
    r.key = spec.key;
    r.profile = profile.json;
    r.profile_name = profile.name;
    r.remote_dir = ws + "/remote/" + spec.key;
    r.store = profile.kind == ExecutorKind::Local ? fs::absolute(home_db).string()
                                                  : r.remote_dir + "/store.sqlite";
    r.config_name = spec.config_name;
    r.sweep = spec.sweep;
    r.member = spec.member;
    r.train_args = spec.train_args;
    const std::string d = shell_quote(r.remote_dir);
    must_run_there(profile, "creating " + r.remote_dir,
                   "mkdir -p " + d + " && cat > " + d + "/config.json", spec.config_text);
    must_run_there(profile, "writing the launch script", "cat > " + d + "/run.sh",
                   member_script(profile, ws, r.remote_dir, r.store, spec));
    records.push_back(r);
  }
  const int64_t now = now_ms();
  if (profile.kind == ExecutorKind::Slurm) {
    std::vector<std::string> keys;
    for (const auto& r : records) keys.push_back(r.key);
    const bool array = records.size() > 1;
    const std::string name = array ? specs.front().sweep : specs.front().key;
    const std::string path = ws + "/remote/" + name + ".sbatch";
    const std::string job =
        submit_slurm(profile, ws, path, sbatch_script(profile, ws, name, keys, array), "");
    for (size_t i = 0; i < records.size(); ++i) {
      records[i].attempts.push_back({"run", array ? job + "_" + std::to_string(i) : job, now, ""});
    }
  } else {
    std::string queue;
    for (const auto& r : records) queue += shell_quote(r.remote_dir + "/run.sh") + "\n";
    const std::string qfile = ws + "/remote/" + records.front().key + ".queue";
    must_run_there(profile, "writing the queue", "cat > " + shell_quote(qfile), queue);
    const std::string pid =
        must_run_there(profile, "starting the queue",
                       "cd " + shell_quote(ws) + " || exit 2; nohup xargs -P " +
                           std::to_string(profile.max_parallel) + " -n 1 sh < " +
                           shell_quote(qfile) + " > /dev/null 2>&1 & echo $!");
    const std::string handle = pid.substr(0, pid.find('\n'));
    for (auto& r : records) r.attempts.push_back({"run", handle, now, ""});
  }
  for (const auto& r : records) save_launch_record(home_ws, r);
  return records;
}

void resubmit_launch(LaunchRecord& record, const std::string& run_id, const std::string& home_db) {
  const ExecutorProfile p = profile_of(record);
  const std::string ws = workspace_of(p, home_db);
  const std::string args = run_id.empty() ? "" : " resume " + shell_quote(run_id);
  std::string handle;
  if (p.kind == ExecutorKind::Slurm) {
    const std::string path = record.remote_dir + "/resubmit.sbatch";
    handle = submit_slurm(p, ws, path, sbatch_script(p, ws, record.key, {record.key}, false), args);
  } else {
    const std::string out =
        must_run_there(p, "resubmitting launch " + record.key,
                       "rm -f " + shell_quote(record.remote_dir + "/cancelled") + "; nohup sh " +
                           shell_quote(record.remote_dir + "/run.sh") + args +
                           " > /dev/null 2>&1 < /dev/null & echo $!");
    handle = out.substr(0, out.find('\n'));
  }
  record.attempts.push_back({run_id.empty() ? "run" : "resume", handle, now_ms(), run_id});
  record.ended = false;
  save_launch_record(fs::absolute(home_db).parent_path().string(), record);
}

void stop_launch(const LaunchRecord& record) {
  const ExecutorProfile p = profile_of(record);
  if (record.attempts.empty()) throw Error("launch " + record.key + " was never submitted");
  if (p.kind == ExecutorKind::Slurm) {
    must_run_there(p, "cancelling job " + record.attempts.back().handle,
                   "scancel " + shell_quote(record.attempts.back().handle));
    return;
  }
  const std::string d = shell_quote(record.remote_dir);
  must_run_there(p, "stopping launch " + record.key,
                 "touch " + d + "/cancelled; if [ -f " + d + "/pid ] && [ ! -f " + d +
                     "/exit ]; then kill -TERM \"$(cat " + d + "/pid)\" 2>/dev/null; fi; true");
}

bool launch_active(const LaunchRecord& record) {
  const ExecutorProfile p = profile_of(record);
  if (record.attempts.empty()) return false;
  const std::string handle = record.attempts.back().handle;
  if (p.kind == ExecutorKind::Slurm) {
    const ProcessResult r = run_there(p, "squeue -h -o %T -j " + shell_quote(handle));
    if (r.exit_code != 0) {
      // Gone from Slurm's memory (finished longer than MinJobAge ago); anything else (slurmctld
      // or the login host unreachable) must not end the launch.
      if (r.err.find("Invalid job id") != std::string::npos) return false;
      throw Error("asking Slurm about job " + handle + " (launch " + record.key +
                  "): " + r.describe());
    }
    return r.out.find_first_not_of(" \n") != std::string::npos;
  }
  const std::string d = shell_quote(record.remote_dir);
  const std::string cmd =
      "if [ -f " + d + "/exit ]; then echo ended; elif [ -f " + d + "/pid ] && kill -0 \"$(cat " +
      d + "/pid)\" 2>/dev/null; then echo running; elif [ ! -f " + d + "/pid ] && [ ! -f " + d +
      "/cancelled ] && kill -0 " + shell_quote(handle) +
      " 2>/dev/null; then echo queued; else echo ended; fi";
  const std::string state = must_run_there(p, "asking about launch " + record.key, cmd);
  return state.rfind("ended", 0) != 0;
}

std::string launch_error_tail(const LaunchRecord& record) {
  const ExecutorProfile p = profile_of(record);
  return run_there(p, "tail -n 20 " + shell_quote(record.remote_dir + "/err.log") + " 2>/dev/null")
      .out;
}

PullReport pull_launch(const LaunchRecord& record, const std::string& home_db) {
  if (writes_home_store(record, home_db)) return launch_status(home_db, record.key);
  const ExecutorProfile p = profile_of(record);
  const int64_t since = pull_cursor_ms(home_db, record.key);
  const fs::path tmp =
      fs::absolute(home_db).parent_path() / "remote" / (".pull-" + record.key + ".sqlite");
  fs::create_directories(tmp.parent_path());
  ProcessOptions o;
  o.stdout_file = tmp.string();
  o.timeout_s = 600;
  const std::string store = shell_quote(record.store);
  const ProcessResult r =
      run_there(p,
                "if [ -f " + store + " ]; then " + shell_quote(apportion_of(p)) +
                    " remote-rows --db " + store + " --launch " + shell_quote(record.key) +
                    " --since-ms " + std::to_string(since) + " --out -; fi",
                "", o);
  if (r.exit_code != 0) {
    std::error_code ec;
    fs::remove(tmp, ec);
    throw Error("pulling launch " + record.key + " from " +
                (p.ssh.empty() ? std::string("this computer") : p.ssh.host) + ": " + r.describe());
  }
  PullReport report;
  if (fs::file_size(tmp) > 0) report = merge_launch_rows(tmp.string(), home_db, record.key);
  fs::remove(tmp);
  return report;
}

std::string fetch_run_artifacts(const LaunchRecord& record,
                                const std::string& run_id,
                                const std::string& home_db) {
  const fs::path home_runs = fs::absolute(home_db).parent_path() / "runs";
  if (writes_home_store(record, home_db)) return (home_runs / run_id).string();
  const ExecutorProfile p = profile_of(record);
  fs::create_directories(home_runs);
  const fs::path tar = home_runs / (".fetch-" + run_id + ".tar");
  ProcessOptions o;
  o.stdout_file = tar.string();
  o.timeout_s = 3600;
  const ProcessResult r = run_there(
      p, "cd " + shell_quote(p.remote_workspace + "/runs") + " && tar -cf - " + shell_quote(run_id),
      "", o);
  if (r.exit_code != 0) {
    fs::remove(tar);
    throw Error("copying the artifacts of run " + run_id + ": " + r.describe());
  }
  const ProcessResult x = run_process({"tar", "-xf", tar.string(), "-C", home_runs.string()});
  fs::remove(tar);
  if (x.exit_code != 0)
    throw Error("unpacking the artifacts of run " + run_id + ": " + x.describe());
  return (home_runs / run_id).string();
}

}  // namespace apportion
