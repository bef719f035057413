// SPDX-License-Identifier: GPL-3.0-or-later
// Format "glue": GLUE TSV files as distributed (MRPC, CoLA, RTE train/dev), rendered with the
// label words AlphaLoRA's scorer expects ("Answer: ([\w\s]+)" matched against
// acceptable|unacceptable, equivalent|not equivalent, entailment|not entailment).
//
// The instruction wording is ours: MoLA and AlphaLoRA load pre-built GLUE instruction sets whose
// text is not in their published code (GCYZSL/MoLA, peijunallin/alphalora evaluation.py only
// hold the scorer), so the wording below is written for this project. Only the output form
// "Answer: <label word>" follows the reference scorer.
#include "core/common/error.h"
#include "core/datasets/reader_util.h"

namespace apportion::dataset_io {
namespace {

/// One GLUE task: columns, header, label values and how a row becomes a record.
struct GlueTask {
  const char* name;
  size_t columns;
  const char* column_names;  ///< for error messages
  const char* header;        ///< expected first line; nullptr: no header (CoLA)
  const char* test_header;   ///< first line of GLUE's unlabelled test file
  size_t label_column;
  const char* label_yes;  ///< label value of the first choice
  const char* label_no;
  const char* word_yes;  ///< label word of the first choice
  const char* word_no;
  const char* instruction;
};

const GlueTask kTasks[] = {
    {"mrpc", 5, "Quality, #1 ID, #2 ID, #1 String, #2 String",
     "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String", "index\t#1 ID\t#2 ID\t#1 String\t#2 String", 0,
     "1", "0", "equivalent", "not equivalent",
     "Do the following two sentences mean the same thing? Answer \"equivalent\" or "
     "\"not equivalent\"."},
    {"cola", 4, "source, label, original mark, sentence", nullptr, "index\tsentence", 1, "1", "0",
     "acceptable", "unacceptable",
     "Is the following sentence grammatically acceptable? Answer \"acceptable\" or "
     "\"unacceptable\"."},
    {"rte", 4, "index, sentence1, sentence2, label", "index\tsentence1\tsentence2\tlabel",
     "index\tsentence1\tsentence2", 3, "entailment", "not_entailment", "entailment",
     "not entailment",
     "Does the premise entail the hypothesis? Answer \"entailment\" or \"not entailment\"."},
};

std::vector<std::string_view> split_tabs(std::string_view line) {
  std::vector<std::string_view> cols;
  size_t begin = 0;
  for (;;) {
    const size_t tab = line.find('\t', begin);
    if (tab == std::string_view::npos) {
      cols.push_back(line.substr(begin));
      return cols;
    }
    cols.push_back(line.substr(begin, tab - begin));
    begin = tab + 1;
  }
}

DatasetRecord make_record(const GlueTask& t,
                          const std::vector<std::string_view>& c,
                          bool yes,
                          int64_t line) {
  DatasetRecord r;
  r.instruction = t.instruction;
  const std::string task = t.name;
  if (task == "mrpc") {
    r.input = "Sentence 1: " + std::string(c[3]) + "\nSentence 2: " + std::string(c[4]);
  } else if (task == "cola") {
    r.input = std::string(c[3]);
  } else {
    r.input = "Premise: " + std::string(c[1]) + "\nHypothesis: " + std::string(c[2]);
  }
  r.choices = {std::string("Answer: ") + t.word_yes, std::string("Answer: ") + t.word_no};
  r.gold_index = yes ? 0 : 1;
  r.gold = yes ? t.word_yes : t.word_no;
  r.output = r.choices[static_cast<size_t>(r.gold_index)];
  r.line = line;
  return r;
}

}  // namespace

std::vector<DatasetRecord> read_glue(const std::string& path,
                                     const std::string& text,
                                     const std::string& task) {
  const GlueTask* t = nullptr;
  for (const auto& k : kTasks) {
    if (task == k.name) t = &k;
  }
  if (t == nullptr) {
    throw DataError(path + ": format glue needs glue_task mrpc, cola or rte, got \"" + task + "\"");
  }
  const auto lines = split_lines(text);
  size_t first = 0;
  while (first < lines.size() && trim(lines[first]).empty()) ++first;
  std::vector<DatasetRecord> out;
  if (first >= lines.size()) return out;
  const auto first_line = static_cast<int64_t>(first + 1);
  if (lines[first] == t->test_header) {
    fail_at(path, first_line,
            "this is GLUE's " + task + " test file, which has no labels (header " +
                show_text(lines[first]) +
                "); it cannot be scored. Use the train or dev file (GLUE test labels are not "
                "public)");
  }
  size_t row = first;
  if (t->header != nullptr) {
    if (lines[first] != t->header) {
      fail_at(path, first_line,
              "unexpected header for GLUE " + task + ": got " + show_text(lines[first]) +
                  ", expected " + show_text(t->header) +
                  " (give the .tsv file as GLUE distributes it, or use format csv)");
    }
    ++row;
  }
  for (; row < lines.size(); ++row) {
    const auto line = static_cast<int64_t>(row + 1);
    if (trim(lines[row]).empty()) continue;
    const auto cols = split_tabs(lines[row]);
    if (cols.size() != t->columns) {
      fail_at(path, line,
              std::to_string(cols.size()) + " tab-separated columns, expected " +
                  std::to_string(t->columns) + " (" + t->column_names + ")");
    }
    const std::string_view label = trim(cols[t->label_column]);
    bool yes = false;
    if (label == t->label_yes) {
      yes = true;
    } else if (label != t->label_no) {
      fail_at(path, line,
              std::string("field \"label\"") + (task == "mrpc" ? " (column Quality)" : "") +
                  " is " + show_text(label) + "; allowed values: " + t->label_yes + " (" +
                  t->word_yes + "), " + t->label_no + " (" + t->word_no + ")");
    }
    out.push_back(make_record(*t, cols, yes, line));
  }
  return out;
}

}  // namespace apportion::dataset_io
