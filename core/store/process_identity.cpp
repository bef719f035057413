// SPDX-License-Identifier: GPL-3.0-or-later
// Process identity from /proc: boot id and start ticks.
#include "core/store/process_identity.h"

#include <unistd.h>

#include <array>
#include <fstream>
#include <sstream>

namespace apportion {

namespace {

std::string boot_id() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id;
}

/// Field 22 of /proc/<pid>/stat (starttime) and field 3 (state); the command name (field 2)
/// is in parentheses and may hold spaces, so fields are counted after its closing ')'.
std::optional<std::pair<std::string, char>> stat_fields(int64_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  const size_t close = line.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(line.substr(close + 1));
  std::string field;
  char state = '?';
  std::string start;
  for (int index = 3; rest >> field; ++index) {
    if (index == 3) state = field.empty() ? '?' : field[0];
    if (index == 22) {
      start = field;
      break;
    }
  }
  if (start.empty()) return std::nullopt;
  return std::make_pair(start, state);
}

}  // namespace

std::string this_host_name() {
  std::array<char, 256> buffer{};
  if (gethostname(buffer.data(), buffer.size() - 1) != 0) return {};
  return std::string(buffer.data());
}

std::optional<std::string> process_start_token(int64_t pid) {
  if (pid <= 0) return std::nullopt;
  const auto fields = stat_fields(pid);
  if (!fields || fields->second == 'Z' || fields->second == 'X') return std::nullopt;  // exited
  return boot_id() + ":" + fields->first;
}

ProcessIdentity current_process() {
  ProcessIdentity id;
  id.host = this_host_name();
  id.pid = static_cast<int64_t>(::getpid());
  id.start = process_start_token(id.pid).value_or("");
  return id;
}

bool process_alive(const ProcessIdentity& id) {
  const auto token = process_start_token(id.pid);
  return token && (id.start.empty() || *token == id.start);
}

}  // namespace apportion
