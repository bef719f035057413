// SPDX-License-Identifier: GPL-3.0-or-later
// read_dataset_file: opens the file, dispatches on the format, reports empty results; plus the
// helpers the per-format readers share (JSON arrays and JSON Lines with exact line numbers,
// typed fields, line splitting).
#include "core/datasets/dataset_readers.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/common/error.h"
#include "core/common/json_parse.h"
#include "core/datasets/reader_util.h"

namespace apportion {
namespace dataset_io {
namespace {

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/// Parses text[begin, end) as one JSON value (bounded: core/common/json_parse.h); on a syntax
/// error throws a DataError with the file line (and column) of the fault. `line` is the line
/// `begin` is on.
nlohmann::json parse_piece(const std::string& path,
                           const std::string& text,
                           size_t begin,
                           size_t end,
                           int64_t line,
                           const char* expected) {
  try {
    return parse_json_bounded(std::string_view(text).substr(begin, end - begin),
                              JsonLimits::line());
  } catch (const JsonInputError& e) {
    if (e.where().rfind("at ", 0) == 0) {  // a duplicate key: the path says where
      fail_at(path, line,
              "not valid JSON " + e.where() + ": " + e.reason() + " (" + expected + ")");
    }
    size_t fault = begin + e.byte();
    if (fault >= end) fault = end > begin ? end - 1 : begin;
    int64_t fault_line = line;
    size_t line_start = begin;
    for (size_t i = begin; i < fault; ++i) {
      if (text[i] == '\n') {
        ++fault_line;
        line_start = i + 1;
      }
    }
    // A fault at the start of a line (e.g. an unterminated string) is on that line already.
    fail_at(path, fault_line,
            "not valid JSON at column " + std::to_string(fault - line_start + 1) + ": " +
                e.reason() + " (" + expected + ")");
  }
}

void require_object(const std::string& path, int64_t line, const nlohmann::json& j) {
  if (!j.is_object()) {
    fail_at(path, line,
            std::string("each example must be a JSON object {…}, got ") + j.type_name());
  }
}

size_t for_each_array_element(const std::string& path,
                              const std::string& text,
                              size_t open,
                              int64_t open_line,
                              const std::function<void(const nlohmann::json&, int64_t)>& fn) {
  const size_t n = text.size();
  size_t pos = open + 1;
  int64_t line = open_line;
  size_t count = 0;
  bool after_comma = false;
  for (;;) {
    while (pos < n && is_json_space(text[pos])) {
      if (text[pos] == '\n') ++line;
      ++pos;
    }
    if (pos >= n) {
      fail_at(path, line,
              "the JSON array opened on line " + std::to_string(open_line) +
                  " is not closed (missing ']'; is the file truncated?)");
    }
    if (text[pos] == ']') {
      if (after_comma) {
        fail_at(path, line, "trailing comma before ']' (JSON does not allow one; remove it)");
      }
      ++pos;
      break;
    }
    if (text[pos] == ',') {
      fail_at(path, line,
              after_comma ? "empty array element (two commas in a row)"
                          : "empty array element (a comma right after '[')");
    }
    // Find the end of this element: a ',' or ']' outside strings and nested brackets.
    const size_t start = pos;
    const int64_t start_line = line;
    int depth = 0;
    bool in_string = false;
    while (pos < n) {
      const char c = text[pos];
      if (in_string) {
        if (c == '\\' && pos + 1 < n) {
          ++pos;
          if (text[pos] == '\n') ++line;
        } else if (c == '"') {
          in_string = false;
        }
      } else if (c == '"') {
        in_string = true;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (depth == 0 && c == ']') break;
        --depth;
      } else if (c == ',' && depth == 0) {
        break;
      }
      if (c == '\n') ++line;
      ++pos;
    }
    const nlohmann::json j =
        parse_piece(path, text, start, pos, start_line, "the file is a JSON array of objects");
    if (pos >= n) {
      fail_at(path, line,
              "the JSON array opened on line " + std::to_string(open_line) +
                  " is not closed (missing ']'; is the file truncated?)");
    }
    require_object(path, start_line, j);
    fn(j, start_line);
    ++count;
    after_comma = text[pos] == ',';
    if (after_comma) ++pos;
  }
  while (pos < n && is_json_space(text[pos])) {
    if (text[pos] == '\n') ++line;
    ++pos;
  }
  if (pos < n) {
    fail_at(path, line,
            "unexpected text after the closing ']' of the JSON array (the file must hold one "
            "top-level array)");
  }
  return count;
}

}  // namespace

void fail_at(const std::string& path, int64_t line, const std::string& message) {
  throw DataError(path + ":" + std::to_string(line) + ": " + message);
}

std::string show_text(std::string_view text) {
  std::string out = "\"";
  size_t i = 0;
  for (; i < text.size() && i < 60; ++i) {
    const char c = text[i];
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  if (i < text.size()) out += "…";
  return out + "\"";
}

size_t for_each_json_row(const std::string& path,
                         const std::string& text,
                         const std::function<void(const nlohmann::json&, int64_t)>& fn) {
  size_t first = 0;
  int64_t line = 1;
  while (first < text.size() && is_json_space(text[first])) {
    if (text[first] == '\n') ++line;
    ++first;
  }
  if (first < text.size() && text[first] == '[') {
    return for_each_array_element(path, text, first, line, fn);
  }
  // JSON Lines: one object per non-blank line.
  size_t count = 0;
  size_t begin = 0;
  int64_t line_no = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    ++line_no;
    size_t b = begin;
    while (b < end && is_json_space(text[b])) ++b;
    if (b < end) {
      const nlohmann::json j =
          parse_piece(path, text, begin, end, line_no,
                      "JSON Lines: one JSON object per line, or a JSON array [{…}, …]");
      require_object(path, line_no, j);
      fn(j, line_no);
      ++count;
    }
    begin = end + 1;
  }
  return count;
}

std::string string_field(const nlohmann::json& row,
                         const char* field,
                         bool required,
                         const std::string& path,
                         int64_t line,
                         const char* hint) {
  const auto it = row.find(field);
  if (it == row.end() || it->is_null()) {
    if (required) {
      fail_at(path, line, std::string("missing field \"") + field + "\" (" + hint + ")");
    }
    return {};
  }
  if (!it->is_string()) {
    fail_at(path, line,
            std::string("field \"") + field + "\" must be a string, got " + it->type_name() + " " +
                show_text(it->dump()));
  }
  return it->get<std::string>();
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    std::string_view l = text.substr(begin, end - begin);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    lines.push_back(l);
    begin = end + 1;
  }
  return lines;
}

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace dataset_io

std::vector<DatasetRecord> read_dataset_file(const std::string& path, const DatasetSpec& spec) {
  namespace fs = std::filesystem;
  const std::string where_hint =
      "check data.root and this dataset's train/eval paths; relative paths are resolved against "
      "data.root, else the workspace folder";
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    throw DataError(path + ": is a folder, not a dataset file (" + where_hint + ")");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw DataError(path + ": cannot open the dataset file (" + where_hint + ")");
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  std::string text = std::move(buf).str();
  if (in.bad()) throw DataError(path + ": cannot read the dataset file (I/O error)");
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);  // UTF-8 byte-order mark
  if (dataset_io::trim(text).empty()) {
    throw DataError(path + ": no examples (the file is empty)");
  }

  std::vector<DatasetRecord> rows;
  if (spec.format == kFormatAlpaca) {
    rows = dataset_io::read_alpaca(path, text);
  } else if (spec.format == kFormatScienceQa) {
    rows = dataset_io::read_scienceqa(path, text);
  } else if (spec.format == kFormatGsm8k) {
    rows = dataset_io::read_gsm8k(path, text);
  } else if (spec.format == kFormatGlue) {
    rows = dataset_io::read_glue(path, text, spec.glue_task);
  } else if (spec.format == kFormatCsv) {
    rows = dataset_io::read_csv(path, text, spec.csv_columns);
  } else {
    throw DataError(path + ": unknown dataset format \"" + spec.format +
                    "\" (known: alpaca, scienceqa, gsm8k, glue, csv)");
  }
  if (rows.empty()) {
    throw DataError(path + ": no examples (the file has no records, only " +
                    (spec.format == kFormatCsv ? std::string("a header row")
                     : spec.format == kFormatGlue
                         ? std::string("a header row or blank lines")
                         : std::string("an empty JSON array or blank lines")) +
                    ")");
  }
  return rows;
}

}  // namespace apportion
