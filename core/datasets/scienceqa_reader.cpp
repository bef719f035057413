// SPDX-License-Identifier: GPL-3.0-or-later
// Format "scienceqa": MoLA's text-only ScienceQA rows (JSON Lines, or a JSON array as in
// AlphaLoRA's scienceq_test.json): instruction/input/output are used verbatim (MoLA trains on
// them), `answer` (a letter, or a 0-based index as in the original ScienceQA) gives the gold
// letter, and each choice becomes the output with its letter ("Answer: The answer is B.").
#include "core/datasets/reader_util.h"

#include "core/common/json_parse.h"

namespace apportion::dataset_io {
namespace {

constexpr const char* kHint = "each row needs instruction, output, choices and answer";
constexpr std::string_view kMarker = "The answer is ";

/// Index of the gold choice from `answer`: "A".."Z" or an integer index, checked against the
/// number of choices.
int answer_index(const nlohmann::json& row,
                 size_t n_choices,
                 const std::string& path,
                 int64_t line) {
  const auto it = row.find("answer");
  if (it == row.end() || it->is_null()) {
    fail_at(path, line, std::string("missing field \"answer\" (") + kHint + ")");
  }
  const std::string range =
      "the row has " + std::to_string(n_choices) + " choices, A–" +
      std::string(1, static_cast<char>('A' + static_cast<int>(n_choices) - 1));
  if (it->is_number_integer()) {
    const int64_t i = json_to_integer<int64_t>(*it).value_or(-1);
    if (i < 0 || i >= static_cast<int64_t>(n_choices)) {
      fail_at(path, line,
              "field \"answer\" is index " + std::to_string(i) + ", out of range (" + range +
                  ", indices 0–" + std::to_string(n_choices - 1) + ")");
    }
    return static_cast<int>(i);
  }
  if (!it->is_string()) {
    fail_at(path, line,
            std::string("field \"answer\" must be a letter (\"A\", \"B\", …) or an index, got ") +
                it->type_name() + " " + show_text(it->dump()));
  }
  const std::string a = it->get<std::string>();
  if (a.size() != 1 || a[0] < 'A' || a[0] > 'Z') {
    fail_at(path, line, "field \"answer\" must be one letter A–Z, got " + show_text(a));
  }
  const int i = a[0] - 'A';
  if (i >= static_cast<int>(n_choices)) {
    fail_at(path, line, "field \"answer\" is " + show_text(a) + ", out of range (" + range + ")");
  }
  return i;
}

/// Position of the letter in the last "The answer is X." of `output`, npos when none.
size_t letter_position(const std::string& output) {
  size_t found = std::string::npos;
  for (size_t p = output.find(kMarker); p != std::string::npos; p = output.find(kMarker, p + 1)) {
    const size_t at = p + kMarker.size();
    if (at + 1 < output.size() && output[at] >= 'A' && output[at] <= 'Z' && output[at + 1] == '.') {
      found = at;
    }
  }
  return found;
}

}  // namespace

std::vector<DatasetRecord> read_scienceqa(const std::string& path, const std::string& text) {
  std::vector<DatasetRecord> out;
  for_each_json_row(path, text, [&](const nlohmann::json& row, int64_t line) {
    DatasetRecord r;
    r.instruction = string_field(row, "instruction", true, path, line, kHint);
    r.input = string_field(row, "input", false, path, line, kHint);
    r.output = string_field(row, "output", true, path, line, kHint);

    const auto ch = row.find("choices");
    if (ch == row.end() || ch->is_null()) {
      fail_at(path, line, std::string("missing field \"choices\" (") + kHint + ")");
    }
    if (!ch->is_array()) {
      fail_at(path, line,
              std::string("field \"choices\" must be a list of strings, got ") + ch->type_name());
    }
    if (ch->size() < 2 || ch->size() > 26) {
      fail_at(path, line,
              "field \"choices\" must list 2 to 26 options, got " + std::to_string(ch->size()));
    }
    for (size_t i = 0; i < ch->size(); ++i) {
      if (!(*ch)[i].is_string()) {
        fail_at(path, line,
                "field \"choices\" must be a list of strings; element " + std::to_string(i) +
                    " is " + (*ch)[i].type_name());
      }
    }
    r.gold_index = answer_index(row, ch->size(), path, line);
    const char gold_letter = static_cast<char>('A' + r.gold_index);
    r.gold = std::string(1, gold_letter);

    const size_t at = letter_position(r.output);
    if (at == std::string::npos) {
      fail_at(path, line,
              "field \"output\" has no \"The answer is <letter>.\" (MoLA's ScienceQA outputs read "
              "\"Answer: The answer is A.\"), got " +
                  show_text(r.output));
    }
    if (r.output[at] != gold_letter) {
      fail_at(path, line,
              std::string("field \"output\" says \"The answer is ") + r.output[at] +
                  ".\" but field \"answer\" is " + gold_letter + " (the row contradicts itself)");
    }
    for (size_t i = 0; i < ch->size(); ++i) {
      std::string c = r.output;
      c[at] = static_cast<char>('A' + static_cast<int>(i));
      r.choices.push_back(std::move(c));
    }
    r.line = line;
    out.push_back(std::move(r));
  });
  return out;
}

}  // namespace apportion::dataset_io
