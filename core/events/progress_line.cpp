// SPDX-License-Identifier: GPL-3.0-or-later
// Writing and parsing the stdout JSON-lines protocol (see progress_line.h).
#include "core/events/progress_line.h"

#include <nlohmann/json.hpp>

#include "core/common/json_parse.h"

namespace apportion {

std::string format_progress_line(const ProgressLine& line) {
  nlohmann::json j;
  j["v"] = line.version;
  j["event"] = line.event;
  if (!line.run_id.empty()) j["run_id"] = line.run_id;
  if (line.event == "started") {
    j["db"] = line.db;
    j["pid"] = line.pid;
  } else if (line.event == "committed") {
    j["step"] = line.step;
  } else if (line.event == "progress") {
    j["step"] = line.step;
    j["total"] = line.total;
    j["elapsed_s"] = line.elapsed_s;
  } else if (line.event == "status") {
    j["status"] = line.status;
    j["message"] = line.message;
    j["exit_code"] = line.exit_code;
  }
  // Invalid UTF-8 in a message must not make the writer throw.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace {
template <typename T>
void read_if(const nlohmann::json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it == j.end()) return;
  if constexpr (std::is_same_v<T, std::string>) {
    if (it->is_string()) out = it->template get<std::string>();
  } else if constexpr (std::is_integral_v<T>) {
    if (auto n = json_to_integer<T>(*it)) out = *n;  // out of range: ignored like a wrong type
  } else {
    if (it->is_number()) out = it->template get<T>();
  }
}
}  // namespace

std::optional<ProgressLine> parse_progress_line(const std::string& text) {
  const auto parsed = try_parse_json_bounded(text, JsonLimits::line());
  if (!parsed || !parsed->is_object()) return std::nullopt;
  const nlohmann::json& j = *parsed;
  auto v = j.find("v");
  auto ev = j.find("event");
  const auto version = v == j.end() ? std::nullopt : json_to_integer<int>(*v);
  if (!version || !v->is_number_integer() || ev == j.end() || !ev->is_string()) return std::nullopt;
  ProgressLine line;
  line.version = *version;
  line.event = ev->get<std::string>();
  read_if(j, "run_id", line.run_id);
  read_if(j, "db", line.db);
  read_if(j, "pid", line.pid);
  read_if(j, "step", line.step);
  read_if(j, "total", line.total);
  read_if(j, "elapsed_s", line.elapsed_s);
  read_if(j, "status", line.status);
  read_if(j, "message", line.message);
  read_if(j, "exit_code", line.exit_code);
  return line;
}

}  // namespace apportion
