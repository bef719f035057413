// SPDX-License-Identifier: GPL-3.0-or-later
// A dataset as a named, described thing (config data.datasets[i]): a train file, eval splits
// (each a test or a validation split), a file format, a prompt template and the evaluation
// protocol its splits are scored with. Torch-free; parse/validate/to_json here, the readers in
// dataset_readers.h.
//
// Intended usage (config JSON):
//   "data": {"suite": "datasets", "root": "/data/LLM-Adapters/dataset", "mixture": "concat",
//            "datasets": [{"name": "scienceqa", "format": "scienceqa",
//                          "train": "scienceqa/train.jsonl",
//                          "eval": [{"split": "validation", "path": "scienceqa/validation.jsonl",
//                                    "role": "validation"}],
//                          "protocol": {"id": "mola_regex"}}]}
//   DatasetSpec d = parse_dataset_spec(j, "data.datasets[0]");
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/scoring/protocol.h"

namespace apportion {

/// Known file formats (dataset_readers.h).
constexpr const char* kFormatAlpaca = "alpaca";        ///< JSON array or JSON Lines of
                                                       ///< instruction/input/output[/answer]
constexpr const char* kFormatScienceQa = "scienceqa";  ///< MoLA's ScienceQA rows (JSON Lines)
constexpr const char* kFormatGsm8k = "gsm8k";          ///< question/answer with "#### N"
constexpr const char* kFormatGlue = "glue";            ///< GLUE TSV (glue_task: mrpc, cola, rte)
constexpr const char* kFormatCsv = "csv";              ///< CSV with a header row (csv_columns)

/// Split roles: a test split is reported; a validation split may choose the checkpoint.
constexpr const char* kRoleTest = "test";
constexpr const char* kRoleValidation = "validation";

struct EvalSplitSpec {
  std::string split = "test";  ///< split name (metric keys, tables): "test", "validation", …
  std::string path;            ///< file (relative: to data.root, else the workspace folder)
  std::string role = kRoleTest;
  int max_examples = 0;  ///< 0: all
};

/// Which CSV columns hold what (format "csv"). Empty names: not present.
struct CsvColumns {
  std::string instruction = "instruction";
  std::string input;
  std::string output = "output";
  std::string answer;                ///< gold answer (letter, label word, number)
  std::vector<std::string> choices;  ///< columns holding the choices, in order
};

struct DatasetSpec {
  std::string name;  ///< task name: eval/acc/<name>, table column
  std::string format = kFormatAlpaca;
  std::string train;       ///< training file; empty: an eval-only dataset
  int train_examples = 0;  ///< 0: all
  std::vector<EvalSplitSpec> eval;
  /// > 0: hold out this many (seeded) training examples as a split "validation" (role
  /// validation), for checkpoint choice without touching the test split.
  int validation_from_train = 0;
  std::string template_name = "alpaca";  ///< JSON "template": alpaca, none, qa, choose
  double weight = 1.0;                   ///< data.mixture "weighted": sampling weight
  std::string glue_task;                 ///< format glue: mrpc, cola or rte
  CsvColumns csv_columns;                ///< format csv
  ProtocolSpec protocol;
};

DatasetSpec parse_dataset_spec(const nlohmann::json& j, const std::string& path);
void validate_dataset_spec(const DatasetSpec& d, const std::string& path);
nlohmann::json dataset_spec_to_json(const DatasetSpec& d);

}  // namespace apportion
