// SPDX-License-Identifier: GPL-3.0-or-later
// The embedded task suite: several small tasks of different kinds generated deterministically
// from a seed (prompt → answer pairs), and the pretraining corpus the tiny backbone learns from
// (which contains the facts the "facts" task asks about). See docs/TASKS.md for what each task
// tests and why an allocation method might treat its layers differently.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config/experiment_config.h"

namespace apportion {

/// One supervised example: the model reads `prompt` and must produce `answer` then EOS.
struct Example {
  std::string task;
  std::string prompt;
  std::string answer;
  std::string gold;  ///< generate-mode gold answer (jsonl `answer` field); empty: from `answer`
  /// Multiple-choice continuations (mc_loglik) and the right one's index (-1: none).
  std::vector<std::string> choices;
  int gold_index = -1;
  /// Pre-tokenised prompt and answer (the token cache); empty: the batcher tokenises the text.
  std::vector<int32_t> prompt_ids;
  std::vector<int32_t> answer_ids;
};

/// Documentation of a task (shown by `apportion tasks` and in docs/TASKS.md).
struct TaskInfo {
  std::string name;
  std::string tests;       ///< what it tests
  std::string layer_hint;  ///< why allocation methods might treat its layers differently
};

/// Names and descriptions of the built-in tasks.
std::vector<TaskInfo> builtin_tasks();

/// Train and eval examples, disjoint, interleaved over cfg.tasks, deterministic in cfg.seed.
struct TaskSuite {
  std::vector<Example> train;
  std::vector<Example> eval;
};

/// Generates the suite. Throws ConfigError naming data.tasks for an unknown task.
TaskSuite make_task_suite(const DataConfig& cfg);

/// Pretraining documents (plain text, deterministic in cfg.seed): the fact base written out as
/// prose, plus task-style text so the backbone learns the formats' alphabet.
std::vector<std::string> make_pretraining_corpus(const DataConfig& cfg, int num_documents);

}  // namespace apportion
