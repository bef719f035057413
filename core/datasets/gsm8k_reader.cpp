// SPDX-License-Identifier: GPL-3.0-or-later
// Format "gsm8k": JSON Lines (or a JSON array) of {question, answer} where the answer is the
// worked solution ending in a line "#### N" (GSM8K as distributed, main and socratic).
#include "core/datasets/reader_util.h"

namespace apportion::dataset_io {
namespace {

constexpr const char* kHint = "each example needs question and answer";

/// The text after the last "#### " that starts a line of `answer`, with "," and "$" removed
/// (lm-evaluation-harness compares after removing them). Empty when there is none.
std::string final_number(const std::string& answer) {
  size_t at = std::string::npos;
  for (size_t p = answer.find("#### "); p != std::string::npos; p = answer.find("#### ", p + 1)) {
    if (p == 0 || answer[p - 1] == '\n') at = p;
  }
  if (at == std::string::npos) return {};
  size_t end = answer.find('\n', at);
  if (end == std::string::npos) end = answer.size();
  const std::string_view raw = trim(std::string_view(answer).substr(at + 5, end - at - 5));
  std::string n;
  for (const char c : raw) {
    if (c != ',' && c != '$') n += c;
  }
  return std::string(trim(n));
}

/// The last non-blank line of `text`, for messages.
std::string_view last_line(const std::string& text) {
  const auto lines = split_lines(text);
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    if (!trim(*it).empty()) return trim(*it);
  }
  return {};
}

}  // namespace

std::vector<DatasetRecord> read_gsm8k(const std::string& path, const std::string& text) {
  std::vector<DatasetRecord> out;
  for_each_json_row(path, text, [&](const nlohmann::json& row, int64_t line) {
    DatasetRecord r;
    r.instruction = string_field(row, "question", true, path, line, kHint);
    r.output = string_field(row, "answer", true, path, line, kHint);
    r.gold = final_number(r.output);
    if (r.gold.empty()) {
      fail_at(path, line,
              "field \"answer\" has no line \"#### <number>\" (GSM8K solutions end with one; "
              "its last line is " +
                  show_text(last_line(r.output)) + ")");
    }
    r.line = line;
    out.push_back(std::move(r));
  });
  return out;
}

}  // namespace apportion::dataset_io
