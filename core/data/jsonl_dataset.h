// SPDX-License-Identifier: GPL-3.0-or-later
// Instruction data from JSON Lines files (Alpaca fields: instruction, input, output, and an
// optional gold `answer` used by generate-mode evaluation), rendered through a prompt template
// into Examples. Strict: a malformed line or a missing/mistyped field is a DataError naming the
// file, the line and the field.
#pragma once

#include <string>
#include <vector>

#include "core/config/experiment_config.h"
#include "core/data/task_suite.h"

namespace apportion {

/// Reads every line of a JSON Lines file as an Example (prompt = template(instruction, input),
/// answer = output, gold = answer field if present). `task` names the examples' task.
std::vector<Example> read_jsonl_examples(const std::string& path,
                                         const std::string& template_name,
                                         const std::string& task);

/// Train and eval examples of the jsonl suite: data.train_file (at most train_examples), and
/// data.eval_file (at most eval_examples) or, without one, the last eval_examples training lines
/// held out (a deterministic shuffle in data.seed first). Paths are resolved by the caller.
TaskSuite make_jsonl_suite(const DataConfig& cfg,
                           const std::string& train_path,
                           const std::string& eval_path);

}  // namespace apportion
