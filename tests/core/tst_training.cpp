// SPDX-License-Identifier: GPL-3.0-or-later
// Trainer tests on a tiny random or saved backbone, writing a real SQLite run store:
// resume equals an uninterrupted run (bit-exact adapters), a NaN loss fails the run and keeps the
// last good checkpoint, the store holds the expected series and matrices, the LR schedule.
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/common/error.h"
#include "core/common/uuid.h"
#include "core/data/jsonl_dataset.h"
#include "core/data/task_suite.h"
#include "core/model/grad_checkpoint.h"
#include "core/model/transformer_lm.h"
#include "core/store/run_reader.h"
#include "core/store/run_store.h"
#include "core/store/store_keys.h"
#include "core/tensor/safetensors.h"
#include "core/tokenizer/tokenizer.h"
#include "core/train/checkpointer.h"
#include "core/train/evaluator.h"
#include "core/train/generate_eval.h"
#include "core/train/lr_schedule.h"
#include "core/train/trainer.h"
#include "tests/core/test_util.h"

using namespace apportion;
namespace fs = std::filesystem;

namespace {

nlohmann::json tiny_config(const nlohmann::json& backbone) {
  auto j = nlohmann::json::parse(R"({
    "name": "tst-training",
    "adapters": {"method": "moe_lora", "r": 4, "lora_alpha": 8, "lora_dropout": 0.1,
                 "num_experts": 3, "top_k": 2, "balance": {"coef": 0.01}},
    "allocation": {"method": "mola", "experts_per_layer": [2, 3]},
    "data": {"train_examples": 48, "eval_examples": 9, "max_seq_len": 48},
    "train": {"steps": 6, "micro_batch_size": 4, "grad_accum": 2, "eval_every": 3,
              "log_every": 1, "log_matrices_every": 2, "checkpoint_every": 100,
              "warmup_steps": 2, "lr": 0.01},
    "seed": 11})");
  j["backbone"] = backbone;
  return j;
}

/// The tiny test backbone with the byte tokenizer's vocabulary.
ModelConfig tiny_byte_config() {
  ModelConfig c = test::tiny_llama_config();
  c.vocab_size = 260;
  return c;
}

nlohmann::json random_backbone() { return {{"config", tiny_byte_config().to_json()}}; }

struct RunOutcome {
  TrainResult result;
  std::string run_id;
};

/// Runs the trainer like `apportion train` does (store sink, run dir under the workspace).
RunOutcome run_trainer(const QString& ws,
                       const nlohmann::json& j,
                       const std::string& run_id,
                       bool resume,
                       int64_t stop_after,
                       EventSink* also = nullptr) {
  const auto cfg = ExperimentConfig::from_json(j);
  RunStore store((ws + QStringLiteral("/workspace.sqlite")).toStdString());
  RunStoreSink store_sink(store);
  FanoutSink sink(also ? std::vector<EventSink*>{&store_sink, also}
                       : std::vector<EventSink*>{&store_sink});
  TrainOptions opt;
  opt.run_id = run_id;
  opt.workspace_dir = ws.toStdString();
  opt.run_dir = ws.toStdString() + "/runs/" + run_id;
  opt.config_json = cfg.to_json().dump();
  opt.resume = resume;
  opt.stop_after_step = stop_after;
  opt.threads = 1;
  RunOutcome out{Trainer().run(cfg, opt, sink, StopToken()), run_id};
  store.flush();
  return out;
}

/// Counts the metric events per key (what the trainer sent, before the store's upsert).
class MetricKeyCounter : public EventSink {
 public:
  void on_metric(const MetricPoint& e) override { ++counts[e.key]; }
  int with_prefix(const std::string& prefix) const {
    int n = 0;
    for (const auto& [key, c] : counts) n += key.rfind(prefix, 0) == 0 ? c : 0;
    return n;
  }
  std::map<std::string, int> counts;
};

std::map<std::string, at::Tensor> adapters_of(const QString& ws, const std::string& run_id) {
  return load_safetensors(ws.toStdString() + "/runs/" + run_id + "/adapters.safetensors").tensors;
}

}  // namespace

class TestTraining : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { torch::set_num_threads(1); }

  void gradientCheckpointingMatchesPlainBackward() {
    torch::manual_seed(3);
    const auto w1 = torch::randn({8, 6}).requires_grad_(true);
    const auto w2 = torch::randn({6, 8}).requires_grad_(true);
    const auto x0 = torch::randn({5, 6});
    auto block = [&](const torch::Tensor& x) {
      auto h = torch::dropout(torch::relu(torch::matmul(x, w1.t())), 0.3, /*train=*/true);
      return torch::matmul(h, w2.t());
    };
    auto run = [&](bool checkpointing) {
      const auto x = x0.clone().requires_grad_(true);
      torch::manual_seed(42);
      const auto y = checkpointing ? checkpointed(block, x, {w1, w2}) : block(x);
      const auto loss = (y * y).sum();
      w1.mutable_grad() = torch::Tensor();
      w2.mutable_grad() = torch::Tensor();
      loss.backward();
      const auto next_random = torch::rand({1}).item<double>();  // the stream is undisturbed
      return std::make_tuple(loss.item<double>(), x.grad().clone(), w1.grad().clone(),
                             w2.grad().clone(), next_random);
    };
    const auto [l0, gx0, g10, g20, r0] = run(false);
    const auto [l1, gx1, g11, g21, r1] = run(true);
    QCOMPARE(l0, l1);
    QVERIFY(torch::allclose(gx0, gx1, 1e-6, 1e-6));
    QVERIFY(torch::allclose(g10, g11, 1e-6, 1e-6));
    QVERIFY(torch::allclose(g20, g21, 1e-6, 1e-6));
    QVERIFY(g10.abs().sum().item<double>() > 0);
    QCOMPARE(r0, r1);
  }

  void jsonlSuiteUsesTheAlpacaTemplateAndNamesBadLines() {
    QTemporaryDir dir;
    const std::string path = dir.path().toStdString() + "/qa.jsonl";
    {
      std::ofstream out(path);
      out << R"({"instruction": "Add 2 and 3.", "input": "", "output": "5", "answer": "5"})"
          << "\n\n"
          << R"({"instruction": "Translate", "input": "chat", "output": "cat"})"
          << "\n";
    }
    const auto examples = read_jsonl_examples(path, "alpaca", "qa");
    QCOMPARE(examples.size(), size_t{2});
    QCOMPARE(examples[0].prompt,
             std::string("Below is an instruction that describes a task. Write a response that "
                         "appropriately completes the request.\n\n### Instruction:\nAdd 2 and "
                         "3.\n\n### Response:\n"));
    QCOMPARE(examples[0].gold, std::string("5"));
    QVERIFY(examples[1].prompt.find("paired with an input") != std::string::npos);
    QVERIFY(examples[1].prompt.find("### Input:\nchat\n\n### Response:\n") != std::string::npos);
    QCOMPARE(examples[1].answer, std::string("cat"));
    {
      std::ofstream out(path, std::ios::app);
      out << R"({"instruction": "x", "output": 7})"
          << "\n";
    }
    try {
      read_jsonl_examples(path, "alpaca", "qa");
      QFAIL("a numeric output must be rejected");
    } catch (const DataError& e) {
      const std::string m = e.what();
      QVERIFY2(m.find("qa.jsonl:4") != std::string::npos, m.c_str());
      QVERIFY2(m.find("\"output\"") != std::string::npos, m.c_str());
    }
  }

  void bfloat16BackboneTrainsWithFloat32Adapters() {
    QTemporaryDir ws;
    auto j = tiny_config(random_backbone());
    j["train"]["dtype"] = "bfloat16";
    const auto r = run_trainer(ws.path(), j, make_uuid_hex(), false, -1);
    QVERIFY2(r.result.status == RunStatus::Finished, r.result.message.c_str());
    const auto a = adapters_of(ws.path(), r.run_id);
    QVERIFY(!a.empty());
    for (const auto& [name, t] : a) {
      QCOMPARE(t.scalar_type(), torch::kFloat32);
      QVERIFY2(torch::isfinite(t).all().item<bool>(), name.c_str());
    }
  }

  void generateEvalWritesAuditablePredictions() {
    QTemporaryDir ws;
    auto j = tiny_config(random_backbone());
    j["data"]["eval_mode"] = "generate";
    j["data"]["answer_pattern"] = "^\\s*(\\S+)";
    j["data"]["max_new_tokens"] = 6;
    const auto r = run_trainer(ws.path(), j, make_uuid_hex(), false, -1);
    QVERIFY2(r.result.status == RunStatus::Finished, r.result.message.c_str());
    const std::string path =
        ws.path().toStdString() + "/runs/" + r.run_id + "/predictions-step6.jsonl";
    std::ifstream in(path);
    QVERIFY2(in.good(), path.c_str());
    std::map<std::string, std::pair<int, int>> per_task;
    std::string line;
    int lines = 0;
    while (std::getline(in, line)) {
      const auto p = nlohmann::json::parse(line);
      ++lines;
      const bool correct = p.at("correct").get<bool>();
      // correct ⇔ a non-empty extraction equal to the gold answer
      QCOMPARE(correct,
               !p.at("extracted").get<std::string>().empty() && p.at("extracted") == p.at("gold"));
      QVERIFY(!p.at("gold").get<std::string>().empty());
      auto& ct = per_task[p.at("task").get<std::string>()];
      ct.first += correct ? 1 : 0;
      ct.second += 1;
    }
    QCOMPARE(lines, 9);
    double mean = 0.0;
    for (const auto& [task, ct] : per_task) mean += double(ct.first) / ct.second;
    mean /= static_cast<double>(per_task.size());
    RunReader reader(ws.path().toStdString() + "/workspace.sqlite");
    const auto acc = reader.metric_series(r.run_id, "eval/acc");
    QVERIFY(!acc.values.empty());
    QCOMPARE(acc.values.back(), mean);
  }

  void goldAnswerRules() {
    Example ex{"qa", "p", "Answer: The answer is C.", ""};
    QCOMPARE(gold_answer(ex, "The answer is ([A-Z])"), std::string("C"));
    ex.gold = " B ";
    QCOMPARE(gold_answer(ex, "The answer is ([A-Z])"), std::string("B"));
    Example plain{"t", "p", " 42 ", ""};
    QCOMPARE(gold_answer(plain, "The answer is ([A-Z])"), std::string("42"));
  }

  void gradientCheckpointedTrainingMatchesPlainTraining() {
    QTemporaryDir ws;
    auto j = tiny_config(random_backbone());
    j["adapters"]["balance"]["coef"] = 0.0;  // see grad_checkpoint.h: side outputs get no grad
    const auto plain = run_trainer(ws.path(), j, make_uuid_hex(), false, -1);
    j["train"]["gradient_checkpointing"] = true;
    const auto ckpt = run_trainer(ws.path(), j, make_uuid_hex(), false, -1);
    QVERIFY2(ckpt.result.status == RunStatus::Finished, ckpt.result.message.c_str());
    const auto a = adapters_of(ws.path(), plain.run_id);
    const auto b = adapters_of(ws.path(), ckpt.run_id);
    QCOMPARE(a.size(), b.size());
    double moved = 0.0;
    for (const auto& [name, t] : a) {
      QVERIFY2(torch::allclose(t, b.at(name), 1e-4, 1e-5), name.c_str());
      if (name.find("lora_B") != std::string::npos) moved += t.abs().sum().item<double>();
    }
    QVERIFY(moved > 0);  // B started at zero: training happened
  }

  void resumeEqualsUninterruptedRun() {
    QTemporaryDir ws;
    const auto j = tiny_config(random_backbone());
    const auto full = run_trainer(ws.path(), j, make_uuid_hex(), false, -1);
    QVERIFY2(full.result.status == RunStatus::Finished, full.result.message.c_str());
    QCOMPARE(full.result.last_step, int64_t{6});

    const std::string id = make_uuid_hex();
    const auto first = run_trainer(ws.path(), j, id, false, 3);
    QCOMPARE(first.result.status, RunStatus::Killed);
    QCOMPARE(first.result.last_step, int64_t{3});
    QVERIFY(fs::exists(ws.path().toStdString() + "/runs/" + id + "/checkpoint.pt"));
    const auto second = run_trainer(ws.path(), j, id, true, -1);
    QCOMPARE(second.result.status, RunStatus::Finished);

    const auto a = adapters_of(ws.path(), full.run_id);
    const auto b = adapters_of(ws.path(), id);
    QCOMPARE(a.size(), b.size());
    QVERIFY(!a.empty());
    for (const auto& [name, t] : a) {
      QVERIFY2(b.count(name), name.c_str());
      QVERIFY2(torch::equal(t, b.at(name)), ("differs after resume: " + name).c_str());
    }
    // The adapters did train (B starts at zero).
    bool any_nonzero_b = false;
    for (const auto& [name, t] : a) {
      if (name.find("lora_B") != std::string::npos)
        any_nonzero_b |= t.abs().sum().item<double>() > 0;
    }
    QVERIFY(any_nonzero_b);

    // The resumed run's metrics equal the uninterrupted run's, step by step (one row each).
    RunReader reader((ws.path() + QStringLiteral("/workspace.sqlite")).toStdString());
    const auto la = reader.metric_series(full.run_id, "train/loss");
    const auto lb = reader.metric_series(id, "train/loss");
    QCOMPARE(lb.steps, (std::vector<int64_t>{1, 2, 3, 4, 5, 6}));
    QCOMPARE(la.values, lb.values);
    QCOMPARE(reader.find_run(id)->status, RunStatus::Finished);
  }

  void storeHoldsSeriesAndMatrices() {
    QTemporaryDir ws;
    const auto out =
        run_trainer(ws.path(), tiny_config(random_backbone()), make_uuid_hex(), false, -1);
    QCOMPARE(out.result.status, RunStatus::Finished);
    RunReader reader((ws.path() + QStringLiteral("/workspace.sqlite")).toStdString());
    const auto run = reader.find_run(out.run_id);
    QVERIFY(run.has_value());
    QCOMPARE(QString::fromStdString(run->allocation_method), QStringLiteral("mola"));
    QCOMPARE(QString::fromStdString(run->params.at("adapters.top_k")), QStringLiteral("2"));
    QVERIFY(run->latest_metrics.count("eval/acc/lookup"));
    QVERIFY(run->latest_metrics.count("moe/balance_loss"));
    QCOMPARE(reader.metric_series(out.run_id, "eval/loss").steps,
             (std::vector<int64_t>{0, 3, 6}));  // 0: the baseline
    const auto experts = reader.matrix(out.run_id, "alloc/experts", 0);
    QVERIFY(experts.has_value());
    QCOMPARE(experts->shape, (std::vector<int64_t>{2, 7}));
    QCOMPARE(experts->i32[0], 2);  // layer 0, q_proj
    QCOMPARE(experts->i32[7], 3);  // layer 1, q_proj
    QCOMPARE(reader.matrix_steps(out.run_id, "moe/load_fraction"), (std::vector<int64_t>{2, 4, 6}));
    const auto load = reader.matrix(out.run_id, "moe/load_fraction", 6);
    QCOMPARE(load->shape, (std::vector<int64_t>{2, 7, 3}));
    // Layer 0 has 2 experts: its third column is padding; loads of real experts sum to 1.
    for (int m = 0; m < 7; ++m) {
      QVERIFY(std::isnan(load->values[static_cast<size_t>(m * 3 + 2)]));
      const float sum0 =
          load->values[static_cast<size_t>(m * 3)] + load->values[static_cast<size_t>(m * 3 + 1)];
      QVERIFY2(std::abs(sum0 - 1.0f) < 1e-4f, "layer 0 load fractions must sum to 1");
      float sum1 = 0;
      for (int e = 0; e < 3; ++e) sum1 += load->values[static_cast<size_t>(21 + m * 3 + e)];
      QVERIFY2(std::abs(sum1 - 1.0f) < 1e-4f, "layer 1 load fractions must sum to 1");
    }
  }

  void freshRunRecordsTheBackboneBaselineOnce() {
    QTemporaryDir ws;
    const std::string dir = ws.path().toStdString() + "/backbones/b";
    TransformerLM backbone(tiny_byte_config());
    save_pretrained(backbone, dir);
    const auto j = tiny_config({{"path", "backbones/b"}});
    const auto cfg = ExperimentConfig::from_json(j);
    // Independent reference: the saved backbone with no adapter at all, evaluated on the run's
    // eval split with the trainer's eval batch size (2 × micro_batch_size).
    TransformerLM plain = load_pretrained(dir);
    const Batcher batcher(std::shared_ptr<const Tokenizer>(load_tokenizer(dir)),
                          cfg.data.max_seq_len, /*train_on_inputs=*/false, cfg.data.add_eos);
    const EvalResult ref = evaluate_examples(plain, make_task_suite(cfg.data).eval, batcher,
                                             cfg.train.micro_batch_size * 2);
    QVERIFY(ref.task_accuracy.size() == 3);

    const std::string id = make_uuid_hex();
    MetricKeyCounter fresh;
    QCOMPARE(run_trainer(ws.path(), j, id, false, 3, &fresh).result.status, RunStatus::Killed);
    QCOMPARE(fresh.counts[kMetricBaselineAccuracy], 1);
    QCOMPARE(fresh.counts[kMetricBaselineLoss], 1);
    QCOMPARE(fresh.with_prefix(kMetricBaselineAccPrefix), 3);
    RunReader reader((ws.path() + QStringLiteral("/workspace.sqlite")).toStdString());
    auto check_baseline = [&] {
      const auto run = reader.find_run(id);
      QVERIFY(run.has_value());
      QCOMPARE(run->latest_steps.at(kMetricBaselineAccuracy), int64_t{0});
      QCOMPARE(run->latest_metrics.at(kMetricBaselineAccuracy), ref.accuracy);
      const double loss = run->latest_metrics.at(kMetricBaselineLoss);
      QVERIFY2(std::abs(loss - ref.loss) <= 1e-6 * ref.loss,
               (std::to_string(loss) + " vs " + std::to_string(ref.loss)).c_str());
      for (const auto& [task, acc] : ref.task_accuracy) {
        const std::string key = kMetricBaselineAccPrefix + task;
        QCOMPARE(run->latest_steps.at(key), int64_t{0});
        QCOMPARE(run->latest_metrics.at(key), acc);
      }
    };
    check_baseline();
    // The curves start at the baseline: eval/* at step 0 hold the same values.
    const auto acc = reader.metric_series(id, kMetricEvalAcc);
    QCOMPARE(acc.steps.front(), int64_t{0});
    QCOMPARE(acc.values.front(), ref.accuracy);
    const auto loss = reader.metric_series(id, kMetricEvalLoss);
    QCOMPARE(loss.steps, (std::vector<int64_t>{0, 3}));
    QCOMPARE(loss.values[0], reader.find_run(id)->latest_metrics.at(kMetricBaselineLoss));
    QVERIFY(loss.values[1] != loss.values[0]);  // training moved it: step 0 is before training

    // A resumed run sends no baseline (nor a step-0 eval) again and keeps the first one.
    MetricKeyCounter resumed;
    QCOMPARE(run_trainer(ws.path(), j, id, true, -1, &resumed).result.status, RunStatus::Finished);
    QCOMPARE(resumed.with_prefix("baseline/"), 0);
    QCOMPARE(reader.metric_series(id, kMetricEvalLoss).steps, (std::vector<int64_t>{0, 3, 6}));
    check_baseline();
  }

  void nanLossFailsAndKeepsLastGoodCheckpoint() {
    QTemporaryDir ws;
    // A saved backbone we can poison between the two invocations.
    const std::string dir = ws.path().toStdString() + "/backbones/b";
    TransformerLM model(tiny_byte_config());
    save_pretrained(model, dir);
    const auto j = tiny_config({{"path", "backbones/b"}});
    const std::string id = make_uuid_hex();
    QCOMPARE(run_trainer(ws.path(), j, id, false, 2).result.status, RunStatus::Killed);

    {
      torch::NoGradGuard no_grad;
      model->model->norm->weight.fill_(std::numeric_limits<float>::quiet_NaN());
    }
    save_pretrained(model, dir);
    const auto out = run_trainer(ws.path(), j, id, true, -1);
    QCOMPARE(out.result.status, RunStatus::Failed);
    QVERIFY2(out.result.message.find("loss became nan at step 3") != std::string::npos,
             out.result.message.c_str());
    RunReader reader((ws.path() + QStringLiteral("/workspace.sqlite")).toStdString());
    QCOMPARE(reader.find_run(id)->status, RunStatus::Failed);
    // The checkpoint on disk is still the good one from step 2.
    torch::serialize::InputArchive archive;
    archive.load_from(ws.path().toStdString() + "/runs/" + id + "/checkpoint.pt");
    torch::Tensor step;
    archive.read("step", step);
    QCOMPARE(step.item<int64_t>(), int64_t{2});
  }

  void resumeWithoutCheckpointIsAnError() {
    QTemporaryDir ws;
    try {
      run_trainer(ws.path(), tiny_config(random_backbone()), make_uuid_hex(), true, -1);
      QFAIL("no error");
    } catch (const CheckpointError& e) {
      QVERIFY2(std::string(e.what()).find("no checkpoint to resume from") != std::string::npos,
               e.what());
    }
  }

  void learningRateSchedule() {
    TrainConfig t;
    t.lr = 1.0;
    t.steps = 110;
    t.warmup_steps = 10;
    t.min_lr_ratio = 0.1;
    t.schedule = "cosine";
    // Hugging Face's stepping: optimiser step s uses λ(s − 1) (LambdaLR steps after the
    // optimiser), so step 1 of a warm-up trains at 0 (it was lr / W before the fix).
    QCOMPARE(learning_rate_at(t, 1), 0.0);
    QCOMPARE(learning_rate_at(t, 6), 0.5);
    QCOMPARE(learning_rate_at(t, 11), 1.0);
    QVERIFY(std::abs(learning_rate_at(t, 61) - 0.55) < 1e-12);  // halfway: 0.1 + 0.9 · 0.5
    // The last step is λ(T − 1): progress 99/100, as get_cosine_schedule_with_warmup.
    QVERIFY(std::abs(learning_rate_at(t, 110) - (0.1 + 0.9 * 0.5 * (1.0 + std::cos(M_PI * 0.99)))) <
            1e-12);
    t.schedule = "linear";
    QVERIFY(std::abs(learning_rate_at(t, 36) - (0.1 + 0.9 * 0.75)) < 1e-12);
    t.schedule = "constant";
    QCOMPARE(learning_rate_at(t, 100), 1.0);
  }
};

QTEST_APPLESS_MAIN(TestTraining)
#include "tst_training.moc"
