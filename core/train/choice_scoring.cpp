// SPDX-License-Identifier: GPL-3.0-or-later
// Multiple-choice log-likelihoods and next-token label scores (see choice_scoring.h).
// Legend: N sequences in a batch, T longest sequence, V vocab.
#include "core/train/choice_scoring.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>

#include "core/common/error.h"
#include "core/model/eval_mode.h"

namespace apportion {
namespace {

/// Index of the maximum, the lowest index among ties (numpy.argmax).
int argmax(const std::vector<double>& v) {
  int best = v.empty() ? -1 : 0;
  for (size_t i = 1; i < v.size(); ++i) {
    if (v[i] > v[static_cast<size_t>(best)]) best = static_cast<int>(i);
  }
  return best;
}

/// Drops the oldest tokens so at most `limit` remain, keeping a leading BOS.
std::vector<int64_t> cut_left(std::vector<int64_t> ids, size_t limit, const Tokenizer& tok) {
  if (limit == 0 || ids.size() <= limit) return ids;
  const bool bos = tok.bos_id() && ids.front() == *tok.bos_id() && limit >= 2;
  std::vector<int64_t> cut(ids.end() - static_cast<std::ptrdiff_t>(limit - (bos ? 1 : 0)),
                           ids.end());
  if (bos) cut.insert(cut.begin(), ids.front());
  return cut;
}

/// Right-padded [N, T] ids and mask of token rows, on `device`.
std::pair<torch::Tensor, torch::Tensor> right_padded(const std::vector<std::vector<int64_t>>& rows,
                                                     int64_t pad,
                                                     const torch::Device& device) {
  size_t longest = 0;
  for (const auto& r : rows) longest = std::max(longest, r.size());
  const auto n = static_cast<int64_t>(rows.size());
  const auto t = static_cast<int64_t>(longest);
  auto ids = torch::full({n, t}, pad, torch::kInt64);  // [N, T]
  auto mask = torch::zeros({n, t}, torch::kInt64);     // [N, T]
  for (int64_t i = 0; i < n; ++i) {
    const auto& r = rows[static_cast<size_t>(i)];
    const auto len = static_cast<int64_t>(r.size());
    ids[i].narrow(0, 0, len).copy_(torch::tensor(r, torch::kInt64));
    mask[i].narrow(0, 0, len).fill_(1);
  }
  return {ids.to(device), mask.to(device)};
}

void check_ids(const std::vector<int64_t>& ids, int64_t vocab, const std::string& what) {
  for (int64_t id : ids) {
    AP_CHECK_AS(ModelError, id >= 0 && id < vocab, what, " has token id ", id,
                " outside the model's vocabulary (vocab_size ", vocab,
                "); use the model's own tokenizer");
  }
}

}  // namespace

std::pair<std::vector<int64_t>, std::vector<int64_t>> encode_context_continuation(
    const Tokenizer& tokenizer, const std::string& context, const std::string& continuation) {
  // lm-eval: n_spaces = len(context) - len(context.rstrip()); the spaces join the continuation.
  const size_t keep = context.find_last_not_of(" \t\r\n\f\v");
  const std::string ctx = keep == std::string::npos ? std::string() : context.substr(0, keep + 1);
  const std::string cont = context.substr(ctx.size()) + continuation;
  if (cont.empty()) throw DataError("mc_loglik: a choice is empty; every choice needs text");
  std::vector<int64_t> ctx_ids = tokenizer.encode(ctx, /*add_special_tokens=*/true);
  if (ctx_ids.empty()) {
    // lm-eval's prefix_token_id for an empty context.
    if (tokenizer.bos_id()) {
      ctx_ids = {*tokenizer.bos_id()};
    } else if (tokenizer.eos_id()) {
      ctx_ids = {*tokenizer.eos_id()};
    } else {
      throw DataError("mc_loglik: the context is empty and the tokenizer has no BOS or EOS");
    }
  }
  const std::vector<int64_t> whole = tokenizer.encode(ctx + cont, /*add_special_tokens=*/true);
  std::vector<int64_t> cont_ids;
  if (whole.size() > ctx_ids.size() && std::equal(ctx_ids.begin(), ctx_ids.end(), whole.begin())) {
    cont_ids.assign(whole.begin() + static_cast<std::ptrdiff_t>(ctx_ids.size()), whole.end());
  } else {
    cont_ids = tokenizer.encode(cont, /*add_special_tokens=*/false);
  }
  if (cont_ids.empty()) {
    throw DataError("mc_loglik: the choice \"" + continuation + "\" encodes to no tokens");
  }
  return {std::move(ctx_ids), std::move(cont_ids)};
}

std::vector<ChoiceScores> loglik_choices(TransformerLM& model,
                                         const Tokenizer& tokenizer,
                                         const std::vector<ChoiceRequest>& requests,
                                         int batch_size,
                                         int max_seq_len) {
  struct Item {
    size_t request = 0, choice = 0;
    std::vector<int64_t> ids;  ///< context then continuation
    int64_t cont_len = 0;
  };
  const int64_t vocab = model->config().vocab_size;
  std::vector<Item> items;
  std::vector<ChoiceScores> out(requests.size());
  for (size_t r = 0; r < requests.size(); ++r) {
    const auto& req = requests[r];
    AP_CHECK_AS(DataError, !req.choices.empty(), "mc_loglik: question ", r, " has no choices");
    out[r].loglik.assign(req.choices.size(), 0.0);
    out[r].loglik_norm.assign(req.choices.size(), 0.0);
    out[r].num_tokens.assign(req.choices.size(), 0);
    for (size_t c = 0; c < req.choices.size(); ++c) {
      auto [ctx, cont] = encode_context_continuation(tokenizer, req.context, req.choices[c]);
      const size_t cont_size = cont.size();
      if (max_seq_len > 0) {
        const size_t room = static_cast<size_t>(max_seq_len) > cont_size
                                ? static_cast<size_t>(max_seq_len) - cont_size
                                : 1;
        ctx = cut_left(std::move(ctx), std::max<size_t>(1, room), tokenizer);
      }
      Item it;
      it.request = r;
      it.choice = c;
      it.ids = std::move(ctx);
      it.ids.insert(it.ids.end(), cont.begin(), cont.end());
      it.cont_len = static_cast<int64_t>(cont_size);
      check_ids(it.ids, vocab, "mc_loglik: question " + std::to_string(r));
      items.push_back(std::move(it));
    }
  }
  // Longest first (as lm-eval) so a batch pads little; results go back by (request, choice).
  std::vector<size_t> order(items.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return items[a].ids.size() > items[b].ids.size(); });
  EvalMode eval_mode(model);
  torch::NoGradGuard no_grad;
  const auto device = model->parameters().front().device();
  const size_t step = static_cast<size_t>(std::max(1, batch_size));
  for (size_t begin = 0; begin < order.size(); begin += step) {
    const size_t end = std::min(order.size(), begin + step);
    std::vector<std::vector<int64_t>> rows;
    for (size_t i = begin; i < end; ++i) rows.push_back(items[order[i]].ids);
    auto [ids, mask] =
        right_padded(rows, tokenizer.pad_id() < vocab ? tokenizer.pad_id() : 0, device);
    const torch::Tensor logits = model->forward(ids, mask);  // [N, T, V]
    for (size_t i = begin; i < end; ++i) {
      const Item& it = items[order[i]];
      const auto row = static_cast<int64_t>(i - begin);
      const auto total = static_cast<int64_t>(it.ids.size());
      const int64_t first = total - it.cont_len;  // position of the first continuation token
      // Logits at positions first-1 … total-2 predict the continuation tokens.
      auto lp = torch::log_softmax(logits[row].narrow(0, first - 1, it.cont_len).to(torch::kFloat),
                                   /*dim=*/-1);
      auto targets = ids[row].narrow(0, first, it.cont_len).unsqueeze(1);  // [cont, 1]
      const double sum = lp.gather(/*dim=*/1, targets).to(torch::kDouble).sum().item<double>();
      ChoiceScores& s = out[it.request];
      s.loglik[it.choice] = sum;
      s.num_tokens[it.choice] = it.cont_len;
    }
  }
  for (size_t r = 0; r < requests.size(); ++r) {
    ChoiceScores& s = out[r];
    for (size_t c = 0; c < s.loglik.size(); ++c) {
      // The choice's bytes as scored, a leading target delimiter " " (templates qa and
      // choose) included; lm-eval counts the choice without it (docs/DESIGN_CHOICES.md).
      const auto bytes = static_cast<double>(requests[r].choices[c].size());
      AP_CHECK_AS(DataError, bytes > 0, "mc_loglik: question ", r, " has an empty choice ", c);
      s.loglik_norm[c] = s.loglik[c] / bytes;
    }
    s.best = argmax(s.loglik);
    s.best_norm = argmax(s.loglik_norm);
  }
  return out;
}

ChoiceScores loglik_choices(TransformerLM& model,
                            const Tokenizer& tokenizer,
                            const std::string& context,
                            const std::vector<std::string>& choices) {
  return loglik_choices(model, tokenizer, {ChoiceRequest{context, choices}}, 16, 0).front();
}

std::vector<int64_t> label_first_tokens(const Tokenizer& tokenizer,
                                        const std::vector<std::string>& labels) {
  std::vector<int64_t> first;
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::vector<int64_t> ids = tokenizer.encode(labels[i], /*add_special_tokens=*/false);
    if (ids.empty()) {
      throw ConfigError("label_next_token: label \"" + labels[i] +
                        "\" encodes to no tokens; give non-empty labels");
    }
    for (size_t j = 0; j < first.size(); ++j) {
      if (first[j] == ids.front()) {
        throw ConfigError("label_next_token: labels \"" + labels[j] + "\" and \"" + labels[i] +
                          "\" start with the same token (id " + std::to_string(ids.front()) +
                          "), so the next-token argmax cannot tell them apart; use labels "
                          "whose first tokens differ (e.g. single letters)");
      }
    }
    first.push_back(ids.front());
  }
  return first;
}

std::vector<LabelScores> label_next_token(TransformerLM& model,
                                          const Tokenizer& tokenizer,
                                          const std::vector<std::string>& prompts,
                                          const std::vector<std::string>& labels,
                                          int batch_size,
                                          int max_seq_len) {
  const std::vector<int64_t> label_ids = label_first_tokens(tokenizer, labels);
  const int64_t vocab = model->config().vocab_size;
  check_ids(label_ids, vocab, "label_next_token: the labels");
  std::vector<LabelScores> out(prompts.size());
  EvalMode eval_mode(model);
  torch::NoGradGuard no_grad;
  const auto device = model->parameters().front().device();
  const auto label_index = torch::tensor(label_ids, torch::kInt64).to(device);
  const size_t step = static_cast<size_t>(std::max(1, batch_size));
  for (size_t begin = 0; begin < prompts.size(); begin += step) {
    const size_t end = std::min(prompts.size(), begin + step);
    std::vector<std::vector<int64_t>> rows;
    std::vector<int64_t> last;
    for (size_t i = begin; i < end; ++i) {
      std::vector<int64_t> ids = tokenizer.encode(prompts[i], /*add_special_tokens=*/true);
      AP_CHECK_AS(DataError, !ids.empty(), "label_next_token: prompt ", i, " encodes to no tokens");
      ids = cut_left(std::move(ids), max_seq_len > 0 ? static_cast<size_t>(max_seq_len) : 0,
                     tokenizer);
      check_ids(ids, vocab, "label_next_token: prompt " + std::to_string(i));
      last.push_back(static_cast<int64_t>(ids.size()) - 1);
      rows.push_back(std::move(ids));
    }
    auto [ids, mask] =
        right_padded(rows, tokenizer.pad_id() < vocab ? tokenizer.pad_id() : 0, device);
    const torch::Tensor logits = model->forward(ids, mask);  // [N, T, V]
    const auto n = static_cast<int64_t>(rows.size());
    auto pos = torch::tensor(last, torch::kInt64).to(device);
    auto at_last = logits.index({torch::arange(n, pos.options()), pos});  // [N, V]
    auto picked = at_last.index_select(/*dim=*/1, label_index).to(torch::kDouble).to(torch::kCPU);
    auto acc = picked.accessor<double, 2>();
    for (int64_t i = 0; i < n; ++i) {
      LabelScores& s = out[begin + static_cast<size_t>(i)];
      for (size_t j = 0; j < label_ids.size(); ++j) {
        s.logits.push_back(acc[i][static_cast<int64_t>(j)]);
      }
      s.best = argmax(s.logits);
    }
  }
  return out;
}

}  // namespace apportion
