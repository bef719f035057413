// SPDX-License-Identifier: GPL-3.0-or-later
// Answer-token loss and teacher-forced exact-match accuracy per task.
#include "core/train/evaluator.h"

#include <torch/torch.h>

#include "core/model/eval_mode.h"

namespace apportion {
namespace {

/// Moves a batch's tensors to the device of the model's parameters.
void to_model_device(TransformerLM& model, Batch& batch) {
  const auto device = model->parameters().front().device();
  batch.input_ids = batch.input_ids.to(device);
  batch.attention_mask = batch.attention_mask.to(device);
  batch.labels = batch.labels.to(device);
  batch.answer_mask = batch.answer_mask.to(device);
}

}  // namespace

EvalResult evaluate_examples(TransformerLM& model,
                             const std::vector<Example>& examples,
                             const Batcher& batcher,
                             int batch_size) {
  EvalMode guard(model);
  torch::NoGradGuard no_grad;
  double loss_sum = 0.0;
  int64_t loss_tokens = 0;
  std::map<std::string, std::pair<int64_t, int64_t>> correct_total;
  for (size_t begin = 0; begin < examples.size(); begin += static_cast<size_t>(batch_size)) {
    std::vector<const Example*> rows;
    for (size_t i = begin; i < std::min(examples.size(), begin + batch_size); ++i) {
      rows.push_back(&examples[i]);
    }
    Batch batch = batcher.make_batch(rows);
    to_model_device(model, batch);
    const auto logits =
        model->forward(batch.input_ids, batch.attention_mask).to(torch::kFloat32);  // [B, T, V]
    const auto V = logits.size(-1);
    // Loss over answer positions only, whatever train_on_inputs says.
    const auto answer_labels =
        torch::where(batch.answer_mask, batch.labels, torch::full_like(batch.labels, kIgnoreIndex));
    const auto loss =
        torch::nn::functional::cross_entropy(logits.reshape({-1, V}), answer_labels.reshape({-1}),
                                             torch::nn::functional::CrossEntropyFuncOptions()
                                                 .ignore_index(kIgnoreIndex)
                                                 .reduction(torch::kSum));
    const int64_t n_tokens = batch.answer_mask.sum().item<int64_t>();
    loss_sum += loss.item<double>();
    loss_tokens += n_tokens;
    const auto predictions = logits.argmax(-1);  // [B, T]
    const auto wrong = (predictions != batch.labels).logical_and(batch.answer_mask);
    const auto row_correct = wrong.any(/*dim=*/1).logical_not();  // [B]
    for (size_t r = 0; r < rows.size(); ++r) {
      auto& ct = correct_total[batch.tasks[r]];
      ct.first += row_correct[static_cast<int64_t>(r)].item<bool>() ? 1 : 0;
      ct.second += 1;
    }
  }
  EvalResult result;
  result.loss = loss_tokens > 0 ? loss_sum / static_cast<double>(loss_tokens) : 0.0;
  double acc_sum = 0.0;
  for (const auto& [task, ct] : correct_total) {
    const double acc = static_cast<double>(ct.first) / static_cast<double>(ct.second);
    result.task_accuracy[task] = acc;
    acc_sum += acc;
  }
  result.accuracy = correct_total.empty() ? 0.0 : acc_sum / correct_total.size();
  return result;
}

double evaluate_documents(TransformerLM& model,
                          const std::vector<std::string>& documents,
                          const Batcher& batcher,
                          int batch_size) {
  EvalMode guard(model);
  torch::NoGradGuard no_grad;
  double loss_sum = 0.0;
  int64_t tokens = 0;
  for (size_t begin = 0; begin < documents.size(); begin += static_cast<size_t>(batch_size)) {
    std::vector<const std::string*> rows;
    for (size_t i = begin; i < std::min(documents.size(), begin + batch_size); ++i) {
      rows.push_back(&documents[i]);
    }
    Batch batch = batcher.make_text_batch(rows);
    to_model_device(model, batch);
    const auto logits = model->forward(batch.input_ids, batch.attention_mask).to(torch::kFloat32);
    const auto V = logits.size(-1);
    loss_sum +=
        torch::nn::functional::cross_entropy(logits.reshape({-1, V}), batch.labels.reshape({-1}),
                                             torch::nn::functional::CrossEntropyFuncOptions()
                                                 .ignore_index(kIgnoreIndex)
                                                 .reduction(torch::kSum))
            .item<double>();
    tokens += (batch.labels != kIgnoreIndex).sum().item<int64_t>();
  }
  return tokens > 0 ? loss_sum / static_cast<double>(tokens) : 0.0;
}

}  // namespace apportion
