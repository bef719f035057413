// SPDX-License-Identifier: GPL-3.0-or-later
// Format "csv": RFC 4180 CSV with a header row (quoted fields, "" escapes, newlines inside
// quotes, CRLF or LF), columns mapped to record fields by spec.csv_columns.
//
// The parser is written here rather than taken from a library: of Debian 12's C++-usable CSV
// packages, libfccp-dev (fast-cpp-csv-parser) fixes the column count at compile time and
// libcsv-dev is a C callback API (another runtime dependency); neither reports the line a
// record starts on, which every error message here needs. RFC 4180 fits in ~70 lines.
// Leniency: a '"' inside an unquoted field is kept as text (as Python's csv does); text after a
// closing quote is an error; blank lines are skipped.
#include <map>

#include "core/common/error.h"
#include "core/datasets/reader_util.h"

namespace apportion::dataset_io {
namespace {

struct CsvRow {
  std::vector<std::string> fields;
  int64_t line = 0;  ///< physical line the record starts on
};

std::vector<CsvRow> parse_csv(const std::string& path, const std::string& text) {
  std::vector<CsvRow> rows;
  const size_t n = text.size();
  size_t i = 0;
  int64_t line = 1;
  const auto ends_line = [&](size_t k) {  // '\n', or "\r\n", or a final '\r'
    return text[k] == '\n' || (text[k] == '\r' && (k + 1 == n || text[k + 1] == '\n'));
  };
  while (i < n) {
    CsvRow row;
    row.line = line;
    bool quoted_any = false;
    for (;;) {
      std::string field;
      if (i < n && text[i] == '"') {
        quoted_any = true;
        const int64_t open_line = line;
        ++i;
        for (;;) {
          if (i >= n) {
            fail_at(path, open_line,
                    "a quoted CSV field opened on this line is not closed (missing '\"'; a quote "
                    "inside a quoted field is written \"\")");
          }
          if (text[i] == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (text[i] == '\n') ++line;
          field += text[i++];
        }
        if (i < n && text[i] != ',' && !ends_line(i)) {
          fail_at(path, line,
                  "text after the closing quote of a CSV field (a quote inside a quoted field is "
                  "written \"\")");
        }
      } else {
        while (i < n && text[i] != ',' && !ends_line(i)) field += text[i++];
      }
      row.fields.push_back(std::move(field));
      if (i < n && text[i] == ',') {
        ++i;
        continue;
      }
      if (i < n) {  // end of line
        if (text[i] == '\r') ++i;
        if (i < n && text[i] == '\n') ++i;
        ++line;
      }
      break;
    }
    const bool blank = !quoted_any && row.fields.size() == 1 && trim(row.fields[0]).empty();
    if (!blank) rows.push_back(std::move(row));
  }
  return rows;
}

/// Index of the gold choice: the choice equal to `answer`, else a letter A.. or a 0-based
/// number within range, else -1.
int gold_index_of(const std::string& answer, const std::vector<std::string>& choices) {
  if (answer.empty() || choices.empty()) return -1;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (choices[i] == answer) return static_cast<int>(i);
  }
  const auto n = static_cast<int>(choices.size());
  if (answer.size() == 1 && answer[0] >= 'A' && answer[0] <= 'Z') {
    const int i = answer[0] - 'A';
    return i < n ? i : -1;
  }
  if (answer.size() <= 3 && answer.find_first_not_of("0123456789") == std::string::npos) {
    const int i = std::stoi(answer);
    return i < n ? i : -1;
  }
  return -1;
}

}  // namespace

std::vector<DatasetRecord> read_csv(const std::string& path,
                                    const std::string& text,
                                    const CsvColumns& columns) {
  if (columns.output.empty() && columns.answer.empty()) {
    throw DataError(path +
                    ": csv_columns names neither an output nor an answer column (the training "
                    "target comes from one of them)");
  }
  const auto rows = parse_csv(path, text);
  std::vector<DatasetRecord> out;
  if (rows.empty()) return out;
  const CsvRow& header = rows[0];
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < header.fields.size(); ++i) {
    index.emplace(std::string(trim(header.fields[i])), i);
  }
  const auto column = [&](const std::string& name, const std::string& role) -> int {
    if (name.empty()) return -1;
    const auto it = index.find(name);
    if (it == index.end()) {
      std::string have;
      for (const auto& f : header.fields) have += (have.empty() ? "" : ", ") + show_text(f);
      fail_at(path, header.line,
              "the header has no column \"" + name + "\" (csv_columns." + role +
                  " names it); the header's columns: " + have);
    }
    return static_cast<int>(it->second);
  };
  const int c_instruction = column(columns.instruction, "instruction");
  const int c_input = column(columns.input, "input");
  const int c_output = column(columns.output, "output");
  const int c_answer = column(columns.answer, "answer");
  std::vector<int> c_choices;
  for (size_t i = 0; i < columns.choices.size(); ++i) {
    c_choices.push_back(column(columns.choices[i], "choices[" + std::to_string(i) + "]"));
  }

  for (size_t k = 1; k < rows.size(); ++k) {
    const CsvRow& row = rows[k];
    if (row.fields.size() != header.fields.size()) {
      fail_at(path, row.line,
              std::to_string(row.fields.size()) + " fields, expected " +
                  std::to_string(header.fields.size()) + " (the header's column count)");
    }
    const auto cell = [&](int c) { return c < 0 ? std::string() : row.fields[size_t(c)]; };
    DatasetRecord r;
    r.line = row.line;
    r.instruction = cell(c_instruction);
    r.input = cell(c_input);
    r.output = cell(c_output);
    r.gold = std::string(trim(cell(c_answer)));
    if (r.instruction.empty() && r.input.empty()) {
      fail_at(path, row.line,
              "field \"" + (c_instruction >= 0 ? columns.instruction : columns.input) +
                  "\" is empty (the example has no prompt)");
    }
    if (r.output.empty()) {
      if (r.gold.empty()) {
        fail_at(path, row.line,
                "field \"" + (c_output >= 0 ? columns.output : columns.answer) +
                    "\" is empty (each example needs an output, or an answer to use as one)");
      }
      r.output = r.gold;
    }
    for (const int c : c_choices) r.choices.push_back(cell(c));
    while (!r.choices.empty() && trim(r.choices.back()).empty()) r.choices.pop_back();
    r.gold_index = gold_index_of(r.gold, r.choices);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace apportion::dataset_io
