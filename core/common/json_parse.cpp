// SPDX-License-Identifier: GPL-3.0-or-later
// Bounded JSON parsing: size and depth checked before nlohmann parses, duplicate keys caught by
// its parser callback, its exception texts turned into plain reasons with line and column.
#include "core/common/json_parse.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <vector>

namespace apportion {
namespace {

// An error at `byte` of `text`, with its line and column.
JsonInputError positioned_error(std::string_view text, size_t byte, std::string reason) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  JsonInputError e("line " + std::to_string(line) + ", column " + std::to_string(column) +
                       " (byte " + std::to_string(byte) + ")",
                   std::move(reason), byte);
  e.set_position(line, column);
  return e;
}

// The offset of the first bracket nested deeper than `max_depth`, or npos. Brackets inside
// strings do not count; the scan is linear and needs no stack.
size_t too_deep_at(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::string_view::npos;
}

// nlohmann's what() is "[json.exception.parse_error.101] parse error at line 1, column 5:
// syntax error while parsing value - invalid literal; last read: 'tru,'": keep what follows
// the position.
std::string plain_reason(const std::string& what) {
  std::string s = what;
  const auto bracket = s.find("] ");
  if (s.rfind("[json.exception.", 0) == 0 && bracket != std::string::npos)
    s = s.substr(bracket + 2);
  const auto column = s.find(", column ");
  if (s.rfind("parse error at line ", 0) == 0 && column != std::string::npos) {
    const auto colon = s.find(": ", column);
    if (colon != std::string::npos) s = s.substr(colon + 2);
  }
  return s;
}

// Bytes of `s` that are not printable ASCII written as \xNN, so a message never carries the
// invalid UTF-8 or control bytes nlohmann quotes from the input ("last read: ...").
std::string printable(const std::string& s) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (const unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// One open array or object while parsing, for duplicate-key detection and the error's path.
struct Frame {
  bool is_array = false;
  size_t index = 0;
  std::string key;
  std::set<std::string> keys;
};

std::string frames_path(const std::vector<Frame>& frames) {
  std::string path;
  for (const auto& f : frames) {
    if (f.is_array) {
      path += "[" + std::to_string(f.index) + "]";
    } else if (!f.key.empty()) {
      path += (path.empty() ? "" : ".") + f.key;
    }
  }
  return path.empty() ? "(root)" : path;
}

}  // namespace

JsonInputError::JsonInputError(std::string where, std::string reason, size_t byte)
    : std::runtime_error(where + ": " + reason),
      where_(std::move(where)),
      reason_(std::move(reason)),
      byte_(byte) {}

nlohmann::json parse_json_bounded(std::string_view text, const JsonLimits& limits) {
  using nlohmann::json;
  if (text.size() > limits.max_bytes) {
    throw JsonInputError("file",
                         "the text is " + std::to_string(text.size()) +
                             " bytes, over the limit of " + std::to_string(limits.max_bytes) +
                             " bytes",
                         0);
  }
  const size_t deep = too_deep_at(text, limits.max_depth);
  if (deep != std::string_view::npos) {
    throw positioned_error(
        text, deep,
        "arrays/objects nested deeper than " + std::to_string(limits.max_depth) + " levels");
  }
  std::vector<Frame> frames;
  const auto element_done = [&frames] {
    if (!frames.empty() && frames.back().is_array) ++frames.back().index;
  };
  json::parser_callback_t callback = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        frames.push_back(Frame{event == json::parse_event_t::array_start, 0, {}, {}});
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!frames.empty()) frames.pop_back();
        element_done();
        break;
      case json::parse_event_t::key: {
        if (frames.empty()) break;
        auto& f = frames.back();
        f.key = parsed.get<std::string>();
        if (limits.reject_duplicate_keys && !f.keys.insert(f.key).second) {
          throw JsonInputError("at " + frames_path(frames),
                               "duplicate key \"" + f.key +
                                   "\" in one object (JSON leaves it undefined which one counts)",
                               0);
        }
        break;
      }
      case json::parse_event_t::value:
        element_done();
        break;
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), callback);
  } catch (const json::exception& e) {
    size_t byte = 0;
    if (const auto* pe = dynamic_cast<const json::parse_error*>(&e)) {
      byte = pe->byte == 0 ? 0 : pe->byte - 1;
    } else if (e.id == 406) {
      // "number overflow parsing '1e999'" carries no offset: find the number in the text.
      const std::string what = e.what();
      const auto open = what.find('\''), close = what.rfind('\'');
      if (open != std::string::npos && close > open) {
        const auto at = text.find(what.substr(open + 1, close - open - 1));
        if (at != std::string_view::npos) byte = at;
      }
    }
    std::string reason = printable(plain_reason(e.what()));
    if (e.id == 406) {
      reason = reason.replace(0, std::string("number overflow parsing").size(),
                              "number out of range (beyond a double's ±1.8e308):");
    }
    JsonInputError error = positioned_error(text, byte, reason);
    error.set_truncated(byte + 1 >= text.size());
    throw error;
  }
}

std::optional<nlohmann::json> try_parse_json_bounded(std::string_view text,
                                                     const JsonLimits& limits) {
  try {
    return parse_json_bounded(text, limits);
  } catch (const JsonInputError&) {
    return std::nullopt;
  }
}

nlohmann::json read_json_file_bounded(const std::string& path, const JsonLimits& limits) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw JsonInputError("file", "is a folder, not a JSON file; give the file inside it", 0);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw JsonInputError("file", "cannot open the file (check the path and permissions)", 0);
  in.seekg(0, std::ios::end);
  const auto size = in.tellg();
  if (size < 0) throw JsonInputError("file", "cannot be read (not a regular file?)", 0);
  if (static_cast<uint64_t>(size) > limits.max_bytes) {
    throw JsonInputError("file",
                         std::to_string(static_cast<uint64_t>(size)) +
                             " bytes, over the limit of " + std::to_string(limits.max_bytes) +
                             " bytes for this kind of file",
                         0);
  }
  in.seekg(0, std::ios::beg);
  std::string text(static_cast<size_t>(size), '\0');
  in.read(text.data(), size);
  if (!in) throw JsonInputError("file", "could not be read to its end", 0);
  return parse_json_bounded(text, limits);
}

}  // namespace apportion
