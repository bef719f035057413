// SPDX-License-Identifier: GPL-3.0-or-later
// Tests of the evaluation protocols' model side: beam search (against greedy, an exhaustive
// search and a naive unbatched re-implementation without a cache), multiple-choice
// log-likelihoods (against a naive per-sequence reference), and evaluate_protocol on models with
// planted answers: a tiny byte-level model trained for a few seconds to emit known outputs, and a
// hand-built "unigram" model whose next-token distribution is a fixed softmax, so the
// likelihood protocols' scores are computed by hand.
// Legend: B batch, T time, V vocab.
#include <torch/torch.h>

#include <QtTest>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "core/common/error.h"
#include "core/model/beam_search.h"
#include "core/model/generation.h"
#include "core/model/transformer_lm.h"
#include "core/tokenizer/builtin_byte_tokenizer.h"
#include "core/train/choice_scoring.h"
#include "core/train/protocol_eval.h"
#include "tests/core/test_util.h"

using namespace apportion;

namespace {

/// A model over the byte tokenizer's 259 ids (PAD 256, BOS 257, EOS 258).
ModelConfig byte_config(int hidden) {
  ModelConfig c = test::tiny_llama_config();
  c.vocab_size = 259;
  c.hidden_size = hidden;
  c.intermediate_size = 2 * hidden;
  c.max_position_embeddings = 1024;
  c.pad_token_id = 256;
  c.bos_token_id = 257;
  c.eos_token_id = 258;
  return c;
}

/// A tiny random model with peaked distributions (weights ~ N(0, 0.5²)), so near-ties are rare.
TransformerLM random_model(int vocab, uint64_t seed) {
  ModelConfig c = test::tiny_llama_config();
  c.vocab_size = vocab;
  torch::manual_seed(seed);
  TransformerLM m(c);
  torch::NoGradGuard g;
  for (auto& p : m->parameters()) p.normal_(0.0, 0.5);
  return m;
}

/// log_softmax of the next token after `ids`, from one unbatched forward without a cache.
std::vector<double> next_logp(TransformerLM& m, const std::vector<int64_t>& ids) {
  torch::NoGradGuard g;
  auto x = torch::tensor(ids, torch::kInt64).view({1, -1});
  auto lp = torch::log_softmax(m->forward(x)[0][-1].to(torch::kFloat), -1).to(torch::kDouble);
  return std::vector<double>(lp.data_ptr<double>(), lp.data_ptr<double>() + lp.numel());
}

struct RefHyp {
  double score;
  std::vector<int64_t> tokens;
  bool eos;
};

/// Naive beam search for one prompt, written from the HF algorithm's description: full
/// recomputation each step, candidates sorted by score, num_beams hypotheses kept.
std::vector<int64_t> naive_beam(
    TransformerLM& m, const std::vector<int64_t>& prompt, int k, int max_new, int64_t eos) {
  struct Beam {
    std::vector<int64_t> seq;
    double score;
  };
  std::vector<Beam> beams{{{}, 0.0}};
  for (int j = 1; j < k; ++j) beams.push_back({{}, -1e9});
  std::vector<RefHyp> hyps;
  auto add = [&](const std::vector<int64_t>& t, double sum, double len, bool e) {
    hyps.push_back({sum / len, t, e});
    std::stable_sort(hyps.begin(), hyps.end(),
                     [](const RefHyp& a, const RefHyp& b) { return a.score > b.score; });
    if (static_cast<int>(hyps.size()) > k) hyps.pop_back();
  };
  bool done = false;
  int generated = 0;
  for (int step = 0; step < max_new && !done; ++step) {
    std::vector<std::tuple<double, int, int64_t>> cand;
    for (int j = 0; j < k; ++j) {
      std::vector<int64_t> ids = prompt;
      ids.insert(ids.end(), beams[j].seq.begin(), beams[j].seq.end());
      const auto lp = next_logp(m, ids);
      for (size_t t = 0; t < lp.size(); ++t) cand.emplace_back(beams[j].score + lp[t], j, t);
    }
    std::stable_sort(cand.begin(), cand.end(),
                     [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
    const double cur_len = static_cast<double>(prompt.size() + step);
    std::vector<Beam> next;
    for (int r = 0; r < 2 * k && static_cast<int>(next.size()) < k; ++r) {
      const auto& [s, j, t] = cand[static_cast<size_t>(r)];
      if (t == eos) {
        if (r < k) add(beams[j].seq, s, cur_len, true);
      } else {
        auto seq = beams[j].seq;
        seq.push_back(t);
        next.push_back({seq, s});
      }
    }
    done = static_cast<int>(hyps.size()) >= k &&
           hyps.back().score >= std::get<0>(cand[0]) / (cur_len + 1);
    beams = next;
    generated = step + 1;
  }
  if (!done) {
    for (const auto& b : beams)
      add(b.seq, b.score, static_cast<double>(prompt.size() + generated), false);
  }
  std::vector<int64_t> out = hyps.front().tokens;
  if (hyps.front().eos) out.push_back(eos);
  return out;
}

/// The unigram model: every embedding is the all-ones vector and every layer's output
/// projections are zero, so the final hidden state is RMSNorm(1) = 1/sqrt(1 + eps) everywhere
/// and the logits are lm_head's row sums scaled by that: logit_t = s_t / sqrt(1 + eps).
TransformerLM unigram_model(const std::vector<std::pair<int64_t, double>>& logits) {
  ModelConfig c = byte_config(8);
  c.tie_word_embeddings = false;
  TransformerLM m(c);
  torch::NoGradGuard g;
  for (auto& item : m->named_parameters()) {
    const std::string& name = item.key();
    torch::Tensor& p = item.value();
    if (name.find("o_proj.weight") != std::string::npos ||
        name.find("down_proj.weight") != std::string::npos || name == "lm_head.weight") {
      p.zero_();
    } else if (name.find("embed_tokens") != std::string::npos) {
      p.fill_(1.0);
    }
  }
  for (const auto& [tok, s] : logits) m->lm_head->weight[tok].fill_(s / c.hidden_size);
  return m;
}

/// The unigram model's log-probabilities, by hand: s = 5 for ' ' and 'a', 3 for 'b', else 0.
struct Unigram {
  double c = 1.0 / std::sqrt(1.0 + 1e-5);  // RMSNorm of the ones vector (tiny config's eps)
  double lse = std::log(2 * std::exp(5 * c) + std::exp(3 * c) + 256.0);
  double sp = 5 * c - lse, a = 5 * c - lse, b = 3 * c - lse;
};

Example ex_of(const std::string& task,
              const std::string& prompt,
              const std::string& answer,
              const std::string& gold) {
  Example e;
  e.task = task;
  e.prompt = prompt;
  e.answer = answer;
  e.gold = gold;
  return e;
}

/// Planted (prompt, continuation) pairs the trained model learns (see initTestCase).
const std::vector<std::pair<std::string, std::string>> kPlanted = {
    {"Q1:", " The answer is A."},
    {"Q2:", " The answer is B. The answer is C."},
    {"Q3:", " no idea"},
    {"Q4:", " The answer is D!"},
    {"Q5:", " The answer is C."},
    {"G1:", " 1000+234\n#### 1,234"},
    {"G2:", " so 7\n\n#### 7"},
    {"G3:", " #### 5"},
    {"M1:", " The answer is: 2.0"},
    {"M2:", " The answer is: x+1"},
    {"M3:", " The answer is: 3"},
    {"M4:", " The answer is 5"},
    {"L1:", "B"},
    {"L2:", "C"},
    {"L3:", "A"},
};

}  // namespace

class TestProtocols : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    torch::set_num_threads(1);
    torch::manual_seed(7);
    // Train the planted model: each prompt → its continuation then EOS, loss on the
    // continuation; stop once teacher-forced argmax reproduces every continuation, plus margin.
    planted_ = TransformerLM(byte_config(64));
    std::vector<std::vector<int64_t>> rows;
    std::vector<size_t> prompt_len;
    for (const auto& [p, c] : kPlanted) {
      auto ids = tok_.encode(p, true);
      prompt_len.push_back(ids.size());
      const auto cont = tok_.encode(c, false);
      ids.insert(ids.end(), cont.begin(), cont.end());
      ids.push_back(258);
      rows.push_back(ids);
    }
    size_t longest = 0;
    for (const auto& r : rows) longest = std::max(longest, r.size());
    const auto n = static_cast<int64_t>(rows.size());
    auto ids = torch::full({n, static_cast<int64_t>(longest)}, 256, torch::kInt64);
    auto targets = torch::full({n, static_cast<int64_t>(longest)}, -100, torch::kInt64);
    auto mask = torch::zeros({n, static_cast<int64_t>(longest)}, torch::kInt64);
    for (int64_t i = 0; i < n; ++i) {
      const auto& r = rows[static_cast<size_t>(i)];
      for (size_t t = 0; t < r.size(); ++t) {
        ids[i][static_cast<int64_t>(t)] = r[t];
        mask[i][static_cast<int64_t>(t)] = 1;
        if (t >= prompt_len[static_cast<size_t>(i)]) targets[i][static_cast<int64_t>(t) - 1] = r[t];
      }
    }
    torch::optim::Adam opt(planted_->parameters(), torch::optim::AdamOptions(3e-3));
    int perfect_since = -1;
    for (int step = 0; step < 1500; ++step) {
      auto logits = planted_->forward(ids, mask);  // [B, T, V]
      auto loss = torch::nn::functional::cross_entropy(
          logits.view({-1, logits.size(2)}), targets.view({-1}),
          torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
      opt.zero_grad();
      loss.backward();
      opt.step();
      const auto pred = logits.argmax(-1);
      const bool perfect = (pred.eq(targets) | targets.eq(-100)).all().item<bool>();
      if (perfect && perfect_since < 0) perfect_since = step;
      if (!perfect) perfect_since = -1;
      if (perfect_since >= 0 && step - perfect_since >= 60) break;
    }
    planted_->eval();
    // The planted outputs must come out of greedy decoding, else the expectations below are
    // meaningless.
    GenerationOptions opt_g;
    opt_g.max_new_tokens = 48;
    std::vector<std::vector<int64_t>> prompts;
    for (const auto& pc : kPlanted) prompts.push_back(tok_.encode(pc.first, true));
    const auto out = generate_greedy(planted_, prompts, opt_g);
    for (size_t i = 0; i < kPlanted.size(); ++i) {
      const std::string got = tok_.decode(out.tokens[i], true);
      QVERIFY2(got == kPlanted[i].second && out.stopped_at_eos[i],
               ("planted model says \"" + got + "\" after " + kPlanted[i].first).c_str());
    }
  }

  void beam_one_equals_greedy() {
    auto m = random_model(8, 1);
    GenerationOptions o;
    o.max_new_tokens = 10;  // EOS (id 2) is reachable
    const std::vector<std::vector<int64_t>> prompts = {{1, 3, 4, 5}, {1, 6}, {1, 7, 7}};
    const auto greedy = generate_greedy(m, prompts, o);
    const auto beam = generate_beam(m, prompts, o, 1);
    QCOMPARE(beam.tokens, greedy.tokens);
    QCOMPARE(beam.stopped_at_eos, greedy.stopped_at_eos);
  }

  void beam_matches_exhaustive_search() {
    // K = V² beams over 3 steps keep every 2-token prefix, so the best of the final beams is
    // the argmax over all V³ continuations (same length: the normaliser is a constant).
    for (uint64_t seed : {2, 3}) {
      auto m = random_model(8, seed);
      GenerationOptions o;
      o.max_new_tokens = 3;
      o.eos_token_ids = {1000};  // unreachable
      const std::vector<std::vector<int64_t>> prompts = {{1, 3, 4, 5, 6}, {1, 2}};
      const auto beam = generate_beam(m, prompts, o, 64);
      for (size_t p = 0; p < prompts.size(); ++p) {
        double best = -1e300;
        std::vector<int64_t> arg;
        const auto l1 = next_logp(m, prompts[p]);
        for (int64_t a = 0; a < 8; ++a) {
          for (int64_t b = 0; b < 8; ++b) {
            auto ids = prompts[p];
            ids.push_back(a);
            const double s2 = l1[a] + next_logp(m, ids)[b];
            ids.push_back(b);
            const auto l3 = next_logp(m, ids);
            for (int64_t c = 0; c < 8; ++c) {
              if (s2 + l3[c] > best) {
                best = s2 + l3[c];
                arg = {a, b, c};
              }
            }
          }
        }
        QCOMPARE(beam.tokens[p], arg);
        QVERIFY(!beam.stopped_at_eos[p]);
      }
    }
  }

  void beam_cache_and_naive_reference() {
    // EOS reachable, batched prompts of different lengths: the cached and uncached paths agree
    // token for token, and both agree with the naive unbatched re-implementation.
    int eos_seen = 0, eos_missed = 0;
    for (uint64_t seed = 4; seed < 12; ++seed) {
      auto m = random_model(8, seed);
      GenerationOptions o;
      o.max_new_tokens = 8;
      const std::vector<std::vector<int64_t>> prompts = {{1, 3}, {1, 4, 5, 6, 7}, {1, 7, 3}};
      const auto cached = generate_beam(m, prompts, o, 3);
      o.use_cache = false;
      const auto uncached = generate_beam(m, prompts, o, 3);
      QCOMPARE(cached.tokens, uncached.tokens);
      for (size_t p = 0; p < prompts.size(); ++p) {
        QCOMPARE(cached.tokens[p], naive_beam(m, prompts[p], 3, 8, 2));
        (cached.stopped_at_eos[p] ? eos_seen : eos_missed) += 1;
      }
    }
    QVERIFY2(eos_seen > 0 && eos_missed > 0, "the cases must cover both endings");
  }

  void loglik_matches_naive_reference() {
    torch::manual_seed(11);
    TransformerLM m(byte_config(32));
    const std::vector<ChoiceRequest> reqs = {{"Question: 2+2?\nAnswer:", {" 4", " five", " 22"}},
                                             {"Hi ", {"there", "x"}},  // trailing space moves
                                             {"Long context here, more words.", {" a", " bc"}}};
    for (int batch : {1, 3, 16}) {
      const auto got = loglik_choices(m, tok_, reqs, batch, 0);
      for (size_t r = 0; r < reqs.size(); ++r) {
        const std::string& ctx = reqs[r].context;
        const size_t moved = ctx.size() - (ctx.find_last_not_of(' ') + 1);
        for (size_t c = 0; c < reqs[r].choices.size(); ++c) {
          const auto ids = tok_.encode(ctx + reqs[r].choices[c], true);
          const size_t cont = reqs[r].choices[c].size() + moved;
          double sum = 0.0;
          for (size_t t = ids.size() - cont; t < ids.size(); ++t) {
            sum += next_logp(m, std::vector<int64_t>(ids.begin(), ids.begin() + t))[ids[t]];
          }
          QVERIFY2(std::fabs(got[r].loglik[c] - sum) < 1e-5,
                   (std::to_string(got[r].loglik[c]) + " vs " + std::to_string(sum)).c_str());
          QCOMPARE(got[r].num_tokens[c], static_cast<int64_t>(cont));
          QCOMPARE(got[r].loglik_norm[c], got[r].loglik[c] / reqs[r].choices[c].size());
        }
      }
    }
    // max_seq_len cuts the oldest context tokens but keeps BOS and the whole continuation.
    const auto cut = loglik_choices(m, tok_, {{"abcdefgh", {" xy"}}}, 4, 6);
    const std::vector<int64_t> ids = {257, 'g', 'h', ' ', 'x', 'y'};
    const double ref = next_logp(m, {ids.begin(), ids.begin() + 3})[' '] +
                       next_logp(m, {ids.begin(), ids.begin() + 4})['x'] +
                       next_logp(m, {ids.begin(), ids.begin() + 5})['y'];
    QVERIFY(std::fabs(cut[0].loglik[0] - ref) < 1e-5);
  }

  void acc_norm_hand_case() {
    auto m = unigram_model({{' ', 5.0}, {'a', 5.0}, {'b', 3.0}});
    const Unigram u;
    // " b": sum -4.70 (acc's pick), -2.35/byte; " aaa": sum -5.40, -1.35/byte (acc_norm's).
    const ChoiceScores s = loglik_choices(m, tok_, "Answer:", {" b", " aaa"});
    QVERIFY(std::fabs(s.loglik[0] - (u.sp + u.b)) < 1e-4);
    QVERIFY(std::fabs(s.loglik[1] - (u.sp + 3 * u.a)) < 1e-4);
    QVERIFY(std::fabs(s.loglik_norm[0] - (u.sp + u.b) / 2) < 1e-4);
    QVERIFY(std::fabs(s.loglik_norm[1] - (u.sp + 3 * u.a) / 4) < 1e-4);
    QCOMPARE(s.best, 0);
    QCOMPARE(s.best_norm, 1);
  }

  void mc_loglik_protocol() {
    auto m = unigram_model({{' ', 5.0}, {'a', 5.0}, {'b', 3.0}});
    auto mc = [](std::vector<std::string> choices, int gold) {
      Example e = ex_of("obqa", "Answer:", "", "");
      e.choices = std::move(choices);
      e.gold_index = gold;
      return e;
    };
    // acc picks: 0, 1, 0, 0; acc_norm picks: 1, 0 (a tie of -1.35/byte: lowest index), 0, 1.
    const std::vector<Example> exs = {mc({" b", " aaa"}, 1), mc({" aaaa", " a"}, 0),
                                      mc({" a", " b"}, 0), mc({" b", " aaa"}, 0)};
    ProtocolSpec spec;
    spec.id = kProtocolMcLoglik;
    const auto r = evaluate_protocol(m, tok_, exs, spec, {}, 1, 64, 3);
    QCOMPARE(r.examples, int64_t(4));
    QCOMPARE(r.accuracy, 2.0 / 4.0);
    QCOMPARE(r.acc_norm, 3.0 / 4.0);
    QCOMPARE(r.parse_failures, int64_t(0));
    const Unigram u;
    QCOMPARE(r.predictions[1].extracted, std::string("1"));
    QCOMPARE(r.predictions[1].output, std::string(" a"));
    QVERIFY(r.predictions[1].correct_norm && !r.predictions[1].correct);
    QVERIFY(std::fabs(r.predictions[1].scores[0] - (u.sp + 4 * u.a)) < 1e-4);
    QVERIFY(std::fabs(r.predictions[1].scores_norm[1] - (u.sp + u.a) / 2) < 1e-4);
    QCOMPARE(r.predictions[0].protocol, std::string(kProtocolMcLoglik));
    // Missing choices: an error naming the task.
    const std::string err = test::error_of(
        [&] { evaluate_protocol(m, tok_, {ex_of("boolq", "x", "y", "")}, spec, {}, 1, 64, 3); });
    QVERIFY2(test::contains(err, "boolq") && test::contains(err, "choices"), err.c_str());
  }

  void label_scores_hand_case() {
    auto m = unigram_model({{' ', 5.0}, {'a', 5.0}, {'b', 3.0}});
    const Unigram u;
    const auto s = label_next_token(m, tok_, {"x", "a longer prompt"}, {"c", "b", "a"}, 1, 0);
    for (const auto& l : s) {
      QCOMPARE(l.best, 2);
      QVERIFY(std::fabs(l.logits[0]) < 1e-6 && std::fabs(l.logits[1] - 3 * u.c) < 1e-4 &&
              std::fabs(l.logits[2] - 5 * u.c) < 1e-4);
    }
    const std::string err = test::error_of([&] { label_first_tokens(tok_, {"ab", "ac"}); });
    QVERIFY2(test::contains(err, "\"ab\"") && test::contains(err, "\"ac\""), err.c_str());
    // Through the protocol: the label 'a' always wins; golds by index or by text.
    std::vector<Example> exs = {ex_of("t", "p1", "", ""), ex_of("t", "p2", "", ""),
                                ex_of("t", "p3", "", "a")};
    exs[0].gold_index = 2;  // "a"
    exs[1].gold_index = 1;  // "b"
    ProtocolSpec spec;
    spec.id = kProtocolLabelNextToken;
    spec.labels = {"c", "b", "a"};
    const auto r = evaluate_protocol(m, tok_, exs, spec, {}, 1, 64, 2);
    QCOMPARE(r.accuracy, 2.0 / 3.0);
    QCOMPARE(r.predictions[1].gold, std::string("b"));
    QCOMPARE(r.predictions[1].output, std::string("a"));
    QCOMPARE(r.predictions[1].scores.size(), size_t(3));
  }

  void generation_protocols_planted() {
    std::vector<Example> qa = {ex_of("csqa", "Q1:", "", "A"), ex_of("csqa", "Q2:", "", "B"),
                               ex_of("csqa", "Q3:", "", "A"), ex_of("csqa", "Q4:", "", "D"),
                               ex_of("csqa", "Q5:", "", "A")};
    ProtocolSpec spec;
    spec.id = kProtocolMolaRegex;  // Q1 right, Q2 two matches, Q3 none, Q4 "D!" right, Q5 wrong
    auto r = evaluate_protocol(planted_, tok_, qa, spec, {}, 1, 1024, 2);
    QCOMPARE(r.accuracy, 2.0 / 5.0);
    QCOMPARE(r.parse_failures, int64_t(2));
    QVERIFY(!r.predictions[1].parse_ok && !r.predictions[2].parse_ok);
    QCOMPARE(r.predictions[3].extracted, std::string("D"));
    QCOMPARE(r.predictions[4].extracted, std::string("C"));
    QCOMPARE(r.predictions[1].output, kPlanted[1].second);
    QCOMPARE(r.predictions[0].protocol, std::string(kProtocolMolaRegex));
    // First match: Q2's first answer counts; Q3 is the only failure.
    for (const char* id : {kProtocolGreedyFirstMatch, kProtocolBeamFirstMatch}) {
      ProtocolSpec first;
      first.id = id;
      first.pattern = "The answer is ([A-Z])";
      first.num_beams = 3;
      r = evaluate_protocol(planted_, tok_, qa, first, {}, 1, 1024, 4);
      QVERIFY2(r.accuracy == 3.0 / 5.0, id);
      QCOMPARE(r.parse_failures, int64_t(1));
      QCOMPARE(r.predictions[1].extracted, std::string("B"));
    }
    // GSM8K: "1,234" = "1234"; G2's answer lies after the "\n\n" stop; "5" = "$5".
    const std::vector<Example> gsm = {ex_of("gsm8k", "G1:", "", "1234"),
                                      ex_of("gsm8k", "G2:", "", "7"),
                                      ex_of("gsm8k", "G3:", "", "$5")};
    spec.id = kProtocolGsm8k;
    r = evaluate_protocol(planted_, tok_, gsm, spec, {}, 1, 1024, 3);
    QCOMPARE(r.accuracy, 2.0 / 3.0);
    QCOMPARE(r.parse_failures, int64_t(1));
    QCOMPARE(r.predictions[1].output, std::string(" so 7"));  // cut at the stop string
    QCOMPARE(r.predictions[0].extracted, std::string("1,234"));
    // GuiLoMo math: the output keeps its EOS ("<eos>" for the byte tokenizer stands for "</s>").
    const std::vector<Example> math = {
        ex_of("math", "M1:", "", "2"), ex_of("math", "M2:", "", "x+1"),
        ex_of("math", "M3:", "", "4"), ex_of("math", "M4:", "", "5")};
    spec.id = kProtocolMathAnswerIs;
    r = evaluate_protocol(planted_, tok_, math, spec, {}, 1, 1024, 4);
    QCOMPARE(r.accuracy, 2.0 / 4.0);
    QCOMPARE(r.parse_failures, int64_t(1));
    QCOMPARE(r.predictions[0].output, std::string(" The answer is: 2.0<eos>"));
    QCOMPARE(r.predictions[0].extracted, std::string("2.0"));
  }

  void label_next_token_planted() {
    std::vector<Example> exs = {ex_of("arc", "L1:", "", ""), ex_of("arc", "L2:", "", "D"),
                                ex_of("arc", "L3:", "", "")};
    exs[0].gold_index = 1;  // "B", planted
    exs[2].gold_index = 0;  // "A", planted
    ProtocolSpec spec;
    spec.id = kProtocolLabelNextToken;
    spec.labels = {"A", "B", "C", "D", "E"};
    const auto r = evaluate_protocol(planted_, tok_, exs, spec, {}, 1, 64, 8);
    QCOMPARE(r.accuracy, 2.0 / 3.0);
    QCOMPARE(r.predictions[1].output, std::string("C"));
    QCOMPARE(r.predictions[1].gold, std::string("D"));
    QVERIFY(std::isnan(r.acc_norm));
  }

  void fewshot_prompts() {
    std::vector<Example> pool = {ex_of("t", "Q1:", " a1", ""), ex_of("t", "P2:", " a2", ""),
                                 ex_of("t", "P3:", " a3", ""), ex_of("t", "Q1:", " dup", "")};
    pool.push_back(ex_of("t", "P5:", "", ""));
    pool.back().choices = {" no", " yes"};
    pool.back().gold_index = 1;
    ProtocolSpec spec;
    spec.id = kProtocolGreedyFirstMatch;
    spec.num_fewshot = 3;
    const Example q = ex_of("t", "Q1:", "", "A");
    const std::string p = fewshot_prompt(q, 0, spec, pool, 9);
    QCOMPARE(p, fewshot_prompt(q, 0, spec, pool, 9));  // deterministic
    // The three other prompts, never "Q1:" itself, each "prompt + target", then the prompt.
    QVERIFY2(test::contains(p, "P2: a2\n\n") && test::contains(p, "P3: a3\n\n") &&
                 test::contains(p, "P5: yes\n\n") && !test::contains(p, "dup"),
             p.c_str());
    QCOMPARE(p.substr(p.size() - 5), std::string("\n\nQ1:"));
    QCOMPARE(p.size(), std::string("P2: a2\n\nP3: a3\n\nP5: yes\n\nQ1:").size());
    bool order_varies = false;
    for (size_t i = 1; i < 8; ++i) order_varies |= fewshot_prompt(q, i, spec, pool, 9) != p;
    QVERIFY(order_varies);
    spec.num_fewshot = 0;
    QCOMPARE(fewshot_prompt(q, 0, spec, pool, 9), std::string("Q1:"));
    // evaluate_protocol records the prompt as fed.
    spec.num_fewshot = 1;
    spec.max_new_tokens = 2;
    const auto r = evaluate_protocol(planted_, tok_, {q}, spec, pool, 9, 1024, 1);
    QCOMPARE(r.predictions[0].prompt, fewshot_prompt(q, 0, spec, pool, 9));
  }

  void rejects_teacher_forced() {
    ProtocolSpec spec;  // teacher_forced
    QVERIFY_THROWS_EXCEPTION(ConfigError,
                             evaluate_protocol(planted_, tok_, {}, spec, {}, 1, 64, 1));
  }

 private:
  tok::BuiltinByteTokenizer tok_;
  TransformerLM planted_{nullptr};
};

QTEST_GUILESS_MAIN(TestProtocols)
#include "tst_protocols.moc"
