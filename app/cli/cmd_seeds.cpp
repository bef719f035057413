// SPDX-License-Identifier: GPL-3.0-or-later
// `apportion train CONFIG --seeds SPEC [--parallel N]`: one `apportion train` child process per
// seed (this same binary), all tagged with one new seed_group, then a summary of the group.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "app/cli/commands.h"
#include "app/cli/exit_codes.h"
#include "app/cli/stop_signals.h"
#include "core/common/error.h"
#include "core/common/uuid.h"
#include "core/distributed/dist_env.h"
#include "core/events/progress_line.h"
#include "core/store/run_groups.h"
#include "core/store/run_reader.h"
#include "core/store/store_keys.h"

namespace apportion::cli {
namespace fs = std::filesystem;

namespace {

/// More seeds than this in one --seeds is almost certainly a typo (0-10000 for 0-10).
constexpr size_t kMaxSeeds = 1000;

const char* kSpecHint = "write seeds and ranges such as 0-4, 0,2,7 or 0-2,5";

uint64_t parse_seed_number(const std::string& text, const std::string& spec) {
  if (text.empty() || text.size() > 18 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    throw ConfigError("--seeds '" + spec + "': '" + text + "' is not a seed; " + kSpecHint);
  }
  return std::stoull(text);
}

/// One child `apportion train` process and what its output told us.
struct Child {
  uint64_t seed = 0;
  pid_t pid = -1;
  int out_fd = -1, err_fd = -1;
  std::string out_buf, err_buf;
  std::vector<std::string> run_ids;   ///< from its "started" lines
  std::vector<std::string> err_tail;  ///< last stderr lines (shown when it fails quietly)
  bool started = false, exited = false;
  int exit_code = -1;
  std::string how;  ///< "exit N" or "signal N"
};

enum class Output { Json, Lines, Quiet };

/// Higher is worse: FAILED (or a crash) > usage error > KILLED > FINISHED.
int severity(int code) {
  switch (code) {
    case kExitFinished:
      return 0;
    case kExitKilled:
      return 1;
    case kExitUsage:
      return 2;
    default:
      return 3;
  }
}

std::string prefix(const Child& c) { return "[s" + std::to_string(c.seed) + "] "; }

/// Starts one child with stdout and stderr on pipes; exits the child if exec fails.
void spawn(Child& c, const std::vector<std::string>& argv) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
    throw Error(std::string("cannot create a pipe for a seed run: ") + std::strerror(errno));
  }
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw Error(std::string("cannot start a seed run: ") + std::strerror(errno));
  if (pid == 0) {
    // Own process group: a terminal's Ctrl-C reaches only the parent, which forwards one
    // SIGTERM (a second signal would end a child without its checkpoint). If the parent dies,
    // the child is asked to stop the same way.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(kExitKilled);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    ::execv("/proc/self/exe", cargv.data());
    const std::string msg =
        std::string("error: cannot run /proc/self/exe: ") + std::strerror(errno) + "\n";
    (void)!::write(STDERR_FILENO, msg.data(), msg.size());
    ::_exit(kExitFailed);
  }
  ::close(out[1]);
  ::close(err[1]);
  c.pid = pid;
  c.out_fd = out[0];
  c.err_fd = err[0];
}

std::string fmt_percent(double v) {
  if (std::isnan(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f %%", 100.0 * v);
  return buf;
}

}  // namespace

std::vector<uint64_t> parse_seed_spec(const std::string& spec) {
  if (spec.empty()) throw ConfigError(std::string("--seeds \"\": no seeds given; ") + kSpecHint);
  std::vector<uint64_t> seeds;
  std::set<uint64_t> seen;
  std::stringstream parts(spec);
  std::string part;
  while (std::getline(parts, part, ',')) {
    uint64_t lo = 0, hi = 0;
    const auto dash = part.find('-');
    if (dash == std::string::npos) {
      lo = hi = parse_seed_number(part, spec);
    } else {
      lo = parse_seed_number(part.substr(0, dash), spec);
      hi = parse_seed_number(part.substr(dash + 1), spec);
      if (hi < lo) {
        throw ConfigError("--seeds '" + spec + "': the range " + part + " runs backwards; write " +
                          std::to_string(hi) + "-" + std::to_string(lo));
      }
    }
    if (hi - lo >= kMaxSeeds || seeds.size() + (hi - lo + 1) > kMaxSeeds) {
      throw ConfigError("--seeds '" + spec + "': more than " + std::to_string(kMaxSeeds) +
                        " seeds; write a shorter list");
    }
    for (uint64_t s = lo; s <= hi; ++s) {
      if (!seen.insert(s).second) {
        throw ConfigError("--seeds '" + spec + "': seed " + std::to_string(s) +
                          " is listed twice; list each seed once");
      }
      seeds.push_back(s);
    }
  }
  if (spec.back() == ',') {
    throw ConfigError("--seeds '" + spec + "': '' is not a seed; " + kSpecHint);
  }
  return seeds;
}

std::string format_seed_list(const std::vector<uint64_t>& seeds) {
  std::vector<uint64_t> s = seeds;
  std::sort(s.begin(), s.end());
  s.erase(std::unique(s.begin(), s.end()), s.end());
  std::string out;
  for (size_t i = 0; i < s.size();) {
    size_t j = i;
    while (j + 1 < s.size() && s[j + 1] == s[j] + 1) ++j;
    if (!out.empty()) out += ",";
    out += std::to_string(s[i]);
    if (j > i) out += (j == i + 1 ? "," : "-") + std::to_string(s[j]);
    i = j + 1;
  }
  return out;
}

std::vector<std::string> forwarded_train_args(const TrainArgs& args) {
  std::vector<std::string> a;
  for (const auto& o : args.overrides) a.insert(a.end(), {"--set", o});
  if (args.max_steps > 0) a.insert(a.end(), {"--max-steps", std::to_string(args.max_steps)});
  if (args.stop_after >= 0) a.insert(a.end(), {"--stop-after", std::to_string(args.stop_after)});
  if (args.threads > 0) a.insert(a.end(), {"--threads", std::to_string(args.threads)});
  if (!args.device.empty()) a.insert(a.end(), {"--device", args.device});
  for (const auto& t : args.tags) a.insert(a.end(), {"--tag", t});
  return a;
}

int run_seeded_train(const TrainArgs& args) {
  // Every check happens before anything is written: no child, no database file.
  std::vector<uint64_t> seeds;
  std::string base_name;
  try {
    if (!args.resume.empty()) {
      throw ConfigError(
          "--seeds cannot be combined with --resume: resume each stopped seed run on its own "
          "with `apportion train --resume RUN`");
    }
    if (args.pretrain) throw ConfigError("--seeds: only `apportion train` takes --seeds");
    if (const DistEnv env = dist_env_from_environment(); env.distributed()) {
      // Every rank would start its own copy of every seed run.
      throw ConfigError("--seeds inside a launched world (" + env.source +
                        " variables are set): each seed is a run of its own; start one world "
                        "per seed, or run `apportion sweep` with \"seeds\"");
    }
    seeds = parse_seed_spec(args.seeds);
    if (args.parallel_given && args.parallel < 1) {
      throw ConfigError("--parallel " + std::to_string(args.parallel) +
                        ": must be at least 1 (seed runs at a time); write --parallel 1 or more, "
                        "or leave it out to run the seeds one after another");
    }
    for (const auto& o : args.overrides) {
      if (o.rfind("seed=", 0) == 0) {
        throw ConfigError("--set " + o + ": --seeds sets each run's seed; drop this --set");
      }
    }
    for (const auto& t : args.tags) {
      if (t.rfind(std::string(kSeedGroupTag) + "=", 0) == 0) {
        throw ConfigError("--tag " + t + ": --seeds writes the seed_group tag; drop this --tag");
      }
    }
    TrainArgs first = args;
    first.overrides.push_back("seed=" + std::to_string(seeds.front()));
    const std::string config_name = check_train_config(first);
    base_name = args.name.empty() ? config_name : args.name;
  } catch (const Error& e) {
    print_error(e.what());
    return kExitUsage;
  }

  const std::string db_path = args.db_path.empty() ? default_db_path() : args.db_path;
  const bool db_existed = fs::exists(db_path);
  const Output mode =
      args.progress == "json" || (args.progress == "auto" && !::isatty(STDOUT_FILENO))
          ? Output::Json
      : args.progress == "none" ? Output::Quiet
                                : Output::Lines;
  std::ostream& report = mode == Output::Json ? std::cerr : std::cout;
  const std::string group = make_uuid_hex();
  const size_t parallel = args.parallel_given ? static_cast<size_t>(args.parallel) : 1;

  auto child_argv = [&](uint64_t seed) {
    std::vector<std::string> a{"apportion", "train", args.config_path, "--db", db_path};
    const auto forwarded = forwarded_train_args(args);
    a.insert(a.end(), forwarded.begin(), forwarded.end());
    a.insert(a.end(), {"--set", "seed=" + std::to_string(seed)});
    a.insert(a.end(), {"--name", base_name + "-s" + std::to_string(seed)});
    a.insert(a.end(), {"--tag", std::string(kSeedGroupTag) + "=" + group});
    a.insert(a.end(), {"--progress", "json"});
    return a;
  };

  report << "seed group " << group << ": " << seeds.size() << " runs of " << base_name << " (seeds "
         << format_seed_list(seeds) << ")"
         << (parallel > 1 ? ", up to " + std::to_string(parallel) + " at a time" : "") << std::endl;

  StopSource stop;
  install_stop_signals(stop);
  std::vector<Child> children(seeds.size());
  for (size_t i = 0; i < seeds.size(); ++i) children[i].seed = seeds[i];
  size_t next = 0, running = 0;
  bool stop_forwarded = false;

  auto handle_line = [&](Child& c, const std::string& line, bool is_stdout) {
    if (!is_stdout) {
      c.err_tail.push_back(line);
      if (c.err_tail.size() > 20) c.err_tail.erase(c.err_tail.begin());
      if (mode != Output::Quiet) std::cerr << prefix(c) << line << std::endl;
      return;
    }
    if (mode == Output::Json) std::cout << line << std::endl;
    const auto l = parse_progress_line(line);
    if (!l) return;
    if (l->event == "started") {
      c.started = true;
      c.run_ids.push_back(l->run_id);
      if (mode != Output::Json) {
        report << prefix(c) << "run " << l->run_id << " started" << std::endl;
      }
    } else if (l->event == "status" && mode != Output::Json) {
      report << prefix(c) << "run " << l->run_id << " " << l->status
             << (l->message.empty() ? "" : ": " + l->message) << std::endl;
    }
  };
  auto drain = [&](Child& c, int& fd, std::string& buf, bool is_stdout) {
    char chunk[4096];
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
      if (!buf.empty()) handle_line(c, buf, is_stdout);
      buf.clear();
      ::close(fd);
      fd = -1;
      return;
    }
    buf.append(chunk, static_cast<size_t>(n));
    size_t pos;
    while ((pos = buf.find('\n')) != std::string::npos) {
      handle_line(c, buf.substr(0, pos), is_stdout);
      buf.erase(0, pos + 1);
    }
  };

  while (true) {
    if (stop.stop_requested() && !stop_forwarded) {
      stop_forwarded = true;
      report << "stop requested: stopping the running seed runs (checkpoint, KILLED); "
             << (seeds.size() - next) << " not started" << std::endl;
      for (auto& c : children) {
        if (c.pid > 0 && !c.exited) ::kill(c.pid, SIGTERM);
      }
    }
    // A new database is created by the first child alone; the others wait for its row.
    const bool gate = !db_existed && next > 0 &&
                      std::none_of(children.begin(), children.begin() + next,
                                   [](const Child& c) { return c.started || c.exited; });
    while (!stop.stop_requested() && !gate && next < seeds.size() && running < parallel) {
      Child& c = children[next++];
      spawn(c, child_argv(c.seed));
      ++running;
      if (!db_existed) break;
    }
    if (running == 0 && (next == seeds.size() || stop.stop_requested())) break;

    std::vector<pollfd> fds;
    std::vector<std::pair<Child*, bool>> owners;
    for (auto& c : children) {
      if (c.out_fd >= 0) {
        fds.push_back({c.out_fd, POLLIN, 0});
        owners.push_back({&c, true});
      }
      if (c.err_fd >= 0) {
        fds.push_back({c.err_fd, POLLIN, 0});
        owners.push_back({&c, false});
      }
    }
    if (!fds.empty()) {
      const int ready = ::poll(fds.data(), fds.size(), 200);
      if (ready > 0) {
        for (size_t i = 0; i < fds.size(); ++i) {
          if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
          Child& c = *owners[i].first;
          if (owners[i].second) {
            drain(c, c.out_fd, c.out_buf, true);
          } else {
            drain(c, c.err_fd, c.err_buf, false);
          }
        }
      }
    }
    for (auto& c : children) {
      if (c.pid <= 0 || c.exited || c.out_fd >= 0 || c.err_fd >= 0) continue;
      int status = 0;
      const pid_t r = ::waitpid(c.pid, &status, fds.empty() ? 0 : WNOHANG);
      if (r != c.pid) continue;
      c.exited = true;
      --running;
      if (WIFEXITED(status)) {
        c.exit_code = WEXITSTATUS(status);
        c.how = "exit " + std::to_string(c.exit_code);
      } else {
        c.exit_code = kExitFailed;  // a crash (abort, SIGKILL, OOM killer) is a failure
        c.how = "signal " + std::to_string(WTERMSIG(status));
      }
      if (c.exit_code != kExitFinished) {
        report << prefix(c) << "seed " << c.seed << " ended with " << c.how << std::endl;
        if (mode == Output::Quiet && c.exit_code != kExitKilled) {  // why it failed
          for (const auto& l : c.err_tail) std::cerr << prefix(c) << l << std::endl;
        }
      }
    }
  }

  // Summary from the store: every run of this group, by seed.
  int worst = kExitFinished;
  for (const auto& c : children) {
    const int code = c.exited ? c.exit_code : kExitKilled;  // not started after a stop
    if (severity(code) > severity(worst)) worst = code;
  }
  std::vector<Run> members;
  if (fs::exists(db_path)) {
    const RunReader reader(db_path);
    for (const Run& r : reader.list_runs()) {
      auto it = r.tags.find(kSeedGroupTag);
      if (it != r.tags.end() && it->second == group) members.push_back(r);
    }
  }
  std::reverse(members.begin(), members.end());  // oldest first: search before retrain
  auto metric = [](const Run& r, const char* key) {
    auto it = r.latest_metrics.find(key);
    return it == r.latest_metrics.end() ? std::nan("") : it->second;
  };
  char line[256];
  report << "\n";
  std::snprintf(line, sizeof line, "%-6s %-10s %-9s %10s  %s\n", "SEED", "RUN", "STATUS",
                "EVAL_ACC", "NAME");
  report << line;
  for (const auto& c : children) {
    bool any = false;
    for (const Run& r : members) {
      if (r.seed != c.seed) continue;
      any = true;
      std::snprintf(line, sizeof line, "%-6llu %-10s %-9s %10s  %s\n",
                    static_cast<unsigned long long>(c.seed), r.run_id.substr(0, 8).c_str(),
                    to_string(r.status), fmt_percent(metric(r, kMetricEvalAcc)).c_str(),
                    r.name.c_str());
      report << line;
    }
    if (!any) {
      std::snprintf(line, sizeof line, "%-6llu %-10s %-9s %10s  %s\n",
                    static_cast<unsigned long long>(c.seed), "-", c.exited ? "NO RUN" : "SKIPPED",
                    "-", c.exited ? c.how.c_str() : "not started (stop requested)");
      report << line;
    }
  }
  for (const SeedGroup& g : group_runs(members)) {
    std::vector<double> acc;
    for (const Run& r : members) {
      if (std::find(g.run_ids.begin(), g.run_ids.end(), r.run_id) != g.run_ids.end())
        acc.push_back(metric(r, kMetricEvalAcc));
    }
    const SampleSummary s = summarize(acc);
    report << "group " << g.key << " (" << g.label << "): " << g.run_ids.size() << " runs";
    if (s.n > 0) {
      std::snprintf(line, sizeof line,
                    "; eval/acc mean %.2f %% +- %.2f (std, n=%d), min-max %.2f-%.2f %%",
                    100 * s.mean, 100 * s.stddev, s.n, 100 * s.min, 100 * s.max);
      report << line;
    }
    report << "\n";
  }
  report << (worst == kExitFinished ? "all seeds FINISHED" : "not all seeds FINISHED")
         << "; see the group with `apportion runs --groups --db " << db_path << "`" << std::endl;
  return worst;
}

}  // namespace apportion::cli
