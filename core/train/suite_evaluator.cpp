// SPDX-License-Identifier: GPL-3.0-or-later
// Per-split, per-protocol evaluation of the datasets suite, its metrics and predictions file.
#include "core/train/suite_evaluator.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/common/clock.h"
#include "core/store/store_keys.h"
#include "core/train/evaluator.h"
#include "core/train/protocol_eval.h"

namespace apportion {
namespace fs = std::filesystem;

SuiteEvaluator::SuiteEvaluator(const DatasetSuite& suite,
                               const Tokenizer& tokenizer,
                               const Batcher& eval_batcher,
                               SuiteEvalOptions options,
                               EventSink& sink)
    : suite_(suite),
      tokenizer_(tokenizer),
      eval_batcher_(eval_batcher),
      options_(std::move(options)),
      sink_(sink) {}

void SuiteEvaluator::tag_protocols() const {
  for (const EvalSplit& e : suite_.evals) {
    if (e.role != kRoleTest) continue;
    sink_.on_tag({kProtocolTagPrefix + e.task, e.protocol.id});
    sink_.on_tag({kEvalSplitTagPrefix + e.task, e.split});
  }
}

EvalScores SuiteEvaluator::evaluate(TransformerLM& model, int64_t step) {
  const int64_t now = now_ms();
  auto metric = [&](const std::string& key, double value) {
    sink_.on_metric(MetricPoint{key, step, value, now});
  };
  EvalScores scores;
  double loss_sum = 0.0;
  int loss_splits = 0;
  std::vector<Prediction> predictions;
  for (const EvalSplit& e : suite_.evals) {
    const bool test = e.role == kRoleTest;
    // The answer-token loss under teacher forcing (and its exact match) for every split.
    const EvalResult tf = evaluate_examples(model, e.examples, eval_batcher_, options_.batch_size);
    if (test) {
      loss_sum += tf.loss;
      ++loss_splits;
    }
    double acc = tf.accuracy;
    if (e.protocol.id != kProtocolTeacherForced) {
      ProtocolEvalResult r =
          evaluate_protocol(model, tokenizer_, e.examples, e.protocol, suite_.fewshot_pool(e.task),
                            options_.fewshot_seed, options_.max_seq_len, options_.batch_size);
      acc = r.accuracy;
      if (test) {
        metric(kMetricEvalParseFailPrefix + e.task, static_cast<double>(r.parse_failures));
        if (!std::isnan(r.acc_norm)) {
          scores.test_acc_norm[e.task] = r.acc_norm;
          metric(kMetricEvalAccNormPrefix + e.task, r.acc_norm);
        }
      }
      for (auto& p : r.predictions) {
        p.split = e.split;
        predictions.push_back(std::move(p));
      }
    }
    if (test) {
      scores.test_acc[e.task] = acc;
      metric(kMetricEvalAccPrefix + e.task, acc);
    } else {
      scores.val_acc[e.task] = acc;
      metric(kMetricValAccPrefix + e.task, acc);
    }
  }
  if (loss_splits > 0) {
    scores.loss = loss_sum / loss_splits;
    metric(kMetricEvalLoss, scores.loss);
  }
  if (!scores.test_acc.empty()) metric(kMetricEvalAcc, scores.test_mean());
  if (!scores.val_acc.empty()) metric(kMetricValAcc, scores.val_mean());
  if (!predictions.empty()) {
    const std::string name = "predictions-step" + std::to_string(step) + ".jsonl";
    const fs::path path = fs::path(options_.run_dir) / name;
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      for (const Prediction& p : predictions) {
        out << nlohmann::json{{"task", p.task},         {"split", p.split},
                              {"protocol", p.protocol}, {"prompt", p.prompt},
                              {"output", p.output},     {"extracted", p.extracted},
                              {"gold", p.gold},         {"parse_ok", p.parse_ok},
                              {"correct", p.correct},   {"scores", p.scores}}
                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
            << "\n";
      }
    }
    sink_.on_artifact(
        ArtifactWritten{"predictions", name, step, static_cast<int64_t>(fs::file_size(path))});
  }
  return scores;
}

}  // namespace apportion
