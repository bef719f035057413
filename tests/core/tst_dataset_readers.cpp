// SPDX-License-Identifier: GPL-3.0-or-later
// Dataset reader tests: handmade fixtures in tests/data/datasets (every format, and malformed
// files whose errors must name the file, the line and the field), byte-exact temporary files
// (CRLF, byte-order mark), and the shared ScienceQA sample (../shared/data; skipped when absent).
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <fstream>
#include <functional>

#include <nlohmann/json.hpp>

#include "core/common/error.h"
#include "core/datasets/dataset_readers.h"

using namespace apportion;

namespace {

std::string fixture(const char* name) {
  return (qEnvironmentVariable("AP_TEST_DATA", QStringLiteral(AP_SOURCE_DIR "/tests/data")) +
          QStringLiteral("/datasets/") + QString::fromUtf8(name))
      .toStdString();
}

DatasetSpec spec_of(const char* format, const char* glue_task = "") {
  DatasetSpec s;
  s.name = "t";
  s.format = format;
  s.glue_task = glue_task;
  return s;
}

/// The DataError message reading `path` throws, or "<no throw>" / "<other: …>".
std::string error_of(const std::string& path, const DatasetSpec& spec) {
  try {
    read_dataset_file(path, spec);
  } catch (const DataError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<other exception: ") + e.what() + ">";
  }
  return "<no throw>";
}

QString q(const std::string& s) { return QString::fromStdString(s); }

void write_bytes(const QString& path, const std::string& bytes) {
  std::ofstream out(path.toStdString(), std::ios::binary);
  out << bytes;
}

}  // namespace

/// Fails the test unless `msg` contains every part.
#define EXPECT_ERROR_HAS(msg, ...)                                                            \
  do {                                                                                        \
    const std::string m_ = (msg);                                                             \
    for (const std::string part : std::initializer_list<std::string>{__VA_ARGS__}) {          \
      QVERIFY2(m_.find(part) != std::string::npos,                                            \
               qPrintable(QStringLiteral("expected '%1' in error: %2").arg(q(part), q(m_)))); \
    }                                                                                         \
  } while (false)

class TestDatasetReaders : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  // ---- alpaca ------------------------------------------------------------------------------
  void alpacaJsonArray() {
    const auto rows = read_dataset_file(fixture("alpaca_array.json"), spec_of(kFormatAlpaca));
    QCOMPARE(rows.size(), size_t(3));
    QCOMPARE(rows[0].line, int64_t(2));
    QCOMPARE(rows[1].line, int64_t(8));
    QCOMPARE(rows[2].line, int64_t(14));
    QCOMPARE(q(rows[0].instruction),
             QStringLiteral("Please answer the following question with true or false, question: "
                            "is the sky blue on a clear day?\n\nAnswer format: true/false"));
    QCOMPARE(q(rows[0].input), QString());
    QCOMPARE(q(rows[0].output), QStringLiteral("the correct answer is true"));
    QCOMPARE(q(rows[0].gold), QStringLiteral("true"));
    QCOMPARE(q(rows[1].gold), QStringLiteral("solution1"));
    QCOMPARE(q(rows[2].instruction),
             QStringLiteral("Pick the ending.\n\nEnding1: a \"quoted\" ending, with [brackets] and "
                            "{braces}\n\nEnding2: b"));
    QCOMPARE(q(rows[2].input), QStringLiteral("context here"));
    for (const auto& r : rows) {
      QVERIFY(r.choices.empty());
      QCOMPARE(r.gold_index, -1);
    }
  }

  void alpacaJsonLines() {
    const auto rows = read_dataset_file(fixture("alpaca.jsonl"), spec_of(kFormatAlpaca));
    QCOMPARE(rows.size(), size_t(3));
    QCOMPARE(rows[0].line, int64_t(1));
    QCOMPARE(q(rows[0].instruction), QStringLiteral("Add the numbers."));
    QCOMPARE(q(rows[0].input), QStringLiteral("2 and 3"));
    QCOMPARE(q(rows[0].output), QStringLiteral("5"));
    QCOMPARE(q(rows[0].gold), QString());
    QCOMPARE(rows[1].line, int64_t(3));     // line 2 is blank
    QCOMPARE(q(rows[1].input), QString());  // null input
    QCOMPARE(q(rows[1].gold), QStringLiteral("hi"));
    // LLM-Adapters' older math test files: "answer": [18.0].
    QCOMPARE(rows[2].line, int64_t(4));
    QCOMPARE(q(rows[2].gold), QStringLiteral("18.0"));
  }

  void alpacaBadJsonInArrayNamesTheFaultLine() {
    const auto m = error_of(fixture("alpaca_bad_array.json"), spec_of(kFormatAlpaca));
    EXPECT_ERROR_HAS(m, "alpaca_bad_array.json:11:", "not valid JSON");
  }

  void alpacaBadJsonLine() {
    const auto m = error_of(fixture("alpaca_bad_line.jsonl"), spec_of(kFormatAlpaca));
    EXPECT_ERROR_HAS(m, "alpaca_bad_line.jsonl:3:", "not valid JSON");
  }

  void alpacaMissingField() {
    const auto m = error_of(fixture("alpaca_missing_output.jsonl"), spec_of(kFormatAlpaca));
    EXPECT_ERROR_HAS(m, "alpaca_missing_output.jsonl:2:", "missing field \"output\"");
  }

  void alpacaWrongTypeNamesElementLine() {
    const auto m = error_of(fixture("alpaca_wrong_type.json"), spec_of(kFormatAlpaca));
    EXPECT_ERROR_HAS(m, "alpaca_wrong_type.json:8:", "field \"instruction\"", "number");
  }

  void alpacaArraySyntax() {
    EXPECT_ERROR_HAS(error_of(fixture("alpaca_trailing_comma.json"), spec_of(kFormatAlpaca)),
                     "alpaca_trailing_comma.json:4:", "trailing comma");
    EXPECT_ERROR_HAS(error_of(fixture("alpaca_unclosed.json"), spec_of(kFormatAlpaca)),
                     "alpaca_unclosed.json:", "not closed");
  }

  void emptyFiles() {
    EXPECT_ERROR_HAS(error_of(fixture("empty.json"), spec_of(kFormatAlpaca)),
                     "empty.json: no examples (the file is empty)");
    EXPECT_ERROR_HAS(error_of(fixture("blank.jsonl"), spec_of(kFormatGsm8k)),
                     "blank.jsonl: no examples (the file is empty)");
    EXPECT_ERROR_HAS(error_of(fixture("empty_array.json"), spec_of(kFormatAlpaca)),
                     "empty_array.json: no examples");
    EXPECT_ERROR_HAS(error_of(fixture("empty.json"), spec_of(kFormatGlue, "cola")),
                     "empty.json: no examples (the file is empty)");
  }

  void missingFileAndFolder() {
    const auto m = error_of(fixture("no_such_file.jsonl"), spec_of(kFormatAlpaca));
    EXPECT_ERROR_HAS(m, "no_such_file.jsonl", "cannot open", "data.root");
    const auto d = error_of(fixture(""), spec_of(kFormatAlpaca));
    EXPECT_ERROR_HAS(d, "folder");
  }

  void crlfAndByteOrderMark() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString p = dir.filePath(QStringLiteral("crlf.jsonl"));
    write_bytes(p,
                "\xEF\xBB\xBF{\"instruction\": \"a\", \"output\": \"b\"}\r\n\r\n"
                "{\"instruction\": \"c\", \"output\": \"d\"}\r\n");
    const auto rows = read_dataset_file(p.toStdString(), spec_of(kFormatAlpaca));
    QCOMPARE(rows.size(), size_t(2));
    QCOMPARE(q(rows[1].instruction), QStringLiteral("c"));
    QCOMPARE(rows[1].line, int64_t(3));
    const QString t = dir.filePath(QStringLiteral("rte.tsv"));
    write_bytes(t, "index\tsentence1\tsentence2\tlabel\r\n0\tA b.\tB.\tnot_entailment\r\n");
    const auto rte = read_dataset_file(t.toStdString(), spec_of(kFormatGlue, "rte"));
    QCOMPARE(rte.size(), size_t(1));
    QCOMPARE(q(rte[0].gold), QStringLiteral("not entailment"));
    QCOMPARE(q(rte[0].input), QStringLiteral("Premise: A b.\nHypothesis: B."));
  }

  // ---- gsm8k -------------------------------------------------------------------------------
  void gsm8k() {
    const auto rows = read_dataset_file(fixture("gsm8k.jsonl"), spec_of(kFormatGsm8k));
    QCOMPARE(rows.size(), size_t(2));
    QCOMPARE(q(rows[0].instruction),
             QStringLiteral("Tom has 3 apples and buys 4 more. How many apples does he have?"));
    QCOMPARE(q(rows[0].input), QString());
    QCOMPARE(q(rows[0].output), QStringLiteral("Tom has 3 + 4 = <<3+4=7>>7 apples.\n#### 7"));
    QCOMPARE(q(rows[0].gold), QStringLiteral("7"));
    QCOMPARE(q(rows[1].gold), QStringLiteral("1300"));  // "$1,300" → "1300"
    QCOMPARE(rows[1].line, int64_t(2));
    QVERIFY(rows[0].choices.empty());
  }

  void gsm8kWithoutFinalNumber() {
    const auto m = error_of(fixture("gsm8k_no_hashes.jsonl"), spec_of(kFormatGsm8k));
    EXPECT_ERROR_HAS(m, "gsm8k_no_hashes.jsonl:2:", "field \"answer\"", "####");
  }

  // ---- scienceqa (handmade rows) -----------------------------------------------------------
  void scienceqaHandmade() {
    const auto rows = read_dataset_file(fixture("scienceqa.jsonl"), spec_of(kFormatScienceQa));
    QCOMPARE(rows.size(), size_t(2));
    const auto& r = rows[0];
    QCOMPARE(q(r.instruction),
             QStringLiteral("Context: N/A\nQuestion: Which is a mammal?\nOptions: (A) trout (B) "
                            "otter (C) newt\n"));
    QCOMPARE(q(r.input), QString());
    QCOMPARE(q(r.output), QStringLiteral("Answer: The answer is B."));
    QCOMPARE(q(r.gold), QStringLiteral("B"));
    QCOMPARE(r.gold_index, 1);
    QCOMPARE(r.choices.size(), size_t(3));
    QCOMPARE(q(r.choices[0]), QStringLiteral("Answer: The answer is A."));
    QCOMPARE(q(r.choices[1]), QStringLiteral("Answer: The answer is B."));
    QCOMPARE(q(r.choices[2]), QStringLiteral("Answer: The answer is C."));
    QCOMPARE(rows[1].gold_index, 0);
    QCOMPARE(rows[1].line, int64_t(2));
  }

  void scienceqaErrors() {
    EXPECT_ERROR_HAS(error_of(fixture("scienceqa_out_of_range.jsonl"), spec_of(kFormatScienceQa)),
                     "scienceqa_out_of_range.jsonl:2:", "field \"answer\"", "out of range");
    EXPECT_ERROR_HAS(error_of(fixture("scienceqa_inconsistent.jsonl"), spec_of(kFormatScienceQa)),
                     "scienceqa_inconsistent.jsonl:3:", "field \"output\"", "field \"answer\"");
    EXPECT_ERROR_HAS(error_of(fixture("scienceqa_bad_choices.jsonl"), spec_of(kFormatScienceQa)),
                     "scienceqa_bad_choices.jsonl:1:", "field \"choices\"", "list of strings");
    EXPECT_ERROR_HAS(
        error_of(fixture("scienceqa_missing_choices.jsonl"), spec_of(kFormatScienceQa)),
        "scienceqa_missing_choices.jsonl:2:", "missing field \"choices\"");
  }

  // ---- GLUE --------------------------------------------------------------------------------
  void glueMrpc() {
    const auto rows = read_dataset_file(fixture("mrpc_train.tsv"), spec_of(kFormatGlue, "mrpc"));
    QCOMPARE(rows.size(), size_t(2));
    QCOMPARE(q(rows[0].input), QStringLiteral("Sentence 1: The cat sat on the mat .\nSentence 2: "
                                              "A cat was sitting on the mat ."));
    QCOMPARE(q(rows[0].output), QStringLiteral("Answer: equivalent"));
    QCOMPARE(q(rows[0].gold), QStringLiteral("equivalent"));
    QCOMPARE(rows[0].gold_index, 0);
    QCOMPARE(rows[0].line, int64_t(2));
    QCOMPARE(q(rows[1].output), QStringLiteral("Answer: not equivalent"));
    QCOMPARE(q(rows[1].gold), QStringLiteral("not equivalent"));
    QCOMPARE(rows[1].gold_index, 1);
    QCOMPARE(rows[1].choices.size(), size_t(2));
    QCOMPARE(q(rows[1].choices[0]), QStringLiteral("Answer: equivalent"));
    QCOMPARE(q(rows[1].choices[1]), QStringLiteral("Answer: not equivalent"));
    QVERIFY(!rows[1].instruction.empty());
    QVERIFY(rows[1].input.find("\"third\"") != std::string::npos);
  }

  void glueCola() {
    const auto rows = read_dataset_file(fixture("cola_train.tsv"), spec_of(kFormatGlue, "cola"));
    QCOMPARE(rows.size(), size_t(3));
    QCOMPARE(q(rows[0].input), QStringLiteral("The dog barked loudly."));
    QCOMPARE(q(rows[0].output), QStringLiteral("Answer: acceptable"));
    QCOMPARE(q(rows[0].gold), QStringLiteral("acceptable"));
    QCOMPARE(rows[0].gold_index, 0);
    QCOMPARE(q(rows[1].output), QStringLiteral("Answer: unacceptable"));
    QCOMPARE(rows[1].gold_index, 1);
    QCOMPARE(rows[2].line, int64_t(4));  // line 3 is blank
    QCOMPARE(q(rows[2].choices[1]), QStringLiteral("Answer: unacceptable"));
  }

  void glueRte() {
    const auto rows = read_dataset_file(fixture("rte_dev.tsv"), spec_of(kFormatGlue, "rte"));
    QCOMPARE(rows.size(), size_t(2));
    QCOMPARE(q(rows[0].input), QStringLiteral("Premise: The museum opened in 1990 in Lyon.\n"
                                              "Hypothesis: The museum is in Lyon."));
    QCOMPARE(q(rows[0].gold), QStringLiteral("entailment"));
    QCOMPARE(q(rows[1].output), QStringLiteral("Answer: not entailment"));
    QCOMPARE(rows[1].gold_index, 1);
  }

  void glueErrors() {
    EXPECT_ERROR_HAS(error_of(fixture("cola_bad_label.tsv"), spec_of(kFormatGlue, "cola")),
                     "cola_bad_label.tsv:2:", "field \"label\"", "\"2\"", "0", "1");
    EXPECT_ERROR_HAS(error_of(fixture("rte_bad_label.tsv"), spec_of(kFormatGlue, "rte")),
                     "rte_bad_label.tsv:4:", "field \"label\"", "maybe", "not_entailment");
    EXPECT_ERROR_HAS(error_of(fixture("mrpc_wrong_columns.tsv"), spec_of(kFormatGlue, "mrpc")),
                     "mrpc_wrong_columns.tsv:3:", "4 tab-separated columns", "expected 5");
    for (const auto& [file, task] : {std::pair<const char*, const char*>{"mrpc_test.tsv", "mrpc"},
                                     {"cola_test.tsv", "cola"},
                                     {"rte_test.tsv", "rte"}}) {
      EXPECT_ERROR_HAS(error_of(fixture(file), spec_of(kFormatGlue, task)),
                       std::string(file) + ":1:", "no labels", "cannot be scored");
    }
    // A CoLA file read as RTE: the header does not match.
    EXPECT_ERROR_HAS(error_of(fixture("cola_train.tsv"), spec_of(kFormatGlue, "rte")),
                     "cola_train.tsv:1:", "header");
  }

  // ---- CSV ---------------------------------------------------------------------------------
  void csvQuotesNewlinesCrlf() {
    DatasetSpec s = spec_of(kFormatCsv);
    s.csv_columns.instruction = "question";
    s.csv_columns.input = "context";
    s.csv_columns.output = "explanation";
    s.csv_columns.answer = "answer";
    s.csv_columns.choices = {"A", "B", "C", "D"};
    const auto rows = read_dataset_file(fixture("mcq.csv"), s);
    QCOMPARE(rows.size(), size_t(3));
    QCOMPARE(q(rows[0].instruction), QStringLiteral("Which gas do plants take in?"));
    QCOMPARE(q(rows[0].input), QString());
    QCOMPARE(q(rows[0].output), QStringLiteral("Plants take in \"carbon dioxide\"."));
    QCOMPARE(q(rows[0].gold), QStringLiteral("B"));
    QCOMPARE(rows[0].choices.size(), size_t(4));
    QCOMPARE(q(rows[0].choices[1]), QStringLiteral("carbon dioxide"));
    QCOMPARE(rows[0].gold_index, 1);  // letter B
    QCOMPARE(rows[0].line, int64_t(2));
    QCOMPARE(q(rows[1].instruction), QStringLiteral("Pick the number,\nthen explain"));
    QCOMPARE(q(rows[1].input), QStringLiteral("Two lines above"));
    QCOMPARE(rows[1].line, int64_t(3));
    QCOMPARE(rows[1].choices.size(), size_t(3));  // trailing empty choice D dropped
    QCOMPARE(rows[1].gold_index, 1);              // "2" equals choice B's text first
    QCOMPARE(q(rows[1].output), QStringLiteral("Because."));
    QCOMPARE(rows[2].line, int64_t(5));
    QCOMPARE(rows[2].choices.size(), size_t(2));
    QCOMPARE(rows[2].gold_index, 0);                       // "apple"
    QCOMPARE(q(rows[2].output), QStringLiteral("apple"));  // empty explanation → the answer
  }

  void csvErrors() {
    DatasetSpec s = spec_of(kFormatCsv);
    s.csv_columns.instruction = "question";
    s.csv_columns.output = "explanation";
    s.csv_columns.answer = "answer";
    EXPECT_ERROR_HAS(error_of(fixture("csv_missing_column.csv"), s), "csv_missing_column.csv",
                     "\"explanation\"", "csv_columns.output");
    EXPECT_ERROR_HAS(error_of(fixture("csv_wrong_fields.csv"), s),
                     "csv_wrong_fields.csv:3:", "2 fields, expected 3");
    EXPECT_ERROR_HAS(error_of(fixture("csv_unclosed_quote.csv"), s),
                     "csv_unclosed_quote.csv:3:", "not closed");
    QTemporaryDir dir;
    const QString p = dir.filePath(QStringLiteral("after_quote.csv"));
    write_bytes(p, "question,answer,explanation\r\n\"q1\"x,A,e\r\n");
    EXPECT_ERROR_HAS(error_of(p.toStdString(), s), "after_quote.csv:2:", "closing quote");
    const QString h = dir.filePath(QStringLiteral("header_only.csv"));
    write_bytes(h, "question,answer,explanation\r\n");
    EXPECT_ERROR_HAS(error_of(h.toStdString(), s), "header_only.csv: no examples");
  }

  // ---- the shared ScienceQA sample (MoLA's rows, CC BY-NC-SA: read in place) -----------------
  void scienceqaSharedSample_data() {
    QTest::addColumn<QString>("file");
    QTest::newRow("train") << QStringLiteral("train.jsonl");
    QTest::newRow("validation") << QStringLiteral("validation.jsonl");
  }

  void scienceqaSharedSample() {
    QFETCH(QString, file);
    const QString root =
        qEnvironmentVariable("AP_SHARED_DATA", QStringLiteral(AP_SOURCE_DIR "/../shared/data"));
    const QString path = root + QStringLiteral("/scienceqa-sample/") + file;
    if (!QFile::exists(path)) QSKIP(qPrintable(QStringLiteral("absent: ") + path));
    const auto rows = read_dataset_file(path.toStdString(), spec_of(kFormatScienceQa));
    QCOMPARE(rows.size(), size_t(200));
    std::ifstream in(path.toStdString());
    std::string text;
    int64_t line_no = 0;
    size_t k = 0;
    while (std::getline(in, text)) {
      ++line_no;
      if (text.empty()) continue;
      QVERIFY(k < rows.size());
      const auto raw = nlohmann::json::parse(text);
      const auto& r = rows[k++];
      QCOMPARE(r.line, line_no);
      QCOMPARE(q(r.instruction), q(raw.at("instruction").get<std::string>()));
      QCOMPARE(q(r.output), q(raw.at("output").get<std::string>()));
      QCOMPARE(r.choices.size(), raw.at("choices").size());
      QVERIFY(r.gold_index >= 0 && r.gold_index < static_cast<int>(r.choices.size()));
      QCOMPARE(q(r.gold), q(raw.at("answer").get<std::string>()));
      QCOMPARE(q(r.output),
               QStringLiteral("Answer: The answer is ") + q(r.gold) + QStringLiteral("."));
      QCOMPARE(q(r.choices[static_cast<size_t>(r.gold_index)]), q(r.output));
      for (size_t i = 0; i < r.choices.size(); ++i) {
        QCOMPARE(q(r.choices[i]), QStringLiteral("Answer: The answer is ") +
                                      QChar(QLatin1Char(static_cast<char>('A' + i))) +
                                      QStringLiteral("."));
      }
    }
    QCOMPARE(k, rows.size());
  }
};

QTEST_GUILESS_MAIN(TestDatasetReaders)
#include "tst_dataset_readers.moc"
