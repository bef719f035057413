// SPDX-License-Identifier: GPL-3.0-or-later
// JSON Lines instruction data → Examples, with line/field-precise errors.
#include "core/data/jsonl_dataset.h"

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/common/json_parse.h"
#include "core/data/prompt_template.h"
#include "core/data/rng.h"

namespace apportion {
namespace {

/// A string field of one line: required ones must exist; every present one must be a string.
std::string string_field(const nlohmann::json& j,
                         const char* field,
                         bool required,
                         const std::string& where) {
  const auto it = j.find(field);
  if (it == j.end() || it->is_null()) {
    if (required) {
      throw DataError(where + ": missing field \"" + field +
                      "\" (each line needs instruction, input, output)");
    }
    return {};
  }
  if (!it->is_string()) {
    throw DataError(where + ": field \"" + field + "\" must be a string, got " + it->type_name());
  }
  return it->get<std::string>();
}

}  // namespace

std::vector<Example> read_jsonl_examples(const std::string& path,
                                         const std::string& template_name,
                                         const std::string& task) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw DataError(path +
                    ": is a folder, not a data file (check data.train_file / "
                    "data.eval_file: give a .jsonl file)");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw DataError(path +
                    ": cannot open the data file (check data.train_file / data.eval_file; "
                    "relative paths are resolved against the workspace folder)");
  }
  std::vector<Example> out;
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(line_no);
    nlohmann::json j;
    try {
      j = parse_json_bounded(line, JsonLimits::line());
    } catch (const JsonInputError& e) {
      throw DataError(where + ": not valid JSON, " + e.where() + ": " + e.reason() +
                      " (one JSON object per line expected)");
    }
    if (!j.is_object()) throw DataError(where + ": a line must be a JSON object");
    Example ex;
    ex.task = task;
    const std::string instruction = string_field(j, "instruction", true, where);
    const std::string input = string_field(j, "input", false, where);
    ex.answer = string_field(j, "output", true, where);
    ex.gold = string_field(j, "answer", false, where);
    ex.prompt = render_prompt(template_name, instruction, input);
    out.push_back(std::move(ex));
  }
  if (out.empty()) throw DataError(path + ": no examples (the file is empty)");
  return out;
}

TaskSuite make_jsonl_suite(const DataConfig& cfg,
                           const std::string& train_path,
                           const std::string& eval_path) {
  const std::string task =
      cfg.task.empty() ? std::filesystem::path(train_path).stem().string() : cfg.task;
  TaskSuite suite;
  suite.train = read_jsonl_examples(train_path, cfg.template_name, task);
  if (!eval_path.empty()) {
    suite.eval = read_jsonl_examples(eval_path, cfg.template_name, task);
  } else {
    // Hold out the tail of a seeded shuffle; keep at least one training example.
    SplitMix64 rng(mix_seed(cfg.seed, 0x6a736f6eULL));
    rng.shuffle(suite.train);
    const auto n_eval = std::min<size_t>(static_cast<size_t>(cfg.eval_examples),
                                         suite.train.size() > 1 ? suite.train.size() - 1 : 0);
    if (n_eval == 0) {
      throw DataError(train_path +
                      ": needs at least 2 examples to hold out an eval split "
                      "(or set data.eval_file)");
    }
    suite.eval.assign(suite.train.end() - static_cast<std::ptrdiff_t>(n_eval), suite.train.end());
    suite.train.resize(suite.train.size() - n_eval);
  }
  if (suite.train.size() > static_cast<size_t>(cfg.train_examples)) {
    suite.train.resize(static_cast<size_t>(cfg.train_examples));
  }
  if (suite.eval.size() > static_cast<size_t>(cfg.eval_examples)) {
    suite.eval.resize(static_cast<size_t>(cfg.eval_examples));
  }
  return suite;
}

}  // namespace apportion
