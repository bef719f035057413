// SPDX-License-Identifier: GPL-3.0-or-later
// Reading, rendering and mixing data.datasets into train examples and separate eval splits.
#include "core/data/dataset_suite.h"

#include <cmath>
#include <filesystem>

#include "core/common/error.h"
#include "core/data/prompt_template.h"
#include "core/data/rng.h"

namespace apportion {
namespace fs = std::filesystem;
namespace {

std::vector<Example> render_all(const std::vector<DatasetRecord>& records, const DatasetSpec& d) {
  std::vector<Example> out;
  out.reserve(records.size());
  for (const auto& r : records) out.push_back(example_from_record(r, d.template_name, d.name));
  return out;
}

/// The weighted mixture: as many examples as the concatenation, each dataset's share
/// proportional to its weight (largest remainders), drawn without replacement while the
/// dataset lasts and then again from a fresh permutation.
std::vector<Example> weighted_mixture(const std::vector<std::vector<Example>>& parts,
                                      const std::vector<double>& weights,
                                      uint64_t seed) {
  size_t total = 0;
  double weight_sum = 0.0;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].empty()) continue;
    total += parts[i].size();
    weight_sum += weights[i];
  }
  std::vector<size_t> counts(parts.size(), 0);
  std::vector<std::pair<double, size_t>> remainders;
  size_t assigned = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].empty()) continue;
    const double exact = static_cast<double>(total) * weights[i] / weight_sum;
    counts[i] = static_cast<size_t>(std::floor(exact));
    assigned += counts[i];
    remainders.emplace_back(exact - std::floor(exact), i);
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t k = 0; assigned < total && k < remainders.size(); ++k, ++assigned) {
    ++counts[remainders[k].second];
  }
  std::vector<Example> out;
  out.reserve(total);
  for (size_t i = 0; i < parts.size(); ++i) {
    SplitMix64 rng(mix_seed(seed, 0x77656967ULL + i));
    std::vector<size_t> order;
    for (size_t taken = 0; taken < counts[i]; ++taken) {
      if (taken % parts[i].size() == 0) {
        order.resize(parts[i].size());
        for (size_t j = 0; j < order.size(); ++j) order[j] = j;
        rng.shuffle(order);
      }
      out.push_back(parts[i][order[taken % parts[i].size()]]);
    }
  }
  return out;
}

}  // namespace

const std::vector<Example>& DatasetSuite::fewshot_pool(const std::string& task) const {
  static const std::vector<Example> empty;
  const auto it = train_by_task.find(task);
  return it == train_by_task.end() ? empty : it->second;
}

std::string resolve_dataset_path(const DataConfig& data,
                                 const std::string& workspace_dir,
                                 const std::string& path) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  fs::path base = data.root.empty() ? fs::path(workspace_dir.empty() ? "." : workspace_dir)
                                    : fs::path(data.root);
  if (base.is_relative() && !data.root.empty() && !workspace_dir.empty()) {
    base = fs::path(workspace_dir) / base;
  }
  return (base / path).lexically_normal().string();
}

Example example_from_record(const DatasetRecord& r,
                            const std::string& template_name,
                            const std::string& task) {
  Example ex;
  ex.task = task;
  ex.prompt = render_prompt(template_name, r.instruction, r.input);
  const bool delimited = template_name == "qa" || template_name == "choose";
  ex.answer = delimited ? " " + r.output : r.output;
  ex.gold = r.gold;
  ex.choices = r.choices;
  if (delimited) {
    for (auto& c : ex.choices) c = " " + c;
  }
  ex.gold_index = r.gold_index;
  return ex;
}

DatasetSuite load_dataset_suite(const DataConfig& data, const std::string& workspace_dir) {
  DatasetSuite suite;
  std::vector<std::vector<Example>> parts;
  std::vector<double> weights;
  for (const DatasetSpec& d : data.datasets) {
    std::string line = d.name + ":";
    std::vector<Example> train;
    if (!d.train.empty()) {
      const std::string path = resolve_dataset_path(data, workspace_dir, d.train);
      train = render_all(read_dataset_file(path, d), d);
      const size_t read = train.size();
      // A seeded order per dataset, so caps and the validation hold-out are random samples.
      SplitMix64 rng(derive_seed(data.seed, "dataset/" + d.name));
      rng.shuffle(train);
      if (d.validation_from_train > 0) {
        const auto held = static_cast<size_t>(d.validation_from_train);
        if (held >= train.size()) {
          throw DataError(path + ": validation_from_train is " + std::to_string(held) +
                          " but the file has only " + std::to_string(train.size()) +
                          " examples; lower it so some remain for training");
        }
        EvalSplit v{d.name, "validation", kRoleValidation, d.protocol, {}};
        v.examples.assign(train.end() - static_cast<std::ptrdiff_t>(held), train.end());
        train.resize(train.size() - held);
        suite.evals.push_back(std::move(v));
      }
      if (d.train_examples > 0 && train.size() > static_cast<size_t>(d.train_examples)) {
        train.resize(static_cast<size_t>(d.train_examples));
      }
      line += " " + std::to_string(train.size()) + " train (of " + std::to_string(read) + ")";
    }
    for (const EvalSplitSpec& s : d.eval) {
      const std::string path = resolve_dataset_path(data, workspace_dir, s.path);
      EvalSplit e{d.name, s.split, s.role, d.protocol, render_all(read_dataset_file(path, d), d)};
      if (s.max_examples > 0 && e.examples.size() > static_cast<size_t>(s.max_examples)) {
        e.examples.resize(static_cast<size_t>(s.max_examples));  // the file's first rows
      }
      line += ", " + s.split + " " + std::to_string(e.examples.size());
      suite.evals.push_back(std::move(e));
    }
    for (const auto& e : suite.evals) {
      if (e.task != d.name || e.split != "validation" || d.validation_from_train == 0) continue;
      line += ", validation " + std::to_string(e.examples.size()) + " (held out of train)";
    }
    suite.summary.push_back(line + ", protocol " + d.protocol.id);
    parts.push_back(train);
    weights.push_back(d.weight);
    suite.train_by_task[d.name] = std::move(train);
  }
  if (data.mixture == "weighted") {
    suite.train = weighted_mixture(parts, weights, data.seed);
  } else {
    for (auto& p : parts) suite.train.insert(suite.train.end(), p.begin(), p.end());
  }
  if (suite.train.empty()) {
    throw DataError("data.datasets: no training examples (every train file is empty or absent)");
  }
  return suite;
}

}  // namespace apportion
