// SPDX-License-Identifier: GPL-3.0-or-later
// Private helpers of the dataset readers (dataset_readers.cpp and the per-format *_reader.cpp):
// DataErrors with "<path>:<line>: …", JSON rows from a JSON array or JSON Lines with the line
// each row starts on, typed field access, and the per-format entry points the dispatcher calls.
// Not part of the library's public API.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/datasets/dataset_readers.h"

namespace apportion::dataset_io {

/// Throws DataError("<path>:<line>: <message>").
[[noreturn]] void fail_at(const std::string& path, int64_t line, const std::string& message);

/// "\"text\"" with the text cut to 60 bytes and control characters escaped, for messages.
std::string show_text(std::string_view text);

/// Calls `fn(row, line)` for each JSON value of `text`: the elements of a top-level JSON array
/// when the first non-space character is '[' (line: where the element starts), else each
/// non-blank line as JSON Lines. Bad JSON, empty elements, trailing commas and text after the
/// array are DataErrors with the line of the fault. Rows that are not objects are DataErrors.
/// Returns the number of rows.
size_t for_each_json_row(const std::string& path,
                         const std::string& text,
                         const std::function<void(const nlohmann::json&, int64_t)>& fn);

/// A string field of a JSON row. Absent or null: "" when optional, a DataError naming the field
/// when required (`hint` lists the fields the format needs). Present and not a string: a
/// DataError naming the field and its JSON type.
std::string string_field(const nlohmann::json& row,
                         const char* field,
                         bool required,
                         const std::string& path,
                         int64_t line,
                         const char* hint);

/// The lines of `text` split on '\n' with a trailing '\r' removed (CRLF files).
std::vector<std::string_view> split_lines(std::string_view text);

/// `s` without leading and trailing spaces, tabs, CR and LF.
std::string_view trim(std::string_view s);

// Per-format readers; `text` is the whole file with a UTF-8 byte-order mark removed. Each
// returns the records (possibly none: the dispatcher reports an empty result).
std::vector<DatasetRecord> read_alpaca(const std::string& path, const std::string& text);
std::vector<DatasetRecord> read_scienceqa(const std::string& path, const std::string& text);
std::vector<DatasetRecord> read_gsm8k(const std::string& path, const std::string& text);
std::vector<DatasetRecord> read_glue(const std::string& path,
                                     const std::string& text,
                                     const std::string& task);
std::vector<DatasetRecord> read_csv(const std::string& path,
                                    const std::string& text,
                                    const CsvColumns& columns);

}  // namespace apportion::dataset_io
