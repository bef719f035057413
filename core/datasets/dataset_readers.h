// SPDX-License-Identifier: GPL-3.0-or-later
// Readers of the dataset file formats users have on disk (dataset_spec.h lists them), into one
// record shape. Strict: bad JSON, a missing or mistyped field, a wrong label word, an empty file
// are DataErrors naming the file, the line (1-based; for a JSON array, the line the element
// starts on) and the field, and saying what to do.
//
// Intended usage:
//   std::vector<DatasetRecord> rows = read_dataset_file("dataset/boolq/test.json", spec);
//   rows[0].instruction, rows[0].output, rows[0].gold, rows[0].choices, rows[0].gold_index
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/datasets/dataset_spec.h"

namespace apportion {

/// One example in a format-independent shape.
struct DatasetRecord {
  std::string instruction;  ///< the prompt template's instruction
  std::string input;        ///< the template's input (may be empty)
  std::string output;       ///< the training target (what the model learns to write)
  /// The gold answer compared by generation protocols: a letter (ScienceQA), a label word
  /// (GLUE), a number (GSM8K), LLM-Adapters' `answer` field ("answer1", "true", …).
  std::string gold;
  /// Multiple-choice continuations for log-likelihood scoring (mc_loglik), written in the
  /// dataset's own output style (ScienceQA: "Answer: The answer is B."; GLUE: "Answer: "
  /// + label word). Empty: not a multiple-choice record.
  std::vector<std::string> choices;
  int gold_index = -1;  ///< index of the right choice in `choices`, -1 when none
  int64_t line = 0;     ///< where the record starts in its file (1-based), for audits
};

/// Reads `path` in `spec.format` (glue_task and csv_columns from spec). Throws DataError.
std::vector<DatasetRecord> read_dataset_file(const std::string& path, const DatasetSpec& spec);

}  // namespace apportion
