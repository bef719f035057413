// SPDX-License-Identifier: GPL-3.0-or-later
// Dataset specs: strict parse, validation and JSON with every default written out.
#include "core/datasets/dataset_spec.h"

#include <set>

#include "core/config/json_reader.h"

namespace apportion {
namespace {

EvalSplitSpec parse_split(const nlohmann::json& j, const std::string& path) {
  EvalSplitSpec s;
  if (!j.is_object()) {
    config_fail(path,
                "must be an object {\"split\", \"path\", \"role\"}, got " + json_type_name(j));
  }
  JsonObjectReader r(j, path);
  r.get("split", s.split);
  r.get("path", s.path);
  r.get("role", s.role);
  r.get("max_examples", s.max_examples);
  r.finish();
  return s;
}

CsvColumns parse_columns(const nlohmann::json& j, const std::string& path) {
  CsvColumns c;
  if (!j.is_object()) config_fail(path, "must be an object, got " + json_type_name(j));
  JsonObjectReader r(j, path);
  r.get("instruction", c.instruction);
  r.get("input", c.input);
  r.get("output", c.output);
  r.get("answer", c.answer);
  r.get("choices", c.choices);
  r.finish();
  return c;
}

}  // namespace

DatasetSpec parse_dataset_spec(const nlohmann::json& j, const std::string& path) {
  DatasetSpec d;
  if (!j.is_object()) config_fail(path, "must be an object, got " + json_type_name(j));
  JsonObjectReader r(j, path);
  r.get("name", d.name);
  r.get("format", d.format);
  r.get("train", d.train);
  r.get("train_examples", d.train_examples);
  if (const auto* e = r.raw("eval")) {
    if (!e->is_array()) config_fail(path + ".eval", "must be an array of splits");
    for (size_t i = 0; i < e->size(); ++i) {
      d.eval.push_back(parse_split((*e)[i], path + ".eval[" + std::to_string(i) + "]"));
    }
  }
  r.get("validation_from_train", d.validation_from_train);
  r.get("template", d.template_name);
  r.get("weight", d.weight);
  r.get("glue_task", d.glue_task);
  if (const auto* c = r.raw("csv_columns"))
    d.csv_columns = parse_columns(*c, path + ".csv_columns");
  if (const auto* p = r.raw("protocol")) d.protocol = parse_protocol(*p, path + ".protocol");
  r.finish();
  return d;
}

void validate_dataset_spec(const DatasetSpec& d, const std::string& path) {
  config_require(!d.name.empty(), path + ".name", "each dataset needs a name (its task name)");
  config_require(d.name.find_first_of("/ \t\n") == std::string::npos, path + ".name",
                 "must not contain '/' or spaces (it is part of metric keys)" + got(d.name));
  const std::set<std::string> formats = {kFormatAlpaca, kFormatScienceQa, kFormatGsm8k, kFormatGlue,
                                         kFormatCsv};
  config_require(formats.count(d.format) == 1, path + ".format",
                 "unknown format (known: alpaca, scienceqa, gsm8k, glue, csv)" + got(d.format));
  if (d.format == kFormatGlue) {
    config_require(d.glue_task == "mrpc" || d.glue_task == "cola" || d.glue_task == "rte",
                   path + ".glue_task",
                   "format glue needs glue_task mrpc, cola or rte" + got(d.glue_task));
  } else {
    config_require(d.glue_task.empty(), path + ".glue_task", "only format glue uses glue_task");
  }
  if (d.format == kFormatCsv) {
    config_require(!d.csv_columns.instruction.empty() || !d.csv_columns.input.empty(),
                   path + ".csv_columns", "needs an instruction or an input column");
  }
  config_require(d.train_examples >= 0, path + ".train_examples",
                 "must be >= 0 (0: all)" + got(d.train_examples));
  config_require(d.validation_from_train >= 0, path + ".validation_from_train",
                 "must be >= 0" + got(d.validation_from_train));
  config_require(d.validation_from_train == 0 || !d.train.empty(), path + ".validation_from_train",
                 "needs a train file to hold the validation examples out of");
  config_require(d.weight > 0 && d.weight < 1e6, path + ".weight", "must be > 0" + got(d.weight));
  config_require(d.template_name == "alpaca" || d.template_name == "none" ||
                     d.template_name == "qa" || d.template_name == "choose",
                 path + ".template",
                 "unknown template (known: alpaca, none, qa, choose)" + got(d.template_name));
  config_require(!d.train.empty() || !d.eval.empty(), path,
                 "a dataset needs a train file, eval splits, or both");
  std::set<std::string> splits;
  if (d.validation_from_train > 0) splits.insert("validation");
  // One test and one validation split per dataset: the dataset's name is the task of both
  // (eval/acc/<name>, val/acc/<name>).
  int tests = 0, validations = d.validation_from_train > 0 ? 1 : 0;
  for (const auto& s : d.eval) (s.role == kRoleTest ? tests : validations) += 1;
  config_require(tests <= 1 && validations <= 1, path + ".eval",
                 "a dataset has at most one test and one validation split (including "
                 "validation_from_train); make another dataset entry for a further split");
  for (size_t i = 0; i < d.eval.size(); ++i) {
    const auto& s = d.eval[i];
    const std::string sp = path + ".eval[" + std::to_string(i) + "]";
    config_require(!s.path.empty(), sp + ".path", "each eval split needs a file");
    config_require(!s.split.empty() && s.split.find_first_of("/ \t") == std::string::npos,
                   sp + ".split", "needs a name without '/' or spaces" + got(s.split));
    config_require(splits.insert(s.split).second, sp + ".split",
                   "split \"" + s.split + "\" appears twice in this dataset");
    config_require(s.role == kRoleTest || s.role == kRoleValidation, sp + ".role",
                   "must be \"test\" or \"validation\"" + got(s.role));
    config_require(s.max_examples >= 0, sp + ".max_examples",
                   "must be >= 0 (0: all)" + got(s.max_examples));
  }
  validate_protocol(d.protocol, path + ".protocol");
  if (d.protocol.num_fewshot > 0) {
    config_require(!d.train.empty(), path + ".protocol.num_fewshot",
                   "few-shot examples come from the train split; give the dataset a train file");
  }
}

nlohmann::json dataset_spec_to_json(const DatasetSpec& d) {
  nlohmann::json eval = nlohmann::json::array();
  for (const auto& s : d.eval) {
    eval.push_back(
        {{"split", s.split}, {"path", s.path}, {"role", s.role}, {"max_examples", s.max_examples}});
  }
  return {{"name", d.name},
          {"format", d.format},
          {"train", d.train},
          {"train_examples", d.train_examples},
          {"eval", eval},
          {"validation_from_train", d.validation_from_train},
          {"template", d.template_name},
          {"weight", d.weight},
          {"glue_task", d.glue_task},
          {"csv_columns",
           {{"instruction", d.csv_columns.instruction},
            {"input", d.csv_columns.input},
            {"output", d.csv_columns.output},
            {"answer", d.csv_columns.answer},
            {"choices", d.csv_columns.choices}}},
          {"protocol", protocol_to_json(d.protocol)}};
}

}  // namespace apportion
