// SPDX-License-Identifier: GPL-3.0-or-later
// The "datasets" suite (data.suite = "datasets"): every dataset of data.datasets read with its
// format's reader, rendered through its prompt template into Examples, the training examples
// mixed (concatenated, or sampled by weight), and each eval split kept apart with its role and
// protocol, so each is scored and recorded separately.
//
// Intended usage:
//   DatasetSuite s = load_dataset_suite(cfg.data, workspace_dir);
//   s.train                      // the mixture, in a seeded order
//   for (const EvalSplit& e : s.evals) e.task, e.split, e.role, e.protocol, e.examples
//   s.fewshot_pool("gsm8k")      // that dataset's own training examples
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/config/experiment_config.h"
#include "core/data/task_suite.h"
#include "core/datasets/dataset_readers.h"

namespace apportion {

struct EvalSplit {
  std::string task;   ///< the dataset's name
  std::string split;  ///< "test", "validation", …
  std::string role;   ///< kRoleTest or kRoleValidation
  ProtocolSpec protocol;
  std::vector<Example> examples;
};

struct DatasetSuite {
  std::vector<Example> train;  ///< the training mixture
  std::vector<EvalSplit> evals;
  std::map<std::string, std::vector<Example>> train_by_task;  ///< few-shot pools, unmixed
  /// Per dataset: "<name>: N train (of M read), <split> K, …" for the run log.
  std::vector<std::string> summary;

  const std::vector<Example>& fewshot_pool(const std::string& task) const;
};

/// A dataset file path: absolute, else relative to data.root, else to the workspace folder.
std::string resolve_dataset_path(const DataConfig& data,
                                 const std::string& workspace_dir,
                                 const std::string& path);

/// Renders one record through a template: prompt = template(instruction, input); answer =
/// output; choices as they are. Templates "qa" and "choose" end with "Answer:" and put the
/// target delimiter " " before the answer and each choice (as lm-evaluation-harness does).
Example example_from_record(const DatasetRecord& r,
                            const std::string& template_name,
                            const std::string& task);

/// Reads and mixes every dataset (DataError naming file, line and field on bad input).
DatasetSuite load_dataset_suite(const DataConfig& data, const std::string& workspace_dir);

}  // namespace apportion
