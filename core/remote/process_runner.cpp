// SPDX-License-Identifier: GPL-3.0-or-later
// fork/exec with three pipes and poll(), for the remote executors (see process_runner.h).
#include "core/remote/process_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <system_error>

namespace apportion {
namespace {

void check(int rc, const char* what) {
  if (rc < 0) throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

std::string ProcessResult::describe() const {
  std::string tail = err;
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
  if (tail.size() > 2000) tail = "…" + tail.substr(tail.size() - 2000);
  const std::string shown = command.size() > 160 ? command.substr(0, 160) + "…" : command;
  std::string s = "`" + shown + "` ";
  if (timed_out) {
    s += "did not finish in time";
  } else if (signal > 0) {
    s += "was killed by signal " + std::to_string(signal);
  } else {
    s += "exited " + std::to_string(exit_code);
  }
  return tail.empty() ? s : s + ": " + tail;
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::string& input,
                          const ProcessOptions& options) {
  ProcessResult r;
  for (const auto& a : argv) r.command += (r.command.empty() ? "" : " ") + a;
  int in[2], out[2], err[2];
  check(::pipe2(in, O_CLOEXEC), "pipe");
  check(::pipe2(out, O_CLOEXEC), "pipe");
  check(::pipe2(err, O_CLOEXEC), "pipe");
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  const pid_t pid = ::fork();
  check(pid, "fork");
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::signal(SIGPIPE, SIG_DFL);
    ::execvp(cargv[0], cargv.data());
    const std::string msg = std::string("cannot run ") + cargv[0] + ": " + std::strerror(errno);
    (void)!::write(2, msg.data(), msg.size());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  std::ofstream file;
  if (!options.stdout_file.empty()) {
    file.open(options.stdout_file, std::ios::binary | std::ios::trunc);
  }
  size_t written = 0;
  int to_child = in[1];
  if (input.empty()) {
    ::close(to_child);
    to_child = -1;
  } else {
    ::fcntl(to_child, F_SETFL, O_NONBLOCK);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(options.timeout_s);
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0 || to_child >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      r.timed_out = true;
      break;
    }
    pollfd fds[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {to_child, POLLOUT, 0}};
    const int rc = ::poll(fds, 3, static_cast<int>(std::min<long>(left.count(), 1000)));
    if (rc < 0 && errno == EINTR) continue;
    check(rc, "poll");
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        if (i == 0 && file.is_open()) {
          file.write(buf, n);
        } else {
          (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
        }
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        (i == 0 ? out[0] : err[0]) = -1;
        --open_fds;
      }
    }
    if (to_child >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t n = ::write(to_child, input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if (n < 0 && errno != EAGAIN && errno != EINTR) written = input.size();
      if (written >= input.size()) {
        ::close(to_child);
        to_child = -1;
      }
    }
  }
  for (int fd : {out[0], err[0], to_child}) {
    if (fd >= 0) ::close(fd);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!r.timed_out) {
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  }
  return r;
}

}  // namespace apportion
