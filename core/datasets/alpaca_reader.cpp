// SPDX-License-Identifier: GPL-3.0-or-later
// Format "alpaca": a JSON array or JSON Lines of {instruction, input?, output, answer?} objects,
// as in LLM-Adapters' commonsense_170k.json, math_10k.json and dataset/<task>/test.json.
#include "core/datasets/reader_util.h"

namespace apportion::dataset_io {
namespace {

constexpr const char* kHint = "each example needs instruction and output; input, answer optional";

/// LLM-Adapters' `answer`: a string ("answer1", "true", "18.0"). Some published versions of its
/// math test files hold a number or a one-element list ([2304.0], ["C"]); those are taken as the
/// number's JSON text or the element. Anything else is a DataError naming the field.
std::string answer_field(const nlohmann::json& row, const std::string& path, int64_t line) {
  const auto it = row.find("answer");
  if (it == row.end() || it->is_null()) return {};
  const nlohmann::json* v = &*it;
  if (v->is_array() && v->size() == 1) v = &(*v)[0];
  if (v->is_string()) return v->get<std::string>();
  if (v->is_number()) return v->dump();
  fail_at(path, line,
          std::string("field \"answer\" must be a string, got ") + it->type_name() + " " +
              show_text(it->dump()));
}

}  // namespace

std::vector<DatasetRecord> read_alpaca(const std::string& path, const std::string& text) {
  std::vector<DatasetRecord> out;
  for_each_json_row(path, text, [&](const nlohmann::json& row, int64_t line) {
    DatasetRecord r;
    r.instruction = string_field(row, "instruction", true, path, line, kHint);
    r.input = string_field(row, "input", false, path, line, kHint);
    r.output = string_field(row, "output", true, path, line, kHint);
    r.gold = answer_field(row, path, line);
    r.line = line;
    out.push_back(std::move(r));
  });
  return out;
}

}  // namespace apportion::dataset_io
