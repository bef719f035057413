// SPDX-License-Identifier: GPL-3.0-or-later
// The trainer's evaluation side: periodic and baseline evaluations (single-split suites and the
// datasets suite's per-split protocols), the reported numbers' checkpoint rule, protocol tags,
// and the adapters/backbone written at the end.
#include <filesystem>
#include <fstream>
#include <set>

#include "core/store/store_keys.h"
#include "core/tensor/safetensors.h"
#include "core/train/generate_eval.h"
#include "core/train/trainer_impl.h"

namespace apportion {
namespace fs = std::filesystem;

/// Logs the eval metrics at `step` and returns them (loss, mean and per-task accuracy; loss
/// only when pretraining). Uses no random numbers: fixed example order, dropout off, greedy
/// decoding, so an evaluation never shifts the training stream.
EvalResult Trainer::Impl::evaluate(int64_t step) {
  const int batch = cfg->train.micro_batch_size * 2;
  EvalResult out;
  if (cfg->is_pretraining()) {
    out.loss = evaluate_documents(built.model, eval_corpus, *eval_batcher, batch);
    metric(kMetricEvalLoss, step, out.loss);
    return out;
  }
  EvalScores scores;
  if (suite_evaluator) {
    scores = suite_evaluator->evaluate(built.model, step);
    out.loss = scores.loss;
    out.accuracy = scores.test_mean();
    out.task_accuracy = scores.test_acc;
  } else {
    out = evaluate_single_split(step, batch);
    scores.test_acc = out.task_accuracy;
    scores.loss = out.loss;
  }
  // The step-0 baseline is not a trained checkpoint: it never becomes the reported one.
  if (step != kBaselineStep && report->observe(step, scores)) {
    save_adapters("adapters-best.safetensors", "adapter_best", step);
  }
  return out;
}

/// The jsonl and builtin suites' evaluation: one eval list, teacher-forced or greedy
/// generation + first regex match (data.eval_mode).
EvalResult Trainer::Impl::evaluate_single_split(int64_t step, int batch) {
  EvalResult out = evaluate_examples(built.model, suite.eval, *eval_batcher, batch);
  metric(kMetricEvalLoss, step, out.loss);
  if (cfg->data.eval_mode != "generate") {
    metric(kMetricEvalAcc, step, out.accuracy);
    for (const auto& [task, acc] : out.task_accuracy) {
      metric(kMetricEvalAccPrefix + task, step, acc);
    }
    return out;
  }
  // Accuracy by greedy generation + answer extraction; predictions kept for auditing.
  GenerateEvalOptions g;
  g.answer_pattern = cfg->data.answer_pattern;
  g.max_new_tokens = cfg->data.max_new_tokens;
  g.max_seq_len = cfg->data.max_seq_len;
  g.batch_size = batch;
  const GenerateEvalResult gr = evaluate_generate(built.model, *tokenizer, suite.eval, g);
  out.accuracy = gr.accuracy;
  out.task_accuracy = gr.task_accuracy;
  metric(kMetricEvalAcc, step, gr.accuracy);
  for (const auto& [task, acc] : gr.task_accuracy) metric(kMetricEvalAccPrefix + task, step, acc);
  const std::string name = "predictions-step" + std::to_string(step) + ".jsonl";
  const fs::path path = fs::path(opt->run_dir) / name;
  {
    std::ofstream out_file(path, std::ios::binary | std::ios::trunc);
    for (const Prediction& p : gr.predictions) {
      out_file << nlohmann::json{{"task", p.task},     {"prompt", p.prompt},
                                 {"output", p.output}, {"extracted", p.extracted},
                                 {"gold", p.gold},     {"correct", p.correct}}
                      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
               << "\n";
    }
  }
  sink->on_artifact(
      ArtifactWritten{"predictions", name, step, static_cast<int64_t>(fs::file_size(path))});
  return out;
}

/// The step-0 baseline of a fresh fine-tuning run (store_keys.h): the periodic evaluation at
/// step 0, before any optimiser step, plus its baseline/* copies. The adapters are at their
/// initial state: LoRA and LoRA-MoE experts start with B = 0 (lora_adapter.cpp,
/// moe_lora_adapter.cpp), so their output is exactly zero and this is the untouched backbone
/// (GuiLoMo retrains, MoLA, uniform, plain LoRA, DR-LoRA and its static baseline alike). The
/// GuiLoMo search supernet is the exception: its A and B both start ~ N(0, init_std)
/// (gsv_moe_lora_adapter.cpp, the reference's stage-1 init), so its baseline is the backbone
/// plus a small random adapter output, the point the search starts from.
void Trainer::Impl::evaluate_baseline() {
  const auto step = static_cast<int64_t>(kBaselineStep);
  const EvalResult r = evaluate(step);
  metric(kMetricBaselineLoss, step, r.loss);
  metric(kMetricBaselineAccuracy, step, r.accuracy);
  for (const auto& [task, acc] : r.task_accuracy) {
    metric(kMetricBaselineAccPrefix + task, step, acc);
  }
  // Forget the eval forwards' router logits, so nothing of them reaches the first step.
  if (built.adapters) built.adapters->clear_caches();
  hooks->clear_caches();
  built.model->clear_router_cache();
}

/// protocol/<task> and split/<task> of every reported task (store_keys.h).
void Trainer::Impl::tag_protocols() {
  if (suite_evaluator) {
    suite_evaluator->tag_protocols();
    return;
  }
  const std::string id =
      cfg->data.eval_mode == "generate" ? kProtocolGreedyFirstMatch : kProtocolTeacherForced;
  std::set<std::string> tasks;
  for (const auto& ex : suite.eval) tasks.insert(ex.task);
  for (const auto& task : tasks) {
    sink->on_tag({kProtocolTagPrefix + task, id});
    sink->on_tag({kEvalSplitTagPrefix + task, "eval"});
  }
}

void Trainer::Impl::save_adapters(const std::string& name, const std::string& kind, int64_t step) {
  std::map<std::string, at::Tensor> tensors;
  for (const auto& [n, t] : built.trainable) tensors[n] = t.detach();
  for (const auto& [n, t] : built.upper_level) tensors[n] = t.detach();
  const fs::path path = fs::path(opt->run_dir) / name;
  std::map<std::string, std::string> metadata = {{"format", "apportion-moe-lora"},
                                                 {"method", cfg->adapters->method},
                                                 {"config", opt->config_json}};
  if (kind != "adapter") metadata["step"] = std::to_string(step);  // the chosen checkpoint's
  save_safetensors(path.string(), tensors, metadata);
  sink->on_artifact(ArtifactWritten{kind, name, step, static_cast<int64_t>(fs::file_size(path))});
}

void Trainer::Impl::write_outputs(int64_t step) {
  if (cfg->is_pretraining()) {
    const std::string out = resolve_workspace_path(opt->workspace_dir, cfg->backbone.output);
    save_pretrained(built.model, out);
    log("info", "wrote the pretrained backbone to " + out);
    sink->on_artifact(
        ArtifactWritten{"backbone", out, step,
                        static_cast<int64_t>(fs::file_size(fs::path(out) / "model.safetensors"))});
    return;
  }
  hooks->finish(step);
  save_adapters("adapters.safetensors", "adapter", step);
  report->finish(step, *sink);
}

}  // namespace apportion
