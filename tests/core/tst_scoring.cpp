// SPDX-License-Identifier: GPL-3.0-or-later
// Tests of the protocols' text rules (core/scoring/answer_rules.h): MoLA's exactly-one-match
// rule and its '.' wildcard, first match, lm-eval's GSM8K extraction and normalisation with stop
// strings, GuiLoMo's numeric comparison, and the seeded few-shot helpers. Expected values are
// written out by hand from the reference scorers' behaviour (BENCHMARKS.md).
#include <QtTest>
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "core/common/error.h"
#include "core/scoring/answer_rules.h"

using namespace apportion;

namespace {

const std::string kMola = "The answer is ([A-Z]).";

}  // namespace

class TestScoring : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void mola_exactly_one_match() {
    const AnswerMatch m = score_mola_regex("Let me think. The answer is B.", "B", kMola);
    QVERIFY(m.parse_ok);
    QVERIFY(m.correct);
    QCOMPARE(m.extracted, std::string("B"));
    const AnswerMatch wrong = score_mola_regex("The answer is C.", " B\n", kMola);
    QVERIFY(wrong.parse_ok);
    QVERIFY(!wrong.correct);
    QCOMPARE(wrong.extracted, std::string("C"));
  }

  void mola_two_matches_fail() {
    // Even when both matches agree with the gold, two matches are a failure.
    for (const char* out :
         {"The answer is B. The answer is C.", "The answer is B. The answer is B."}) {
      const AnswerMatch m = score_mola_regex(out, "B", kMola);
      QVERIFY2(!m.parse_ok, out);
      QVERIFY(!m.correct);
      QVERIFY(m.extracted.empty());
    }
  }

  void mola_no_match_fails() {
    const AnswerMatch m = score_mola_regex("I do not know", "A", kMola);
    QVERIFY(!m.parse_ok);
    QVERIFY(!m.correct);
    // Lower-case letters are not [A-Z]; the final '.' needs a character after the letter.
    QVERIFY(!score_mola_regex("The answer is b.", "b", kMola).parse_ok);
    QVERIFY(!score_mola_regex("The answer is B", "B", kMola).parse_ok);
  }

  void mola_dot_is_a_wildcard() {
    const AnswerMatch m = score_mola_regex("The answer is B!", "B", kMola);
    QVERIFY(m.parse_ok);
    QVERIFY(m.correct);
    QVERIFY(score_mola_regex("The answer is D)", "D", kMola).correct);
    // Non-overlapping: "The answer is A.The answer is B." is two matches.
    QCOMPARE(find_all_matches("The answer is A.The answer is B.", kMola),
             (std::vector<std::string>{"A", "B"}));
    // Without a group the whole match is taken (group 0).
    QCOMPARE(find_all_matches("answer2 then answer5", "answer[1-5]"),
             (std::vector<std::string>{"answer2", "answer5"}));
  }

  void first_match() {
    const AnswerMatch m = score_first_match("answer3, no, answer1", "answer3", "answer1|answer3");
    QVERIFY(m.parse_ok);
    QVERIFY(m.correct);
    QCOMPARE(m.extracted, std::string("answer3"));
    const AnswerMatch two =
        score_first_match("The answer is B. The answer is C.", "B", "The answer is ([A-Z])");
    QVERIFY(two.parse_ok);  // first match counts, unlike MoLA
    QVERIFY(two.correct);
    const AnswerMatch none = score_first_match("maybe", "true", "true|false");
    QVERIFY(!none.parse_ok);
    QVERIFY(!none.correct);
    // A bad pattern is a ConfigError, not a crash.
    QVERIFY_THROWS_EXCEPTION(ConfigError, score_first_match("x", "x", "([A-Z"));
  }

  void gsm8k_extraction() {
    const std::string pat = "#### (\\-?[0-9\\.\\,]+)";
    const std::vector<std::string> stop = {"\n\n", "Question:"};
    AnswerMatch m = score_gsm8k(" 1000 + 234 = 1234\n#### 1,234", "1234", pat, stop);
    QVERIFY(m.parse_ok);
    QCOMPARE(m.extracted, std::string("1,234"));  // the raw match; normalised only to compare
    QVERIFY(m.correct);
    // The gold side is normalised the same way ("$5" → "5"; a whole solution → its number).
    QVERIFY(score_gsm8k("#### 5", "$5", pat, stop).correct);
    QVERIFY(score_gsm8k("#### 5", "she pays 2+3=5\n#### $5", pat, stop).correct);
    QVERIFY(score_gsm8k("#### 72.", "72", pat, stop).correct);  // lm-eval's "\.$"
    QVERIFY(score_gsm8k("#### -3", "-3", pat, stop).correct);
    QVERIFY(!score_gsm8k("#### 12", "1234", pat, stop).correct);
    // The first match counts.
    m = score_gsm8k("#### 7 #### 8", "8", pat, stop);
    QCOMPARE(m.extracted, std::string("7"));
    QVERIFY(!m.correct);
    // "$5" is not matched by the pattern: a failure.
    QVERIFY(!score_gsm8k("#### $5", "5", pat, stop).parse_ok);
    QCOMPARE(gsm8k_normalize("$1,234.\n"), std::string("1234"));
  }

  void gsm8k_stop_strings() {
    const std::string pat = "#### (\\-?[0-9\\.\\,]+)";
    const std::vector<std::string> stop = {"\n\n", "Question:"};
    QCOMPARE(cut_at_stop("a\n\nb Question: c", stop), std::string("a"));
    QCOMPARE(cut_at_stop("a Question: b\n\nc", stop), std::string("a "));
    QCOMPARE(cut_at_stop("abc", stop), std::string("abc"));
    // The answer after the first stop string is never seen.
    AnswerMatch m = score_gsm8k(" so 7\n\n#### 7", "7", pat, stop);
    QVERIFY(!m.parse_ok);
    QVERIFY(!m.correct);
    m = score_gsm8k(" #### 7 Question: #### 8", "7", pat, stop);
    QVERIFY(m.correct);
    // The protocol's defaults.
    ProtocolSpec spec;
    spec.id = kProtocolGsm8k;
    QCOMPARE(protocol_stop(spec), stop);
    QVERIFY(!score_answer(spec, " so 7\n\n#### 7", "7").parse_ok);
    QVERIFY(score_answer(spec, "#### 1,234\n\n", "1234").correct);
    spec.id = kProtocolMolaRegex;
    QVERIFY(protocol_stop(spec).empty());
    spec.stop = {"###"};
    QVERIFY(score_answer(spec, "The answer is A. ### The answer is B.", "A").correct);
  }

  void math_numeric_and_string() {
    const std::string pat = "The answer is: (.*)</s>";
    AnswerMatch m = score_math_answer_is("so 1+1=2\nThe answer is: 2.0</s>", "2", pat);
    QVERIFY(m.parse_ok);
    QCOMPARE(m.extracted, std::string("2.0"));
    QVERIFY(m.correct);
    QVERIFY(score_math_answer_is("The answer is: 1,000</s>", "1000.00001", pat).correct);
    QVERIFY(!score_math_answer_is("The answer is: 2.001</s>", "2", pat).correct);
    // Non-numeric: exact comparison after trimming.
    QVERIFY(score_math_answer_is("The answer is: x+1 </s>", "x+1", pat).correct);
    QVERIFY(!score_math_answer_is("The answer is: x+1</s>", "1+x", pat).correct);
    QVERIFY(!score_math_answer_is("The answer is: 2 apples</s>", "2", pat).correct);
    // No EOS text (output decoded without special tokens, or cut at max_new_tokens): failure.
    m = score_math_answer_is("The answer is: 2", "2", pat);
    QVERIFY(!m.parse_ok);
    QVERIFY(!m.correct);
    double v = 0.0;
    QVERIFY(parse_number(" -1,234.5 ", v));
    QCOMPARE(v, -1234.5);
    QVERIFY(!parse_number("12abc", v));
    QVERIFY(!parse_number("", v));
    QVERIFY(!parse_number("0x10", v));
  }

  void dispatch_rejects_non_text_protocols() {
    ProtocolSpec spec;
    spec.id = kProtocolMcLoglik;
    QVERIFY_THROWS_EXCEPTION(ConfigError, score_answer(spec, "x", "x"));
    spec.id = kProtocolMolaRegex;  // default pattern "The answer is ([A-Z])."
    QVERIFY(score_answer(spec, "The answer is B!", "B").correct);
    QVERIFY(!score_answer(spec, "The answer is B. The answer is B.", "B").parse_ok);
  }

  void fewshot_helpers() {
    const auto a = fewshot_indices(10, 3, 42, /*exclude_index=*/4);
    QCOMPARE(a.size(), size_t(3));
    QCOMPARE(a, fewshot_indices(10, 3, 42, 4));  // deterministic
    QCOMPARE(std::set<size_t>(a.begin(), a.end()).size(), size_t(3));
    for (size_t i : a) {
      QVERIFY(i < 10);
      QVERIFY(i != 4);
    }
    // Every index but the excluded one, when k exceeds the pool.
    auto all = fewshot_indices(5, 9, 7, 2);
    std::sort(all.begin(), all.end());
    QCOMPARE(all, (std::vector<size_t>{0, 1, 3, 4}));
    QVERIFY(fewshot_indices(0, 3, 1, -1).empty());
    QVERIFY(fewshot_indices(5, 0, 1, -1).empty());
    // Different seeds give different draws (over a pool of 1000 a collision is ~1e-9).
    QVERIFY(fewshot_indices(1000, 3, 1, -1) != fewshot_indices(1000, 3, 2, -1));
    // The first draw is uniform over the pool: every index shows up over many seeds.
    std::set<size_t> firsts;
    for (uint64_t s = 0; s < 200; ++s) firsts.insert(fewshot_indices(4, 1, s, -1).front());
    QCOMPARE(firsts.size(), size_t(4));
    QCOMPARE(join_fewshot({"Q: a\nA: 1", "Q: b\nA: 2"}, "Q: c\nA:"),
             std::string("Q: a\nA: 1\n\nQ: b\nA: 2\n\nQ: c\nA:"));
    QCOMPARE(join_fewshot({}, "Q: c\nA:"), std::string("Q: c\nA:"));
  }
};

QTEST_GUILESS_MAIN(TestScoring)
#include "tst_scoring.moc"
